"""Cold start of `newsbot ask` on a built index with NEWSBOT_SEEDS_CHECK=files and =folders, alternated.

    python bench/scale/cold.py WORK [--rounds 5] [--embedder standin|e5]

WORK is a bench.py work folder (WORK/seeds, WORK/index, WORK/anchors.npy). The index must have
been written by code that records the folders (any update does: `adds.py WORK --adds 1`), or
"folders" falls back to listing every file. Prints the medians and their ratio, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (puts the project root on sys.path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--embedder", choices=["standin", "e5"], default="standin")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    args = ap.parse_args()
    manifest = json.loads((args.work / "index" / "current" / "manifest.json").read_text())
    if not manifest.get("folders"):
        raise SystemExit("the index records no folders: run `adds.py WORK --adds 1` first")
    q = bench.questions(args.work)[0]
    runs: dict[str, list[dict]] = {"files": [], "folders": []}
    for _ in range(args.rounds):  # alternated, so a busy spell hits both
        for mode in runs:
            runs[mode].append(bench.cold_start(args, q, rounds=1, settings={"NEWSBOT_SEEDS_CHECK": mode}))
    med = {m: sorted(r["seconds"] for r in rs)[len(rs) // 2] for m, rs in runs.items()}
    out = {
        "passages": manifest["passages"],
        "files": len(manifest["files"]),
        "folders": len(manifest["folders"]),
        "median_seconds": med,
        "bare_python_seconds": runs["files"][0]["bare_python_seconds"],
        "rebuilt": any(r["rebuilt"] for rs in runs.values() for r in rs),
        "code": bench.code_version(),
        "runs": runs,
    }
    print(
        f"cold start `newsbot ask`, {out['passages']} passages in {out['files']} files, {out['folders']} folders "
        f"({args.rounds} rounds each, alternated): files {med['files']:.2f} s, folders {med['folders']:.2f} s "
        f"= {med['folders'] / med['files']:.2f}x; bare python {out['bare_python_seconds']:.3f} s"
        + ("; INVALID: the index was rebuilt" if out["rebuilt"] else "")
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"cold-{out['passages']}-{args.embedder}.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
