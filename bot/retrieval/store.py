"""The index on disk: a folder a person can inspect, replaced atomically.

    index/current -> gen-<time>-<id>/   (a symlink, swapped with os.replace)
        manifest.json     format version, model, dimension, chunking, a hash per file
        passages.jsonl    one passage a line, with its sentences' offsets
        passages.faiss    inner-product index over the normalized passage vectors
        sentences.npy     one normalized vector per sentence, for highlighting
        bm25/             the bm25s lexical index

Nothing is pickled. A generation is written in a temporary folder and renamed into
place, so a crash leaves either the old index or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import faiss
import numpy as np

from bot.core.errors import IndexCorrupt
from bot.core.models import Passage

FORMAT_VERSION = 1
CURRENT = "current"


@dataclass(frozen=True)
class IndexData:
    """One loaded generation of the index; never changed after loading."""

    manifest: dict
    passages: tuple[Passage, ...]
    sentences: tuple[tuple[tuple[int, int], ...], ...]  # per passage: offsets into its text
    passage_vectors: np.ndarray  # (n, dim)
    sentence_vectors: np.ndarray  # (total sentences, dim), in passage order
    dense: faiss.Index
    bm25: bm25s.BM25
    sentence_start: np.ndarray = field(default=None)  # first sentence row of each passage
    centered_sentences: np.ndarray = field(default=None)  # minus their mean, re-normalized

    def __post_init__(self):
        counts = np.array([len(s) for s in self.sentences], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
        object.__setattr__(self, "sentence_start", starts)
        # Embeddings share a common direction; without it, similarity tells topics apart far better.
        centered = (
            self.sentence_vectors - self.sentence_vectors.mean(axis=0)
            if len(self.sentence_vectors)
            else self.sentence_vectors
        )
        norms = np.linalg.norm(centered, axis=1, keepdims=True)
        object.__setattr__(self, "centered_sentences", centered / np.maximum(norms, 1e-9))

    @property
    def built_at(self) -> float:
        return float(self.manifest.get("built_at", 0.0))


def write_index(index_dir: Path, manifest: dict, passages, sentences, passage_vectors, sentence_vectors, bm25) -> Path:
    """Write a new generation and point `current` at it. Returns the generation folder."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = index_dir / f".tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        dense = faiss.IndexFlatIP(passage_vectors.shape[1])
        dense.add(np.ascontiguousarray(passage_vectors, dtype=np.float32))
        faiss.write_index(dense, str(tmp / "passages.faiss"))
        np.save(tmp / "sentences.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
        with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
            for p, spans in zip(passages, sentences, strict=False):
                row = {
                    "source": p.source,
                    "title": p.title,
                    "text": p.text,
                    "start": p.start,
                    "end": p.end,
                    "sentences": [list(s) for s in spans],
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        bm25.save(str(tmp / "bm25"), show_progress=False)
        # the manifest goes last: a folder with a manifest is complete
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        gen = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        os.replace(tmp, gen)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    link = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(gen.name, link)
    previous = _current_generation(index_dir)
    os.replace(link, index_dir / CURRENT)
    _prune(index_dir, keep={gen.name, previous.name if previous else ""})
    return gen


def _current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    return index_dir / os.readlink(link) if link.is_symlink() else link


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Drop old generations, keeping the previous one for readers still loading it."""
    for child in index_dir.iterdir():
        if child.name.startswith(("gen-", ".tmp-")) and child.name not in keep and child.is_dir():
            if child.name.startswith(".tmp-") and time.time() - child.stat().st_mtime < 3600:
                continue  # another process may be writing it right now
            shutil.rmtree(child, ignore_errors=True)


def read_manifest(index_dir: Path) -> dict | None:
    """The current manifest, None if there is no index; IndexCorrupt if it cannot be read."""
    gen = _current_generation(index_dir)
    if gen is None:
        return None
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise IndexCorrupt("manifest has no file list")
    return manifest


def load_index(index_dir: Path) -> IndexData | None:
    """Load the current generation, checking that its parts agree with each other."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    gen = _current_generation(index_dir)
    try:
        passages, sentences = [], []
        with open(gen / "passages.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                passages.append(Passage(row["source"], row["title"], row["text"], row["start"], row["end"]))
                sentences.append(tuple(tuple(s) for s in row["sentences"]))
        dense = faiss.read_index(str(gen / "passages.faiss"))
        sentence_vectors = np.load(gen / "sentences.npy", allow_pickle=False)
        bm25 = bm25s.BM25.load(str(gen / "bm25"), show_progress=False)
    except Exception as exc:
        raise IndexCorrupt(f"{type(exc).__name__}: {exc}") from None
    n, dim = len(passages), int(manifest.get("dim", -1))
    checks = [
        (manifest.get("passages") == n, f"manifest says {manifest.get('passages')} passages, found {n}"),
        (dense.ntotal == n and dense.d == dim, f"FAISS index holds {dense.ntotal}x{dense.d}, expected {n}x{dim}"),
        (sentence_vectors.shape == (sum(map(len, sentences)), dim), "sentence vectors do not match the passages"),
        (int(bm25.scores["num_docs"]) == n, "BM25 index does not match the passages"),
    ]
    for ok, detail in checks:
        if not ok:
            raise IndexCorrupt(detail)
    vectors = dense.reconstruct_n(0, n) if n else np.zeros((0, dim), np.float32)
    return IndexData(manifest, tuple(passages), tuple(sentences), vectors, sentence_vectors, dense, bm25)
