"""The index on disk: a folder a person can inspect, replaced atomically.

    index/
        current -> gen-<time>-<id>/   a symlink, swapped with os.replace
        gen-<time>-<id>/              one generation (the current one and the previous one are kept)
            manifest.json     format version, model, dimension, chunking, a hash per file, decline calibration
            passages.jsonl    one passage a line, with its sentences' offsets
            passages.faiss    inner-product index over the normalized passage vectors
            sentences.npy     one normalized vector per sentence, for highlighting
            bm25/             the bm25s lexical index
        .lock                 flock'ed by the one process writing; readers never take it
        .tmp-<id>/            a generation being written

Nothing is pickled. One writer at a time holds `.lock` (the OS releases it if the writer
dies), so whatever `.tmp-*` folder the next writer finds was left by a killed build and
is removed at once. A generation is written in a temporary folder and renamed into
place, so a crash leaves either the old index or the new one, never half of one. The
previous generation is kept for readers still loading it. A `current` that is a real
folder (an index copied with `cp -rL`) is adopted as a generation by the next writer.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bm25s
import faiss
import numpy as np

from bot.core import messages
from bot.core.errors import IndexCorrupt, IndexWriteError
from bot.core.models import Passage, SourceInfo

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: the manifest carries the decline calibration (calibration.py); 3: articles.jsonl
CURRENT = "current"
LOCK = ".lock"
_STRAY = (".tmp-", f".{CURRENT}-")  # a half-written generation, a link not yet swapped in
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# numpy and FAISS report a full disk as a short write, without an errno
_SHORT_WRITE = re.compile(r"requested and \d+ written|write error|No space left|File too large|Disk quota")


@dataclass(frozen=True)
class Archived:
    """What the index keeps of each article besides its passages: how to cite it, and how to spot a copy."""

    info: SourceInfo
    text_sha: str  # of the cleaned text: the same article saved under two names is indexed once

    def row(self) -> dict:
        return {**asdict(self.info), "text_sha": self.text_sha}

    @classmethod
    def from_row(cls, row: dict) -> Archived:
        fields = {k: row.get(k) for k in ("source", "title", "url", "site", "published", "lang")}
        return cls(SourceInfo(**fields), str(row.get("text_sha", "")))


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
    articles: Mapping[str, Archived] = field(default_factory=dict)  # by source: title, link, site, date
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

    @functools.cached_property
    def words(self) -> tuple[str, ...]:
        """The archive's words (BM25's vocabulary), sorted: built once per loaded index, on first use."""
        return tuple(sorted(w for w in self.bm25.vocab_dict if w))


def write_error(index_dir: Path, exc: Exception) -> IndexWriteError:
    """The problem in words a person can act on: "the disk is full" rather than a byte count."""
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if getattr(exc, "errno", None) in _NO_ROOM or _SHORT_WRITE.search(str(exc)):
        return IndexWriteError(messages.INDEX_DISK_FULL.format(path=index_dir, detail=detail))
    return IndexWriteError(messages.INDEX_NOT_WRITABLE.format(path=index_dir, detail=detail))


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[Path]:
    """Hold the index's write lock (waiting for another writer) and a fresh folder for the next generation.

    Clears what dead writers left first. The folder is made before any embedding, so a
    read-only index fails at once: IndexWriteError naming the problem.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise write_error(index_dir, exc) from None
    tmp = index_dir / f".tmp-{uuid.uuid4().hex[:8]}"
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info(messages.INDEX_WAITING.format(path=index_dir))
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            _remove_strays(index_dir)
            _adopt_real_current(index_dir)
            tmp.mkdir()
        except OSError as exc:
            raise write_error(index_dir, exc) from None
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os.close(fd)  # releases the lock


def _remove_strays(index_dir: Path) -> None:
    """With the lock held no one else is writing: every stray was left by a build that died."""
    strays = [child for child in index_dir.iterdir() if child.name.startswith(_STRAY)]
    for child in strays:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    if strays:
        log.info(messages.INDEX_STRAYS_REMOVED.format(count=len(strays), path=index_dir))


def _adopt_real_current(index_dir: Path) -> None:
    """`current` as a real folder cannot be swapped by a rename: make it a generation behind a link."""
    current = index_dir / CURRENT
    if current.is_symlink() or not current.is_dir():
        return
    gen = _new_generation_path(index_dir)
    os.rename(current, gen)
    _point_current_at(index_dir, gen)
    log.warning(messages.INDEX_CURRENT_ADOPTED.format(path=current, name=gen.name))


def _new_generation_path(index_dir: Path) -> Path:
    return index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def _point_current_at(index_dir: Path, gen: Path) -> None:
    link = index_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(gen.name, link)
    try:
        os.replace(link, index_dir / CURRENT)
    except BaseException:
        link.unlink(missing_ok=True)
        raise


def write_index(
    tmp: Path, manifest: dict, passages, sentences, passage_vectors, sentence_vectors, bm25, articles=()
) -> Path:
    """Write a generation in the folder `writer_lock` gave, rename it into place and point `current` at it.

    Returns the generation folder; IndexWriteError naming the problem if it cannot be written.
    """
    index_dir = tmp.parent
    previous = _current_generation(index_dir)
    gen = _new_generation_path(index_dir)
    try:
        _write_parts(tmp, manifest, passages, sentences, passage_vectors, sentence_vectors, bm25, articles)
        os.replace(tmp, gen)
        _point_current_at(index_dir, gen)
    except BaseException as exc:
        shutil.rmtree(gen, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(index_dir, exc) from None
        raise
    _prune(index_dir, keep={gen.name, previous.name if previous else ""})
    return gen


def in_memory(manifest: dict, passages, sentences, passage_vectors, sentence_vectors, bm25, articles=()) -> IndexData:
    """A generation before it is written, to be searched (by the calibration) before its manifest is final."""
    return IndexData(
        manifest,
        tuple(passages),
        tuple(sentences),
        passage_vectors,
        sentence_vectors,
        _dense(passage_vectors),
        bm25,
        {a.info.source: a for a in articles},
    )


def _dense(passage_vectors: np.ndarray) -> faiss.Index:
    dense = faiss.IndexFlatIP(passage_vectors.shape[1])
    dense.add(np.ascontiguousarray(passage_vectors, dtype=np.float32))
    return dense


def _write_parts(
    folder: Path, manifest: dict, passages, sentences, passage_vectors, sentence_vectors, bm25, articles
) -> None:
    dense = _dense(passage_vectors)
    try:
        faiss.write_index(dense, str(folder / "passages.faiss"))
    except RuntimeError as exc:  # FAISS says why only at the end of its message: "... (File too large)"
        why = re.search(r"\(([^()]+)\)\s*$", str(exc))
        raise OSError(None, why.group(1) if why else str(exc).rpartition("failed: ")[2]) from None
    np.save(folder / "sentences.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float32), allow_pickle=False)
    with open(folder / "passages.jsonl", "w", encoding="utf-8") as f:
        for p, spans in zip(passages, sentences, strict=True):
            row = {
                "source": p.source,
                "title": p.title,
                "text": p.text,
                "start": p.start,
                "end": p.end,
                "sentences": [list(s) for s in spans],
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    with open(folder / "articles.jsonl", "w", encoding="utf-8") as f:
        for archived in articles:
            f.write(json.dumps(archived.row(), ensure_ascii=False) + "\n")
    bm25.save(str(folder / "bm25"), show_progress=False)
    # the manifest goes last: a folder with a manifest is complete
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")


def _current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    return index_dir / os.readlink(link) if link.is_symlink() else link


def _prune(index_dir: Path, keep: set[str]) -> None:
    """Drop old generations, keeping the previous one for readers still loading it."""
    for child in index_dir.iterdir():
        if child.name.startswith("gen-") and child.name not in keep and child.is_dir():
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
        with open(gen / "articles.jsonl", encoding="utf-8") as f:
            articles = {a.info.source: a for a in map(Archived.from_row, map(json.loads, f))}
    except Exception as exc:
        raise IndexCorrupt(f"{type(exc).__name__}: {exc}") from None
    n, dim = len(passages), int(manifest.get("dim", -1))
    checks = [
        (manifest.get("passages") == n, f"manifest says {manifest.get('passages')} passages, found {n}"),
        (dense.ntotal == n and dense.d == dim, f"FAISS index holds {dense.ntotal}x{dense.d}, expected {n}x{dim}"),
        (sentence_vectors.shape == (sum(map(len, sentences)), dim), "sentence vectors do not match the passages"),
        (int(bm25.scores["num_docs"]) == n, "BM25 index does not match the passages"),
        (_bm25_consistent(bm25), "BM25 vocabulary does not match its score matrix"),
        ({p.source for p in passages} <= articles.keys(), "articles.jsonl does not name every passage's article"),
    ]
    for ok, detail in checks:
        if not ok:
            raise IndexCorrupt(detail)
    vectors = dense.reconstruct_n(0, n) if n else np.zeros((0, dim), np.float32)
    return IndexData(manifest, tuple(passages), tuple(sentences), vectors, sentence_vectors, dense, bm25, articles)


def _bm25_consistent(bm25: bm25s.BM25) -> bool:
    """bm25s loads parts from different builds without complaint; they must describe one matrix."""
    scores = bm25.scores
    indptr, indices = scores["indptr"], scores["indices"]
    words = len(bm25.vocab_dict) - ("" in bm25.vocab_dict)  # "" is bm25s's placeholder, without a column
    return (
        len(indptr) == words + 1
        and len(indices) == len(scores["data"]) == int(indptr[-1])
        and (not len(indices) or int(indices.max()) < int(scores["num_docs"]))
    )
