"""Answer quality on every question set: passage@3, highlight@3, citations per answer, the short answer.

    python bench/answers.py [--save OUT.json] [--compare BEFORE.json] [--verbose]

Loads one engine per archive (the seeds and eval/corpus2/seeds, each indexed into a folder
under /tmp that is kept between runs) and runs:

- shared dev: ../shared/eval/dev_questions.jsonl (seeds; held out: no `answer`, judged by `expect`)
- seeds: eval/seeds_questions.jsonl (seeds; the development set rules are chosen on)
- corpus2: eval/corpus2/questions.jsonl (eval/corpus2/seeds; held out)

A short answer is correct when the set's `answer` (or, without one, any `expect` string)
occurs in it or it occurs in that string. Then the warm-question latency: a full `ask`
against embedding the question alone, same process, p50 over the seeds set's questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.models import Citation  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.retrieval import answering, questions, trust  # noqa: E402
from bot.retrieval.embedding import BundledE5  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.evaluate import read_questions, score  # noqa: E402
from bot.retrieval.search import SearchParams  # noqa: E402

SHARED_DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
SETS = (  # name, questions, seeds folder, held out
    ("shared dev", SHARED_DEV, ROOT / "seeds", True),
    ("seeds", ROOT / "eval" / "seeds_questions.jsonl", ROOT / "seeds", False),
    ("corpus2", ROOT / "eval" / "corpus2" / "questions.jsonl", ROOT / "eval" / "corpus2" / "seeds", True),
)
PARAMS = SearchParams()
KINDS = ("who", "when", "where", "how_many", "how_much", "what", "why", "yes_no")


def baseline_compose(question, result, data, threshold):
    """The rule before issue 10: the most similar sentence, no short answer, followers by relevance alone."""
    hits = [result.hits[0], *(h for h in result.hits[1:] if h.relevance >= answering.FOLLOWER_SHARE * threshold)]
    citations = []
    for rank, hit in enumerate(hits, start=1):
        p = data.passages[hit.index]
        a, b = hit.highlight
        citations.append(Citation(rank, p.source, p.title, p.text, p.text[a:b], round(hit.score, 4)))
    return answering.Composition(tuple(citations))


def relevance_followers_compose(question, result, data, threshold):
    """Ablation: the new highlight and short answer, later passages by relevance alone (no filler rule)."""
    composed = real_compose(question, result, data, threshold)
    old = baseline_compose(question, result, data, threshold)
    return answering.Composition(old.citations, composed.short)


real_compose = answering.compose


def engine_for(seeds: Path, embedder, cache: dict) -> Engine:
    if seeds not in cache:
        index = Path("/tmp") / f"idx-answers-{seeds.parent.name}-{seeds.name}"
        cache[seeds] = Engine.open(Settings(_env_file=None, seeds_dir=seeds, index_dir=index), embedder=embedder)
        cache[seeds].params = PARAMS
    return cache[seeds]


def correct(short: str, truths: list[str]) -> bool:
    return any(t in short or short in t for t in truths)


def run_set(name: str, path: Path, engine: Engine, verbose: bool) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    evq = read_questions(path)
    answers = [engine.ask(q.q) for q in evq]
    report = score(evq, answers)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "present": 0, "correct": 0, "spurious": 0})
    cited = []
    for row, a in zip(rows, answers, strict=True):
        if not row["sources"]:
            continue
        cited.append(len(a.passages))
        kind = row.get("type") or questions.kind(row["q"])
        if "answer" in row:
            truths = [row["answer"]] if row["answer"] else []
        else:  # the shared set has no `answer`: its `expect` strings, for kinds that have a short answer
            truths = list(row["expect"]) if kind in questions.ANSWER_KINDS else []
        k = by_kind[kind]
        if not truths:
            k["spurious"] += a.short is not None  # a short answer where the set expects none
            continue
        k["n"] += 1
        k["present"] += a.short is not None
        ok = a.short is not None and correct(a.short, truths)
        k["correct"] += ok
        if verbose and not ok:
            print(f"  [{name}] {kind:8} {row['q']!r}\n      short={a.short!r} want={truths}")
            for c in a.passages:
                print(f"      [{c.rank}] {c.source}: {c.highlight[:160]!r}")
    per_question = {}
    for row, a in zip(rows, answers, strict=True):
        if row["sources"]:
            top = a.passages[:3]
            per_question[row["q"]] = [
                any(e in c.text for c in top for e in row["expect"]),
                any(e in c.highlight for c in top for e in row["expect"]),
            ]
    return {
        "per_question": per_question,
        "passage@3": report.passage_at_3,
        "highlight@3": report.highlight_at_3,
        "source@1": report.source_at_1,
        "in_scope": report.in_scope,
        "in_scope_declined": report.in_scope_declined,
        "citations": round(statistics.mean(cited), 2) if cited else 0.0,
        "short": dict(by_kind),
    }


def latency(engine: Engine, embedder, qs: list[str], rounds: int = 2) -> dict:
    for q in qs:  # warm-up
        engine.ask(q)
    ask_t, emb_t = [], []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            embedder.query(q)
            emb_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            engine.ask(q)
            ask_t.append(time.perf_counter() - t)
    ask, emb = statistics.median(ask_t) * 1000, statistics.median(emb_t) * 1000
    return {"ask_p50_ms": round(ask, 2), "embed_p50_ms": round(emb, 2), "ratio": round(ask / emb, 3), "n": len(ask_t)}


def short_cell(k: dict) -> str:
    return f"{k['present']}/{k['n']} {k['correct']}/{k['n']}" if k["n"] else "-"


def table(figures: dict, before: dict | None) -> None:
    print(f"{'set':24} {'passage@3':>10} {'highlight@3':>12} {'source@1':>9} {'citations':>10} {'declined':>9}")
    for name, f in figures["sets"].items():
        for label, g in (("before", (before or {}).get("sets", {}).get(name)), ("now", f)):
            if g is None:
                continue
            n = g["in_scope"]
            print(
                f"{name + ' ' + label:24} {g['passage@3']:>7}/{n:<2} {g['highlight@3']:>9}/{n:<2} "
                f"{g.get('source@1', -1):>6}/{n:<2}"
                f"{g['citations']:>10.2f} {g['in_scope_declined']:>6}/{n}"
            )
    print("\nshort answer by kind: present/n correct/n (spurious = a short answer where the set has none)")
    print(f"{'set':24} " + " ".join(f"{k:>12}" for k in KINDS) + f" {'spurious':>9}")
    for name, f in figures["sets"].items():
        for label, g in (("before", (before or {}).get("sets", {}).get(name)), ("now", f)):
            if g is None:
                continue
            cells = [short_cell(g["short"][k]) if k in g["short"] else "-" for k in KINDS]
            spurious = sum(k["spurious"] for k in g["short"].values())
            print(f"{name + ' ' + label:24} " + " ".join(f"{c:>12}" for c in cells) + f" {spurious:>9}")
    for label, g in (("before", (before or {}).get("latency")), ("now", figures["latency"])):
        if g:
            print(
                f"warm latency {label}: ask p50 {g['ask_p50_ms']:.1f} ms, embedding alone p50 "
                f"{g['embed_p50_ms']:.1f} ms, ratio {g['ratio']:.2f} ({g['n']} questions)"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--baseline", action="store_true", help="measure the rule before issue 10, for --compare")
    ap.add_argument("--no-decline", action="store_true", help="answer every question: highlights and citations alone")
    ap.add_argument("--relevance-followers", action="store_true", help="ablation: no filler rule, new highlights")
    args = ap.parse_args()
    if args.relevance_followers:
        answering.compose = relevance_followers_compose
    if args.no_decline:
        judge = trust.judge
        trust.judge = lambda *a: trust.Verdict(True, judge(*a).score, a[-1], "")
    if args.baseline:
        answering.compose = baseline_compose
        global PARAMS
        PARAMS = SearchParams(answer_weight=0.0)
    embedder = BundledE5()
    engines: dict = {}
    figures = {"sets": {}}
    before = json.loads(args.compare.read_text()) if args.compare else None
    for name, path, seeds, held_out in SETS:
        label = f"{name} ({'held out' if held_out else 'fitted'})"
        verbose = args.verbose and not held_out  # misses are read on the development set only
        figures["sets"][label] = f = run_set(name, path, engine_for(seeds, embedder, engines), verbose)
        old = (before or {}).get("sets", {}).get(label, {}).get("per_question", {})
        for q, (passage, highlight) in f["per_question"].items():
            if verbose and q in old and (passage, highlight) != tuple(old[q]):
                print(f"  changed: {q!r} passage {old[q][0]}->{passage} highlight {old[q][1]}->{highlight}")
    seeds_qs = [json.loads(line)["q"] for line in SETS[1][1].read_text(encoding="utf-8").splitlines() if line.strip()]
    figures["latency"] = latency(engine_for(SETS[1][2], embedder, engines), embedder, seeds_qs)
    table(figures, before)
    if args.save:
        args.save.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
