"""Warm question cost on an index bench.py (or prep) already built: `Engine.ask` against embedding alone.

    python bench/scale/warm.py --work /tmp/newsbot-scale-100000-standin [--rounds 5] [--profile]

The index at WORK/index is loaded once; the bench's questions (bench.questions: the
development questions, covered and not, and phrases from corpus articles) are asked once
to warm up, then `--rounds` times each. For each ask, the question is embedded alone just
before, so "beyond the embedding" is ask minus that embedding, question by question. With
`--profile`, one more round runs under cProfile and the functions taking the most
cumulative time are printed. With `--baseline PATH` (another search.py, e.g. a copy taken
before a change), rounds alternate between it and the current search and both are printed,
with their ratio: a change measured against its baseline in the same run, on the same load.
Writes bench/scale/results/warm-<passages>-<embedder>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (puts the project root on sys.path)
from bot.retrieval import engine as engine_module  # noqa: E402
from bot.retrieval.engine import Engine  # noqa: E402
from bot.retrieval.store import load_index  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--embedder", choices=["standin", "e5"], default="standin")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--baseline", type=Path, help="a search.py to alternate with the current one, round by round")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()

    config = bench.config_for(args.work)
    embedder = bench.make_embedder(args.work, args.embedder)
    embedder.query("warm up")
    t = time.perf_counter()
    data = load_index(config.index_dir)
    load_s = time.perf_counter() - t
    engine = Engine(config, embedder, data)
    qs = bench.questions(args.work)
    t = time.perf_counter()
    engine.ask(qs[0])
    first_s = time.perf_counter() - t
    for q in qs:
        engine.ask(q)

    out = {
        "passages": len(data.passages),
        "dense": data.manifest.get("dense"),
        "code": bench.code_version(),
        "load_seconds": load_s,
        "first_ask_seconds": first_s,
        **bench.warm_asks(engine, embedder, qs, args.rounds),
    }
    be, cpu, fast = out["beyond_embedding"], out["beyond_embedding_cpu"], out["beyond_embedding_fastest"]
    lines = [
        f"warm question, {out['passages']} passages, embedder {args.embedder}, {out['ask']['questions']} asks",
        f"  ask             p50 {out['ask']['p50_ms']:.1f} ms  p99 {out['ask']['p99_ms']:.1f} ms",
        f"  embedding alone p50 {out['embed_question']['p50_ms']:.2f} ms  p99 {out['embed_question']['p99_ms']:.2f} ms",
        f"  beyond it       p50 {be['p50_ms']:.1f} ms  p99 {be['p99_ms']:.1f} ms  max {be['max_ms']:.1f} ms",
        f"  beyond it, CPU  p50 {cpu['p50_ms']:.1f} ms  p99 {cpu['p99_ms']:.1f} ms (the process's CPU time)",
        f"  beyond it, fastest of {args.rounds} rounds per question: p50 {fast['p50_ms']:.1f} ms"
        f"  p99 {fast['p99_ms']:.1f} ms  max {fast['max_ms']:.1f} ms",
        f"  load_index {load_s:.2f} s, first ask {first_s * 1000:.0f} ms",
        "  slowest: " + "; ".join(f"{s['ms']:.1f} ms {s['q'][:50]!r}" for s in out["slowest_beyond"]),
    ]
    if args.baseline:
        compared = against_baseline(engine, embedder, qs, args.rounds, args.baseline)
        out["against_baseline"] = compared
        lines += [
            f"  {name:8s} beyond it p50 {c['p50_ms']:.2f} ms  p99 {c['p99_ms']:.2f} ms  (alternated round by round)"
            for name, c in compared.items()
            if name != "ratio"
        ]
        lines.append(f"  current / baseline: p50 {compared['ratio']['p50']:.2f}  p99 {compared['ratio']['p99']:.2f}")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for q in qs:
            engine.ask(q)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        lines.append(buf.getvalue())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"warm-{len(data.passages)}-{args.embedder}.json"
    path.write_text(json.dumps(out, indent=2, default=float))
    print("\n".join(lines) + f"\nwrote {path}")


def against_baseline(engine, embedder, qs: list[str], rounds: int, path: Path) -> dict:
    """Beyond-the-embedding times of the current search and of the one in `path`, asked in
    alternate rounds (which goes first alternates too), so both see the same load."""
    spec = importlib.util.spec_from_file_location("search_baseline", path)
    baseline = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = baseline  # its dataclasses look their module up
    spec.loader.exec_module(baseline)
    variants = {"current": engine_module.search, "baseline": baseline.search}
    beyond: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for r in range(rounds):
            for name in variants if r % 2 == 0 else reversed(variants):
                engine_module.search = variants[name]
                for q in qs:
                    t = time.perf_counter()
                    embedder.query(q)
                    embedded = time.perf_counter() - t
                    t = time.perf_counter()
                    engine.ask(q)
                    beyond[name].append(time.perf_counter() - t - embedded)
    finally:
        engine_module.search = variants["current"]
    out = {name: {"p50_ms": bench.pct(xs, 50), "p99_ms": bench.pct(xs, 99)} for name, xs in beyond.items()}
    out["ratio"] = {p: out["current"][f"{p}_ms"] / out["baseline"][f"{p}_ms"] for p in ("p50", "p99")}
    return out


if __name__ == "__main__":
    main()
