"""Compare search variants on a question set: the figures behind the defaults in bot/search.py.

python bench/quality.py [QUESTIONS.jsonl]   (default: ../shared/eval/dev_questions.jsonl)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.evaluate import read_questions, score  # noqa: E402
from bot.retrieval.search import SearchParams  # noqa: E402

VARIANTS = {
    "default (convex 0.3 BM25, sentence 0.5)": {},
    "dense only": {"lexical_weight": 0.0},
    "convex 0.5 BM25": {"lexical_weight": 0.5},
    "RRF (k=60), equal weight": {"fusion": "rrf", "lexical_weight": 0.5},
    "RRF (k=60), 0.3 BM25": {"fusion": "rrf"},
    "passage vectors only (no sentence score)": {"sentence_weight": 0.0},
    "no same-fact folding": {"fold_same_facts": False},
}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
    questions = read_questions(path)
    tmp = Path(tempfile.mkdtemp(prefix="newsbot-quality-"))
    try:
        shutil.copytree(ROOT / "seeds", tmp / "seeds")
        engine = Engine.open(Settings(_env_file=None, seeds_dir=tmp / "seeds", index_dir=tmp / "index"))
        print(f"{'variant':44} passage@3 highlight@3 source@1   MRR  OOS-declined in-scope-declined")
        for name, change in VARIANTS.items():
            engine.params = replace(SearchParams(), **change)
            r = score(questions, [engine.ask(q.q) for q in questions])
            n = r.in_scope
            print(
                f"{name:44} {r.passage_at_3:>5}/{n}  {r.highlight_at_3:>7}/{n}  {r.source_at_1:>4}/{n}  "
                f"{r.mrr:.3f}  {r.oos_declined:>7}/{r.out_of_scope}  {r.in_scope_declined:>10}/{n}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
