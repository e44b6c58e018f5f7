"""Every question set on its own archive, in one table: the figures issue 10 asks for.

    .venv/bin/python eval/report.py [--json PATH] [--misses] [--answer-bonus X] [--tied-bonus X] [--language-share X]

Builds throwaway indexes of `seeds/` and `eval/corpus2/seeds/`, asks every question once
and prints per set: answer-passage@3, answer-highlight@3, in-scope declined, uncovered
declined, and the short answer for who / how much / when questions (correct / expected; the
type as the set labels it, or as the bot reads the question when the set gives none).
`--json` writes every question's outcome (answered, confidence, short answer, the rule that
declined it) so two runs can be compared question by question.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval import questions as qmod  # noqa: E402
from bot.retrieval import trust  # noqa: E402
from bot.retrieval.embedding import BundledE5  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.evaluate import read_questions, score, short_matches  # noqa: E402
from bot.retrieval.search import SearchParams  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval"
SETS = {
    "seeds": [
        ("dev", [SHARED / "dev_questions.jsonl", SHARED / "dev_uncovered.jsonl"]),
        ("seeds", [ROOT / "eval" / "seeds_questions.jsonl", ROOT / "eval" / "seeds_uncovered.jsonl"]),
    ],
    "corpus2": [("corpus2", [ROOT / "eval" / "corpus2" / f for f in ("questions.jsonl", "uncovered.jsonl")])],
}
CORPORA = {"seeds": ROOT / "seeds", "corpus2": ROOT / "eval" / "corpus2" / "seeds"}
SHORT_TYPES = ("who", "how_much", "when")


def run(engine: Engine, files: list[Path]) -> tuple[list[str], list[dict]]:
    qs = [q for f in files for q in read_questions(f)]
    # each question's type as the set labels it: the short-answer figure counts the same questions
    # whatever the bot reads them as
    rows_read = (json.loads(line) for f in files for line in f.read_text(encoding="utf-8").splitlines() if line.strip())
    labels = {row["q"]: row.get("type") for row in rows_read}
    answers, rows = [], []
    for q in qs:
        a = engine.ask(q.q)
        answers.append(a)
        verdict = engine.explain(q.q).verdict
        kind = qmod.answer_kind(qmod.analyze(q.q))
        rows.append(
            {
                "q": q.q,
                "in_scope": q.in_scope,
                "answered": a.answered,
                "confidence": a.confidence,
                "why": verdict.why,
                "kind": kind,
                "type": labels.get(q.q) or kind,
                "short": a.short,
                "expected_short": q.answer,
                "short_ok": short_matches(a.short, q.answer) if q.answer else None,
                "sources": list(a.sources),
            }
        )
    report = score(qs, answers)
    lines = report.lines()
    typed = [r for r in rows if r["in_scope"] and r["expected_short"] and r["type"] in SHORT_TYPES]
    ok = sum(bool(r["short_ok"]) and r["answered"] for r in typed)
    lines.append(f"short answer (who / how much / when, all in-scope)  {ok}/{len(typed)}")
    return lines, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--answer-bonus", type=float, help="trust.ANSWER_BONUS for this run (the trade-off it makes)")
    ap.add_argument("--tied-bonus", type=float, help="trust.TIED_BONUS for this run (the trade-off it makes)")
    ap.add_argument("--language-share", type=float, help="SearchParams.language_share for this run (its trade-off)")
    args = ap.parse_args()
    params = SearchParams() if args.language_share is None else SearchParams(language_share=args.language_share)
    if args.answer_bonus is not None:
        trust.ANSWER_BONUS = args.answer_bonus
    if args.tied_bonus is not None:
        trust.TIED_BONUS = args.tied_bonus
    embedder = BundledE5()
    tmp = Path(tempfile.mkdtemp(prefix="newsbot-report-"))
    out: dict = {}
    try:
        for corpus, seeds in CORPORA.items():
            engine = Engine.open(Settings(_env_file=None, seeds_dir=seeds, index_dir=tmp / corpus), embedder=embedder)
            engine.params = params
            for name, files in SETS[corpus]:
                lines, rows = run(engine, files)
                out[name] = rows
                print(f"== {name}")
                shown = [line for line in lines if args.misses or not line.startswith("  ") or "in-scope" in line]
                print("\n".join(shown))
                print()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
