"""How narrow `questions.beside_asked` is: of the typed questions the bot answers, how many first
highlights hold their answer beside the question's words for what it asks.

    .venv/bin/python bench/beside.py

`trust.further_down` asks it of a passage it moves up from further down; this prints what it
would cost to ask it of every first hit too (in-scope answers it would decline, uncovered ones
it would stop), on each set's own freshly built archive, as `eval/report.py` builds them.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from report import CORPORA, SETS  # noqa: E402

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval import questions  # noqa: E402
from bot.retrieval.embedding import BundledE5  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.evaluate import read_questions  # noqa: E402


def main() -> None:
    embedder = BundledE5()
    tmp = Path(tempfile.mkdtemp(prefix="newsbot-beside-"))
    counts: Counter = Counter()
    try:
        for corpus, seeds in CORPORA.items():
            engine = Engine.open(Settings(_env_file=None, seeds_dir=seeds, index_dir=tmp / corpus), embedder=embedder)
            for name, files in SETS[corpus]:
                for item in (q for f in files for q in read_questions(f)):
                    found = engine.explain(item.q)
                    if not found.verdict.covered or questions.answer_kind(found.asked) is None:
                        continue
                    hit = found.result.hits[0]
                    text = found.data.passages[hit.index].text
                    sentence = text[slice(*hit.highlight)]
                    span = questions.answer_span(sentence, found.asked, text)
                    beside = span is not None and (
                        questions.place_kind(found.asked) is not None
                        or questions.beside_asked(sentence, span, found.asked)
                    )
                    scope = "in-scope" if item.sources else "uncovered"
                    counts[(name, scope, beside)] += 1
                    if not beside:
                        print(f"{name:8} {scope:9} not beside: {span.text if span else None!r:24} {item.q}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    for name in dict.fromkeys(n for n, _, _ in counts):
        for scope in ("in-scope", "uncovered"):
            yes, no = counts[(name, scope, True)], counts[(name, scope, False)]
            if yes or no:
                print(f"{name:8} {scope:9} answered {yes + no:3}: beside the words asked {yes:3}, not {no:3}")


if __name__ == "__main__":
    main()
