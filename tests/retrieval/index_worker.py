"""One index refresh in a process of its own, as a second replica or a second `newsbot index` runs it.

    python -m tests.retrieval.index_worker SEEDS INDEX [--open] [--ask Q] [--max-file-size N] [--no-root-override]

Prints one JSON line: the report (null if the index was already fresh), how many texts this
process embedded, the files in the index it answers from, and the answer to --ask. An
expected error prints {"error": ...} and exits 1. Logs go to stderr, one record a line.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import resource
import signal
import sys
from dataclasses import asdict

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def lose_root_file_override() -> None:
    """Root writes anywhere only through two capabilities; drop them, then re-exec without them.

    After this the process meets file permissions as a service user does, so a chmod'ed
    folder is really read-only to it (bounding-set capabilities are gone after execve).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    argv = [a for a in sys.argv[1:] if a != "--no-root-override"]
    os.execv(sys.executable, [sys.executable, "-m", "tests.retrieval.index_worker", *argv])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("seeds")
    parser.add_argument("index")
    parser.add_argument("--open", action="store_true", help="Engine.open, as `ask` and `serve` do")
    parser.add_argument("--ask", default="")
    parser.add_argument("--max-file-size", type=int, default=0, help="RLIMIT_FSIZE in bytes")
    parser.add_argument("--no-root-override", action="store_true")
    args = parser.parse_args()
    if args.no_root_override and os.geteuid() == 0:
        lose_root_file_override()
    if args.max_file_size:
        # past the limit a write comes up short and then fails with EFBIG, as on a full disk;
        # by default the kernel would kill the process with SIGXFSZ instead
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (args.max_file_size, args.max_file_size))
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s", force=True)

    from bot.core.errors import NewsbotError
    from bot.core.settings import Settings
    from bot.retrieval.config import RetrievalConfig
    from bot.retrieval.embedding import BundledE5
    from bot.retrieval.engine import Engine

    embedder = BundledE5()
    embedded = []
    real = embedder.passages
    embedder.passages = lambda texts: embedded.extend(texts) or real(texts)
    settings = Settings(_env_file=None, seeds_dir=args.seeds, index_dir=args.index)
    try:
        if args.open:
            engine, report = Engine.open(settings, embedder=embedder), None
        else:
            engine = Engine(RetrievalConfig.from_settings(settings), embedder)
            report = engine.refresh()
    except NewsbotError as exc:
        print(json.dumps({"error": str(exc), "embedded": len(embedded)}))
        return 1
    out = {
        "report": asdict(report) if report else None,
        "embedded": len(embedded),
        "files": sorted({p.source for p in engine.data.passages}),
    }
    if args.ask:
        answer = engine.ask(args.ask)
        out["answer"] = {"answered": answer.answered, "sources": list(answer.sources)}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
