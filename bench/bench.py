"""Speed figures for the README, each as a ratio to a baseline measured in the same run.

    python bench/bench.py [--seeds seeds] [--rounds 5]

Prints: cold start of `newsbot ask` (index built) against a bare `python -c pass`;
warm question latency p50/p99 against embedding the question alone; index build
throughput (passages/s) against raw embedding throughput of the same texts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.embedding import BundledE5  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.indexing import embed_text  # noqa: E402

QUESTIONS = [
    json.loads(line)["q"] for line in (ROOT / "bench" / "questions.jsonl").read_text().splitlines() if line.strip()
]


def wall(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - t


def pct(xs, p):
    return float(np.percentile(np.array(xs) * 1000, p))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="newsbot-bench-"))
    try:
        shutil.copytree(args.seeds, tmp / "seeds")
        settings = Settings(_env_file=None, seeds_dir=tmp / "seeds", index_dir=tmp / "index")
        embedder = BundledE5()

        # index build throughput vs raw embedding of the same texts
        t = time.perf_counter()
        engine = Engine.open(settings, embedder=embedder)
        build = time.perf_counter() - t
        n = len(engine.data.passages)
        texts = [embed_text(p) for p in engine.data.passages]
        t = time.perf_counter()
        for i in range(0, len(texts), 16):
            embedder.passages(texts[i : i + 16])
        raw = time.perf_counter() - t
        print(
            f"index build: {n} passages in {build:.2f} s = {n / build:.1f} passages/s; "
            f"raw passage embedding {n / raw:.1f} passages/s; ratio {(n / build) / (n / raw):.2f}"
        )

        # warm latency vs embedding the question alone
        for q in QUESTIONS:  # warm-up
            engine.ask(q)
        ask_t, emb_t = [], []
        for _ in range(args.rounds):
            for q in QUESTIONS:
                t = time.perf_counter()
                embedder.query(q)
                emb_t.append(time.perf_counter() - t)
                t = time.perf_counter()
                engine.ask(q)
                ask_t.append(time.perf_counter() - t)
        print(
            f"warm question: p50 {pct(ask_t, 50):.1f} ms, p99 {pct(ask_t, 99):.1f} ms; "
            f"embedding alone p50 {pct(emb_t, 50):.1f} ms, p99 {pct(emb_t, 99):.1f} ms; "
            f"ratio p50 {pct(ask_t, 50) / pct(emb_t, 50):.2f}, p99 {pct(ask_t, 99) / pct(emb_t, 99):.2f} "
            f"({len(ask_t)} questions)"
        )

        # cold start of the CLI with the index built, vs a bare interpreter
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env.update(NEWSBOT_SEEDS_DIR=str(tmp / "seeds"), NEWSBOT_INDEX_DIR=str(tmp / "index"))
        cli = [sys.executable, "-m", "bot.cli", "ask", QUESTIONS[0]]
        wall(cli, env)
        cold = [wall(cli, env) for _ in range(args.rounds)]
        bare = [wall([sys.executable, "-c", "pass"], env) for _ in range(args.rounds)]
        torch = (
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys, runpy; sys.argv=['newsbot','ask','hello'];\n"
                    "from bot.cli import app\ntry: app(standalone_mode=False)\nexcept SystemExit: pass\n"
                    "print('torch' in sys.modules, file=sys.stderr)",
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            .stderr.strip()
            .splitlines()[-1]
        )
        print(
            f"cold start `newsbot ask`: median {statistics.median(cold):.2f} s (max {max(cold):.2f} s); "
            f"bare python {statistics.median(bare):.3f} s; torch imported: {torch}"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
