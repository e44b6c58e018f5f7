"""Where an update's time goes: build once, then add articles one process at a time, as `newsbot add` does.

    python bench/scale/adds.py WORK --build            # WORK/seeds from corpus.py; builds WORK/index
    python bench/scale/adds.py WORK --adds 1,1,100     # each add in a fresh process: load + update_index
    python bench/scale/adds.py WORK --adds 1 --profile # the same, with the top of a cProfile
    python bench/scale/adds.py WORK --serial 200       # 200 articles added one at a time in one process,
                                                       # as a running `newsbot serve` adds them as they come

The stand-in embedder (standin.py, anchors in WORK/anchors.npy, made with the real e5 model on
first use) does the embedding, so "not embedding" is the project's own overhead; the baseline,
measured in the same run, is the real e5 model embedding the new passages alone (a sample of
them when there are many). Prints one line per step and writes WORK/adds.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]

import corpus as corpus_mod  # noqa: E402

from bench import Timed, config_for, make_embedder, rss_mb  # noqa: E402

E5_SAMPLE = 24  # passages embedded by e5 for the per-passage baseline


def anchors(work: Path) -> None:
    """The stand-in's anchors: real e5 embeddings of a few corpus passages."""
    if (work / "anchors.npy").exists():
        return
    from bench import sample_e5

    sample_e5(work, ["warm up"])


def build(work: Path) -> dict:
    from bot.retrieval.indexing import update_index

    embedder = Timed(make_embedder(work, "standin"))
    t = time.perf_counter()
    data, _ = update_index(config_for(work), embedder)
    seconds = time.perf_counter() - t
    return {
        "step": "build",
        "seconds": round(seconds, 2),
        "embed_seconds": round(embedder.seconds, 2),
        "passages": len(data.passages),
        "peak_rss_mb": round(rss_mb()[1]),
    }


def add(work: Path, n: int, profile: bool) -> dict:
    """One `newsbot add`-like process: n new files, then update_index (which loads the index)."""
    from bot.retrieval.indexing import update_index
    from bot.retrieval.store import passage_sources

    state = work / "adds.state.json"
    done = json.loads(state.read_text()) if state.exists() else {"articles": _articles(work)}
    new = corpus_mod.extra_articles(7, corpus_mod.LANGS_ORDER, done["articles"], n)
    for name, text in new:
        path = work / "seeds" / "new" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    done["articles"] += n
    state.write_text(json.dumps(done))
    names = {f"new/{name}" for name, _ in new}
    embedder = Timed(make_embedder(work, "standin"))
    prof = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if prof:
        prof.enable()
    data, report = update_index(config_for(work), embedder)
    if prof:
        prof.disable()
    seconds = time.perf_counter() - t
    out = {
        "step": f"add {n}",
        "seconds": round(seconds, 3),
        "not_embedding_seconds": round(seconds - embedder.seconds, 3),
        "texts_embedded": embedder.texts,
        "new_passages": sum(source in names for source in passage_sources(data.passages)),
        "added": len(report.added) if report else 0,
        "passages": len(data.passages),
        "peak_rss_mb": round(rss_mb()[1]),
    }
    if prof:
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(35)
        out["profile"] = s.getvalue()
    return out


def serial(work: Path, n: int) -> dict:
    """n single-article updates one after another in this process, each on the index the last one left."""
    from bot.retrieval.indexing import update_index
    from bot.retrieval.store import load_index

    state = work / "adds.state.json"
    done = json.loads(state.read_text()) if state.exists() else {"articles": _articles(work)}
    embedder = Timed(make_embedder(work, "standin"))
    data = load_index(work / "index")
    seconds, passages = [], 0
    for name, text in corpus_mod.extra_articles(7, corpus_mod.LANGS_ORDER, done["articles"], n):
        path = work / "seeds" / "new" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        before, count = embedder.seconds, len(data.passages)
        t = time.perf_counter()
        data, _ = update_index(config_for(work), embedder, data)
        seconds.append(time.perf_counter() - t - (embedder.seconds - before))
        passages += len(data.passages) - count  # only additions: the new article's passages
    done["articles"] += n
    state.write_text(json.dumps(done))
    return {
        "step": f"serial {n}",
        "not_embedding_seconds": round(sum(seconds), 2),
        "per_add_median_s": round(float(np.median(seconds)), 3),
        "per_add_max_s": round(max(seconds), 3),
        "new_passages": passages,
        "passages": len(data.passages),
        "dense": (data.manifest.get("dense") or {}).get("type"),
        "peak_rss_mb": round(rss_mb()[1]),
    }


def _articles(work: Path) -> int:
    return sum(1 for _ in (work / "seeds").rglob("*.txt"))


def e5_per_text(work: Path) -> float:
    """The real model's seconds per new passage, measured now on new articles' passages."""
    from bot.retrieval.chunking import chunk
    from bot.retrieval.embedding import BundledE5
    from bot.retrieval.indexing import BATCH, embed_text
    from bot.retrieval.loading import SeedFile, parse_article

    texts = []
    for name, text in corpus_mod.extra_articles(11, corpus_mod.LANGS_ORDER, 0, 5):
        article = parse_article(SeedFile(name, text.encode()))
        texts += [embed_text(p) for p, _ in chunk(article)]
    texts = texts[:E5_SAMPLE]
    e5 = BundledE5()
    e5.query("warm up")
    t = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        e5.passages(texts[i : i + BATCH])
    return (time.perf_counter() - t) / len(texts)


def run_child(work: Path, *flags: str) -> dict:
    run = subprocess.run([sys.executable, __file__, str(work), *flags], capture_output=True, text=True)
    if run.returncode:
        sys.stderr.write(run.stderr[-4000:])
        raise SystemExit("child failed")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--adds", type=lambda v: [int(x) for x in v.split(",")], default=[])
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--serial", type=int, default=0, help="add this many articles one at a time in one process")
    ap.add_argument("--child", choices=["build", "add", "serial"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "build":
        print(json.dumps(build(args.work)))
        return
    if args.child == "add":
        print(json.dumps(add(args.work, args.n, args.profile)))
        return
    if args.child == "serial":
        print(json.dumps(serial(args.work, args.n)))
        return
    anchors(args.work)
    results = []
    if args.build:
        results.append(run_child(args.work, "--child", "build"))
        print(json.dumps(results[-1]))
    per_text = e5_per_text(args.work) if args.adds or args.serial else 0.0
    for n in args.adds:
        r = run_child(args.work, "--child", "add", "--n", str(n), *(["--profile"] if args.profile else []))
        r["e5_alone_seconds"] = round(r["new_passages"] * per_text, 3)  # the new passages, by e5
        profile = r.pop("profile", "")
        print(json.dumps(r))
        if profile:
            print(profile)
        results.append(r)
    if args.serial:
        r = run_child(args.work, "--child", "serial", "--n", str(args.serial))
        r["e5_alone_seconds"] = round(r["new_passages"] * per_text, 2)
        r["overhead_vs_e5"] = round(r["not_embedding_seconds"] / r["e5_alone_seconds"], 2)
        print(json.dumps(r))
        results.append(r)
    (args.work / "adds.json").write_text(json.dumps({"e5_seconds_per_text": per_text, "steps": results}, indent=2))
    if per_text:
        print(f"e5: {per_text * 1000:.0f} ms a passage; peak RSS {np.max([r['peak_rss_mb'] for r in results])} MB")


if __name__ == "__main__":
    main()
