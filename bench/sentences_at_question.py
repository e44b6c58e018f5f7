"""What embedding the candidates' sentences when a question comes would cost, instead of at build time.

    .venv/bin/python bench/sentences_at_question.py [--rounds 3]

Issue 12 suggests scoring only the sentences of the candidate passages at question time, so the
build embeds passages alone. This prints, for the benchmark questions on a freshly built index of
`seeds/`, the time to embed the distinct sentences of the first 3 and first 10 hits against
embedding the question alone, in the same loop (the ratio the warm-latency goal is stated in).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.embedding import BundledE5  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.search import search  # noqa: E402

QUESTIONS = [json.loads(line)["q"] for line in (ROOT / "bench" / "questions.jsonl").read_text().splitlines() if line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    embedder = BundledE5()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        shutil.copytree(ROOT / "seeds", seeds)
        settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=Path(tmp) / "index")
        engine = Engine.open(settings, embedder=embedder)
        data = engine.data
        for k in (3, 10):
            ratios, counts = [], []
            for question in QUESTIONS * args.rounds:
                hits = search(data, embedder.query(question), question, k, engine.params).hits
                sentences = sorted({data.passages[h.index].text[a:b] for h in hits for a, b in data.sentences[h.index]})
                started = time.perf_counter()
                embedder.query(question)
                alone = time.perf_counter() - started
                started = time.perf_counter()
                embedder.passages(sentences)
                ratios.append((time.perf_counter() - started) / alone)
                counts.append(len(sentences))
            print(
                f"first {k} hits: {statistics.median(counts):.0f} distinct sentences (median); embedding them "
                f"takes {statistics.median(ratios):.1f}x embedding the question (min {min(ratios):.1f}, "
                f"max {max(ratios):.1f}; {len(ratios)} questions)"
            )


if __name__ == "__main__":
    main()
