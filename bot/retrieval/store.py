"""The index on disk: a folder a person can inspect, replaced atomically.

    index/
        current -> gen-<time>-<id>/   a symlink, swapped with os.replace
        gen-<time>-<id>/              one generation (the current one, and older ones for a grace time)
            manifest.json     format version, model, dimension, chunking, a hash per file, decline
                              calibration, and under "dense" the FAISS index chosen and why
            passages.jsonl    one passage a line, with its sentences' offsets
            passages.offsets.npy  where each line of passages.jsonl starts (n + 1 byte offsets): a
                              passage is parsed when it is read, not when the index is loaded
            passages.source.npy   each passage's article, as a row of sources.json (a list of names)
            articles.jsonl    one archived article a line (title, link, site, date), with
                              articles.offsets.npy and articles.names.json to read one on access
            articles.langs.json  each article's language code, in the order of articles.names.json
                              ("" unknown; a generation written without it knows none)
            sentences.spans.npy   every sentence's (start, end) in its passage's text, in passage order
            sentences.start.npy   each passage's first row in sentences.spans.npy (n + 1)
            passages.faiss    the dense index: exact (flat) while small, a trained IVF past `exact_max`
            passages.npy      one normalized vector per passage (memory-mapped when loaded)
            sentences.npy     one normalized vector per sentence, for highlighting (memory-mapped)
            baseline.npy      4,096 of them drawn at writing: a question's "archive" median (search.py)
            sentence_mean.npy the mean sentence vector, so that no load computes a centred copy
            sentence_sum.npy  the float64 sum behind it, which an update corrects instead of re-adding
            lexicon/          BM25's term counts: which passages hold each word, how often, and the
                              sorted words (memory-mapped; see lexical.py)
            lexicon.recent/   the same for the passages added since lexicon/ was last written whole
                              (manifest "lexicon"."recent"); lexicon/ is then the earlier one's, linked
            .retired          made when `current` moves on: from then on the grace time runs
        .lock                 flock'ed by the one process writing; readers never take it
        .tmp-<id>/            a generation being written

Nothing is pickled. One writer at a time holds `.lock` (the OS releases it if the writer
dies), so whatever `.tmp-*` folder the next writer finds was left by a killed build and
is removed at once. A generation is written in a temporary folder and renamed into
place, so a crash leaves either the old index or the new one, never half of one. A
`current` that is a real folder (an index copied with `cp -rL`) is adopted as a generation
by the next writer.

Several processes, one index: a reader resolves `current` once per load and reads every
part from that one generation folder, even if `current` moves meanwhile. A generation that
is no longer current is removed by a later writer only once GENERATION_GRACE_SECONDS have
passed since it stopped being current, so a reader that resolved it just before the swap
has that long to finish loading. What is loaded stays readable after removal: the vectors,
the FAISS lists and BM25 are memory-mapped, and a mapped file lives until it is unmapped.
A long-lived process notices a new generation by the target of `current` (`generation_of`)
and loads it (see `Engine.maybe_reload`).

An update costs what changed (`Rows`, `write_rows`, `next_dense`, `publish`): the passages it
keeps are copied as bytes (passages.jsonl lines, span arrays, articles.jsonl lines), never
parsed; vectors are copied file to file by the kernel, and when every passage is kept (only
additions) the vector files, passages.jsonl and articles.jsonl are not copied at all: the new
generation hard-links the base's files and appends its rows.
Several generations then share one file, each reading the rows its own passages count
(`read_vectors`, and the .offsets.npy arrays: what follows belongs to later generations); the
.npy header is rewritten, same length, to count every row, so numpy reads the newest
generation's file as it is. A file holding more rows than its generation
(a writer that died after appending) is copied instead of shared. The IVF lists are copied
and extended, not rebuilt: removed rows are dropped from them and only new vectors assigned.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import io
import json
import logging
import mmap
import os
import re
import shutil
import time
import uuid
from array import array
from collections.abc import Container, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from itertools import chain
from pathlib import Path

import faiss
import numpy as np

from bot.core import messages
from bot.core.errors import IndexCorrupt, IndexWriteError
from bot.core.models import Passage, SourceInfo
from bot.retrieval import lexical, vectors
from bot.retrieval.lexical import Lexicon, Segments

log = logging.getLogger(__name__)

# 2: the manifest carries the decline calibration (calibration.py); 3: articles.jsonl;
# 4: the dense index chosen by size (manifest "dense"), passages.npy and sentence_mean.npy, memory-mapped
# 5: passages and articles read on access (*.offsets.npy, passages.source.npy, sources.json,
#    articles.names.json, sentences.start.npy and sentences.spans.npy)
# 6: BM25 kept as term counts (lexicon/) and scored at question time, instead of bm25s's score matrix
FORMAT_VERSION = 6
# older formats an update upgrades in place of a rebuild: their vectors and passages are read as they are
# (a format-5 index has no lexicon: its passages are tokenized again, nothing is embedded again)
UPGRADABLE_FORMATS = (5,)
# a generation no longer current stays this long: no load takes longer, so no reader is still reading it
GENERATION_GRACE_SECONDS = 600
RETIRED = ".retired"
EXACT_MAX = 200_000  # the default limit of exact search; the setting (exact_search_max_passages) overrides it
PARSED_PASSAGES = 2048  # parsed passages kept per loaded generation: a few MB, the candidates of many questions
RECALL_QUERIES = 500  # indexed vectors on which a reused IVF index's nprobe is tuned again
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


class _ReadOnlySequence(Sequence):
    """A sequence that compares equal to any sequence of the same items, as the tuple it replaces did."""

    __hash__ = None

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self._item(j) for j in range(*i.indices(len(self))))
        n = len(self)
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(i)
        return self._item(j)

    def __iter__(self):
        return (self._item(j) for j in range(len(self)))

    def __eq__(self, other):
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    def __add__(self, other):
        return tuple(self) + tuple(other)

    def __radd__(self, other):
        return tuple(other) + tuple(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {len(self)}>"


class MappedPassages(_ReadOnlySequence):
    """The passages of a written generation, each parsed from passages.jsonl when it is read.

    Loading a million passages eagerly took most of a cold start; a question reads a few dozen.
    """

    def __init__(self, path: Path, offsets: np.ndarray, source_ids: np.ndarray, source_names: Sequence[str]):
        with open(path, "rb") as f:
            self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if offsets[-1] else b""
        self._offsets, self._source_ids, self._names = offsets, source_ids, tuple(source_names)
        # a question reads its candidates' passages many times over (ranking, rules, highlights, citations);
        # the cache holds the buffer, not this object, so a replaced generation is freed when dropped
        self._item = functools.lru_cache(maxsize=PARSED_PASSAGES)(functools.partial(_parse_passage, self._buf, offsets))

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def sources(self) -> tuple[str, ...]:
        """Every passage's article, without parsing a passage."""
        return tuple(map(self._names.__getitem__, self._source_ids.tolist()))

    def source_of(self, i: int) -> str:
        """Passage i's article, without parsing the passage."""
        return self._names[int(self._source_ids[i])]

    def rows_of(self, sources: Container[str]) -> np.ndarray:
        """The rows of the passages of these articles, increasing: a lookup per article, not per passage."""
        of = np.fromiter((name in sources for name in self._names), dtype=bool, count=len(self._names))
        return np.flatnonzero(of[np.asarray(self._source_ids)])


class MappedSpans(_ReadOnlySequence):
    """Per passage, its sentences' (start, end) offsets, read from a memory-mapped array on access."""

    def __init__(self, spans: np.ndarray, starts: np.ndarray):
        self._spans, self.starts = spans, starts

    def __len__(self) -> int:
        return len(self.starts) - 1

    def _item(self, i: int) -> tuple[tuple[int, int], ...]:
        return tuple(map(tuple, self._spans[int(self.starts[i]) : int(self.starts[i + 1])].tolist()))


class MappedArticles(Mapping):
    """The archived articles of a written generation by source, each parsed from articles.jsonl when read."""

    def __init__(self, path: Path, offsets: np.ndarray, names: Sequence[str], langs: Sequence[str] = ()):
        with open(path, "rb") as f:
            self._buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if offsets[-1] else b""
        self._offsets, self._row = offsets, {name: i for i, name in enumerate(names)}
        self.langs = tuple(langs) or ("",) * len(names)
        self.path, self.size = path, int(offsets[-1])  # its own lines: a later generation may append more

    def __getitem__(self, source: str) -> Archived:
        return Archived.from_row(json.loads(self.line(source)))

    def lang_of(self, source: str) -> str:
        """The article's language code ("" unknown), without parsing its line: search asks for it per candidate."""
        return self.langs[self._row[source]]

    def line(self, source: str) -> bytes:
        """The article's line of articles.jsonl, as written: what an update copies for an unchanged article."""
        i = self._row[source]
        return self._buf[int(self._offsets[i]) : int(self._offsets[i + 1])]

    def __contains__(self, source) -> bool:
        return source in self._row

    def __iter__(self):
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


def language_of(articles: Mapping[str, Archived], source: str) -> str:
    """An indexed article's language code ("" unknown); from its array for a written generation, not its line."""
    if isinstance(articles, MappedArticles):
        return articles.lang_of(source) if source in articles else ""
    archived = articles.get(source)
    return (archived.info.lang or "") if archived else ""


def _parse_passage(buf, offsets: np.ndarray, i: int) -> Passage:
    row = json.loads(buf[int(offsets[i]) : int(offsets[i + 1])])
    return Passage(row["source"], row["title"], row["text"], row["start"], row["end"])


def source_at(passages: Sequence[Passage], i: int) -> str:
    """Passage i's article: from an array for a loaded index, without parsing the passage."""
    return passages.source_of(i) if isinstance(passages, MappedPassages) else passages[i].source


def article_text(passages: Sequence[Passage], row: int) -> str:
    """The title and every passage of the article the passage at `row` comes from (an article's
    passages are written together, so its rows are consecutive; only those are parsed)."""
    source = source_at(passages, row)
    first = row
    while first > 0 and source_at(passages, first - 1) == source:
        first -= 1
    last = row
    while last + 1 < len(passages) and source_at(passages, last + 1) == source:
        last += 1
    return "\n".join([passages[row].title, *(passages[i].text for i in range(first, last + 1))])


def passage_sources(passages: Sequence[Passage]) -> Sequence[str]:
    """Each passage's article, in order: from an array for a loaded index, instead of parsing every passage."""
    return passages.sources if isinstance(passages, MappedPassages) else tuple(p.source for p in passages)


@dataclass(frozen=True)
class IndexData:
    """One loaded generation of the index; never changed after loading."""

    manifest: dict
    passages: Sequence[Passage]  # a tuple, or MappedPassages (read on access) when loaded
    sentences: Sequence[tuple[tuple[int, int], ...]]  # per passage: offsets into its text
    passage_vectors: np.ndarray  # (n, dim)
    sentence_vectors: np.ndarray  # (total sentences, dim), in passage order
    dense: faiss.Index
    lexicon: Lexicon | Segments | None  # None only in a format-5 index, loaded to be upgraded
    articles: Mapping[str, Archived] = field(default_factory=dict)  # by source: title, link, site, date
    sentence_start: np.ndarray = field(default=None)  # first sentence row of each passage
    # Embeddings share a common direction; without it, similarity tells topics apart far better.
    # Written at build time, so that a load never averages (nor copies) every sentence vector.
    sentence_mean: np.ndarray = field(default=None)  # (dim,)
    folder: Path | None = None  # the generation folder it was loaded from; None before it is written
    # the sentence vectors a question's median is taken over (search.baseline_sample), drawn when the
    # generation was written: gathering 4,096 random rows of a mapped sentences.npy took 0.5 s of a cold start
    baseline: np.ndarray | None = None

    def __post_init__(self):
        if isinstance(self.sentences, MappedSpans):
            starts = np.array(self.sentences.starts[:-1], dtype=np.int64)
        else:
            counts = np.array([len(s) for s in self.sentences], dtype=np.int64)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else counts
        object.__setattr__(self, "sentence_start", starts)
        if self.sentence_mean is None:
            object.__setattr__(self, "sentence_mean", mean_vector(self.sentence_vectors))

    @property
    def built_at(self) -> float:
        return float(self.manifest.get("built_at", 0.0))

    @property
    def generation(self) -> str:
        """The generation folder's name ("" before it is written): what `current` pointed at when loaded."""
        return self.folder.name if self.folder else ""

    @property
    def word_lists(self) -> tuple[Sequence[str], ...]:
        """The archive's words (BM25's vocabulary), sorted, a list per segment of the counts."""
        return self.lexicon.word_lists if self.lexicon is not None else ()


def mean_vector(sentence_vectors: np.ndarray) -> np.ndarray:
    dim = sentence_vectors.shape[1] if sentence_vectors.ndim == 2 else 0
    if not len(sentence_vectors):
        return np.zeros(dim, np.float32)
    return np.asarray(sentence_vectors.mean(axis=0, dtype=np.float64), dtype=np.float32)


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
    tmp: Path,
    manifest: dict,
    passages,
    sentences,
    passage_vectors,
    sentence_vectors,
    lexicon: Lexicon | Segments,
    articles=(),
    *,
    exact_max: int = EXACT_MAX,
    previous: IndexData | None = None,
    built: IndexData | None = None,
) -> Path:
    """Write a generation in the folder `writer_lock` gave, rename it into place and point `current` at it.

    The dense index follows the size (`choose_dense`); its parameters go in `manifest["dense"]`.
    `previous`: the index this one updates, whose trained IVF lists may be reused. `built`: the
    `in_memory` generation of these same vectors, whose dense index is then written as is.
    Returns the generation folder; IndexWriteError naming the problem if it cannot be written.
    (An update goes through `write_rows`, `next_dense` and `publish` instead: see indexing.py.)
    """
    if built is not None and built.manifest.get("dense") and built.dense.ntotal == len(passage_vectors):
        dense, params = built.dense, built.manifest["dense"]
    else:
        dense, params = choose_dense(passage_vectors, exact_max=exact_max, previous=previous)
    manifest["dense"] = params
    rows = Rows(None, np.zeros(0, np.int64), tuple(passages), tuple(sentences), passage_vectors, sentence_vectors)
    try:
        write_rows(tmp, rows)
        write_articles(tmp, articles)
    except OSError as exc:
        raise write_error(tmp.parent, exc) from None
    return publish(tmp, manifest, dense, lexicon)


def publish(tmp: Path, manifest: dict, dense: faiss.Index, lexicon: Lexicon | Segments) -> Path:
    """Write the rest of a generation whose rows and articles are written, the manifest last; rename it into place.

    Returns the generation folder; IndexWriteError naming the problem if it cannot be written.
    """
    index_dir = tmp.parent
    retiring = _current_generation(index_dir)
    gen = _new_generation_path(index_dir)
    try:
        _write_parts(tmp, manifest, dense, lexicon)
        os.replace(tmp, gen)
        _point_current_at(index_dir, gen)
    except BaseException as exc:
        shutil.rmtree(gen, ignore_errors=True)
        if isinstance(exc, OSError):
            raise write_error(index_dir, exc) from None
        raise
    if retiring is not None and retiring.is_dir():
        (retiring / RETIRED).touch()  # the grace time of the generation just replaced starts now
    prune(index_dir)
    return gen


def open_written(
    folder: Path, manifest: dict, dense: faiss.Index | None = None, lexicon: Lexicon | Segments | None = None
) -> IndexData:
    """A generation just written (or being written), read as `load_index` reads it, without its checks.

    `dense` and `lexicon` in memory are used as they are; else read from the folder (memory-mapped).
    """
    passages, sentences, _ = _read_passages(folder, manifest)
    passage_vectors = read_vectors(folder / "passages.npy", len(passages), int(manifest["dim"]))
    if dense is None:
        dense = vectors.load_dense(folder / "passages.faiss", manifest.get("dense"), mmap=True)
        dense = _with_recent(dense, manifest, passage_vectors)
    if lexicon is None:
        lexicon = lexical.load(folder, len(passages), _recent_counts(manifest))
    return IndexData(
        manifest,
        passages,
        sentences,
        passage_vectors,
        read_vectors(folder / "sentences.npy", _sentence_count(sentences), int(manifest["dim"])),
        dense,
        lexicon,
        _read_articles(folder, manifest),
        sentence_mean=np.load(folder / "sentence_mean.npy", allow_pickle=False),
        folder=folder,
        baseline=read_baseline(folder, int(manifest["dim"])),
    )


def in_memory(
    manifest: dict,
    passages,
    sentences,
    passage_vectors,
    sentence_vectors,
    lexicon: Lexicon,
    articles=(),
    *,
    exact_max: int = EXACT_MAX,
    previous: IndexData | None = None,
) -> IndexData:
    """A generation before it is written, to be searched (by the calibration) before its manifest is final.

    Its dense index is chosen as `write_index` would, and recorded in `manifest["dense"]`;
    pass the result to `write_index(..., built=)` to write that index instead of building it again.
    """
    dense, params = choose_dense(passage_vectors, exact_max=exact_max, previous=previous)
    manifest["dense"] = params
    return IndexData(
        manifest,
        tuple(passages),
        tuple(sentences),
        passage_vectors,
        sentence_vectors,
        dense,
        lexicon,
        {a.info.source: a for a in articles},
    )


def choose_dense(
    passage_vectors: np.ndarray, *, exact_max: int, previous: IndexData | None = None
) -> tuple[faiss.Index, dict]:
    """The dense index for these vectors and its parameters (with a one-line `reason`) for the manifest.

    Exact search up to `exact_max` passages, a trained IVF index past it (vectors.build_dense).
    When `previous` has an IVF index trained on at least 1/RETRAIN_GROWTH of these vectors, its
    lists are reused (k-means is the costly part) and only nprobe is tuned again; else it is trained.
    """
    x = vectors.as_float32(passage_vectors)
    old = (previous.manifest.get("dense") or {}) if previous is not None else {}
    if not _ivf_reusable(old, previous, x.shape, exact_max):
        return vectors.build_dense(x, exact_max=exact_max)
    index = _empty_copy(previous)
    vectors.add_in_chunks(index, x)
    return _tuned(index, x, old, exact_max)


def _tuned(index: faiss.Index, x: np.ndarray, old: dict, exact_max: int) -> tuple[faiss.Index, dict]:
    """A reused IVF index with nprobe tuned again on these vectors, and its parameters."""
    rng = np.random.default_rng(0)
    own = np.sort(rng.choice(len(x), size=min(len(x), RECALL_QUERIES), replace=False))
    target = float(old.get("target_recall", 0.95))
    x = vectors.as_float32(x)
    nprobe, recall = vectors.tune_nprobe(index, x, vectors.take_rows(x, own), own, target)
    faiss.extract_index_ivf(index).nprobe = nprobe
    params = {
        **old,
        "nprobe": nprobe,
        "recall_at_10": round(recall, 4),
        "recall_queries": len(own),
        "tuned_on": len(x),
        "changed": 0,
        "exact_max": exact_max,
        "reason": (
            f"{old['type']}: {len(x)} passages > the exact-search limit {exact_max}; the {old['nlist']} lists "
            f"trained on {old['trained_on']} passages are reused (retrained at {vectors.RETRAIN_GROWTH}x that); "
            f"nprobe {nprobe} gives recall@{vectors.K} {recall:.3f} (target {target}) against exact search "
            f"on {len(own)} indexed vectors"
        ),
    }
    return index, params


def next_dense(rows: Rows, x: np.ndarray, folder: Path, *, exact_max: int) -> tuple[faiss.Index, dict]:
    """The dense index of an update (`x`: every vector of the new generation, in order) and its parameters.

    A reusable IVF index (see `choose_dense`) is copied from the base, the removed rows are
    dropped from its lists (the others renumbered, in order), and only the new vectors are
    added: no k-means, and no search of the kept vectors' lists. nprobe is kept until more than
    vectors.RETUNE_FRACTION of the passages it was tuned on were added or removed since; past
    that it is tuned again on the whole index. Anything else is built as `choose_dense` builds it.

    An update that only adds, while few rows are new since the lists were last written
    (vectors.RECENT_MAX), does not copy the lists at all: the base's passages.faiss is linked into
    `folder` as it is, and the rows after it are searched exactly (manifest "recent": how many).
    """
    base = rows.base
    old = (base.manifest.get("dense") or {}) if base is not None else {}
    if not _ivf_reusable(old, base, x.shape, exact_max):
        return choose_dense(x, exact_max=exact_max, previous=base)
    changed = int(old.get("changed", 0)) + len(base.passages) - len(rows.rows) + len(rows.passages)
    tuned_on = int(old.get("tuned_on", old.get("trained_on", 0)))
    recent = int(old.get("recent", 0)) + len(rows.passages)
    only_added = len(rows.rows) == len(base.passages)
    if only_added and recent <= vectors.RECENT_MAX and changed <= vectors.RETUNE_FRACTION * tuned_on:
        linked = _linked_lists(base, folder, old, x, recent)
        if linked is not None:
            params = {**old, "tuned_on": tuned_on, "changed": changed, "exact_max": exact_max, "recent": recent}
            return linked, {**params, "reason": _reused_reason(params, len(x))}
    index = _unmapped_copy(base)
    if index is None:
        return choose_dense(x, exact_max=exact_max, previous=base)
    _keep_rows(index, np.asarray(rows.rows, dtype=np.int64), len(base.passages))
    if len(rows.passage_vectors):
        index.add(np.ascontiguousarray(rows.passage_vectors, dtype=np.float32))
    old = {k: v for k, v in old.items() if k != "recent"}  # every row is in the lists again
    if changed > vectors.RETUNE_FRACTION * tuned_on:
        return _tuned(index, x, old, exact_max)
    faiss.extract_index_ivf(index).nprobe = int(old["nprobe"])
    params = {**old, "tuned_on": tuned_on, "changed": changed, "exact_max": exact_max}
    return index, {**params, "reason": _reused_reason(params, len(x))}


def _reused_reason(p: dict, n: int) -> str:
    reason = (
        f"{p['type']}: {n} passages > the exact-search limit {p['exact_max']}; the {p['nlist']} lists "
        f"trained on {p['trained_on']} passages are reused (retrained at {vectors.RETRAIN_GROWTH}x that); "
        f"nprobe {p['nprobe']} gave recall@{vectors.K} {float(p.get('recall_at_10', 0)):.3f} when tuned on "
        f"{p['tuned_on']} passages, {p['changed']} added or removed since (tuned again past "
        f"{vectors.RETUNE_FRACTION:.0%})"
    )
    if p.get("recent"):
        reason += f"; the {p['recent']} newest are searched exactly beside the lists until {vectors.RECENT_MAX} are"
    return reason


def _linked_lists(base: IndexData, folder: Path, old: dict, x: np.ndarray, recent: int) -> faiss.Index | None:
    """The base's IVF file linked into `folder` as it is, and the `recent` rows of `x` after its own searched exactly.

    None if the file cannot be linked or does not hold the rows the base says (a copy is then written).
    """
    if base.folder is None:
        return None
    try:
        os.link(base.folder / "passages.faiss", folder / "passages.faiss")
        index = vectors.load_dense(folder / "passages.faiss", old, mmap=True)
    except (OSError, RuntimeError):
        (folder / "passages.faiss").unlink(missing_ok=True)
        return None
    if index.ntotal != len(x) - recent:
        (folder / "passages.faiss").unlink()
        return None
    return vectors.with_recent(index, x[len(x) - recent :])


def _with_recent(dense: faiss.Index, manifest: dict, passage_vectors: np.ndarray) -> faiss.Index:
    """The loaded dense file, and the rows after its own searched exactly (see next_dense)."""
    recent = int((manifest.get("dense") or {}).get("recent", 0))
    return vectors.with_recent(dense, passage_vectors[len(passage_vectors) - recent :]) if recent else dense


def _ivf_reusable(old: dict, previous: IndexData | None, shape: tuple[int, int], exact_max: int) -> bool:
    return (
        previous is not None
        and old.get("type", "").startswith("ivf")
        and shape[0] > exact_max
        and shape[0] < vectors.RETRAIN_GROWTH * int(old.get("trained_on", 0))
        and previous.dense.d == shape[1]
    )


def _unmapped_copy(previous: IndexData) -> faiss.Index | None:
    """The previous index with all its vectors, in memory (a mapped one is read from its file, and the
    rows it searched exactly beside it added to the lists); None if unreadable."""
    recent = int((previous.manifest.get("dense") or {}).get("recent", 0))
    if not recent and not vectors.is_mapped(previous.dense):
        return faiss.clone_index(previous.dense)
    try:
        index = faiss.read_index(str(previous.folder / "passages.faiss"))
    except (RuntimeError, TypeError):
        return None
    n = len(previous.passages)
    if index.ntotal != n - recent:
        return None
    if recent:
        index.add(vectors.as_float32(previous.passage_vectors[n - recent :]))
    return index


def _keep_rows(index: faiss.Index, rows: np.ndarray, n: int) -> None:
    """Keep only `rows` (increasing) of an IVF index's n vectors, renumbered 0.., each list in its order.

    The lists then hold what adding the kept vectors in order to the trained, empty index gives.
    """
    if len(rows) == n:
        return
    ivf = faiss.extract_index_ivf(index)
    lists = ivf.invlists
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[rows] = np.arange(len(rows), dtype=np.int64)
    size = lists.code_size
    for i in range(ivf.nlist):
        m = lists.list_size(i)
        if not m:
            continue
        ids = renumber[faiss.rev_swig_ptr(lists.get_ids(i), m)]
        kept = ids >= 0
        if kept.all() and np.array_equal(ids, faiss.rev_swig_ptr(lists.get_ids(i), m)):
            continue
        codes = faiss.rev_swig_ptr(lists.get_codes(i), m * size).reshape(m, size)[kept].copy()
        ids = np.ascontiguousarray(ids[kept])
        lists.resize(i, len(ids))
        if len(ids):
            lists.update_entries(i, 0, len(ids), faiss.swig_ptr(ids), faiss.swig_ptr(codes))
    ivf.ntotal = len(rows)
    index.ntotal = len(rows)


def _empty_copy(previous: IndexData) -> faiss.Index:
    """The previous IVF index, trained, without its vectors. A memory-mapped one cannot be cloned: read its file."""
    if vectors.is_mapped(previous.dense) or (previous.manifest.get("dense") or {}).get("recent"):
        index = faiss.read_index(str(previous.folder / "passages.faiss"))
    else:
        index = faiss.clone_index(previous.dense)
    index.reset()
    return index


def _write_parts(folder: Path, manifest: dict, dense, lexicon: Lexicon | Segments) -> None:
    try:
        if not (manifest.get("dense") or {}).get("recent"):  # else next_dense linked the base's file
            vectors.save_dense(dense, folder / "passages.faiss")
    except RuntimeError as exc:  # FAISS says why only at the end of its message: "... (File too large)"
        why = re.search(r"\(([^()]+)\)\s*$", str(exc))
        raise OSError(None, why.group(1) if why else str(exc).rpartition("failed: ")[2]) from None
    lexical.save(lexicon, folder)
    # the manifest goes last: a folder with a manifest is complete
    (folder / "manifest.json").write_text(manifest_text(manifest), encoding="utf-8")


def manifest_text(manifest: dict) -> str:
    """The manifest as JSON, one key a line: json's indent= is its pure-Python encoder, seconds for 100k files."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in manifest.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_articles(folder: Path, articles, shared: MappedArticles | None = None) -> None:
    """articles.jsonl (one archived article a line) and the arrays that read one on access.

    `articles`: Archived, or (source, line, language) copied as they are from an earlier generation.
    `shared`: an earlier generation's articles, every one kept, before `articles` and in its order
    (an addition): its file is hard-linked and appended to, as passages.jsonl is (`_link_whole`),
    or copied whole when another writer appended to it (1M passages: 0.9 s an add saved).
    """
    path, head = folder / "articles.jsonl", shared.size if shared is not None else 0
    linked = shared is not None and _link_whole(shared.path, path, head)
    ends, names, lines, end = array("q"), list(shared or ()), [], head
    langs = list(shared.langs) if shared is not None else []
    for item in articles:
        if isinstance(item, Archived):
            source, line = item.info.source, (json.dumps(item.row(), ensure_ascii=False) + "\n").encode("utf-8")
            lang = item.info.lang or ""
        else:
            source, line, lang = item
        lines.append(line)
        end += len(line)
        ends.append(end)
        names.append(source)
        langs.append(lang)
    with open(path, "ab" if linked else "wb") as f:
        if shared is not None and not linked:
            f.write(shared._buf[:head])
        f.write(b"".join(lines))
    first = np.asarray(shared._offsets, dtype=np.int64) if shared is not None else np.zeros(1, np.int64)
    offsets = np.concatenate([first, np.frombuffer(ends, dtype=np.int64)])
    np.save(folder / "articles.offsets.npy", offsets, allow_pickle=False)
    (folder / "articles.names.json").write_text(json.dumps(names, ensure_ascii=False), encoding="utf-8")
    (folder / "articles.langs.json").write_text(json.dumps(langs), encoding="utf-8")


# ---------------------------------------------------------------- the rows of a generation: kept, then new


@dataclass(frozen=True)
class Rows:
    """The passages of a generation being written: `rows` of `base`, carried over as they are, then new ones.

    Kept rows are copied as bytes from the base (its passages.jsonl, span arrays and vector
    files), never parsed: an update writes a copy of what it keeps, not a re-encoding of it.
    """

    base: IndexData | None
    rows: np.ndarray  # increasing rows of `base` that are kept
    passages: Sequence[Passage]  # the new passages, after the kept ones
    sentences: Sequence[tuple[tuple[int, int], ...]]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.rows) + len(self.passages)

    def runs(self) -> list[tuple[int, int]]:
        """The kept rows as [a, b) runs of consecutive base rows: one run when nothing was removed."""
        r = np.asarray(self.rows, dtype=np.int64)
        if not len(r):
            return []
        cut = np.flatnonzero(np.diff(r) != 1) + 1
        first, last = np.concatenate([[0], cut]), np.concatenate([cut, [len(r)]]) - 1
        return [(int(r[i]), int(r[j]) + 1) for i, j in zip(first, last, strict=True)]

    def sentence_bounds(self) -> np.ndarray:
        """The base's first sentence row of each passage, and the total at the end (n + 1)."""
        return np.append(self.base.sentence_start, len(self.base.sentence_vectors)).astype(np.int64)

    @property
    def sentence_count(self) -> int:
        kept = 0
        if len(self.rows):
            bounds = self.sentence_bounds()
            kept = sum(int(bounds[b] - bounds[a]) for a, b in self.runs())
        return kept + len(self.sentence_vectors)


def write_rows(folder: Path, rows: Rows) -> None:
    """passages.jsonl and its arrays, the passage and sentence vectors and their mean, for `rows`."""
    _write_passage_rows(folder, rows)
    dim = int(rows.passage_vectors.shape[1])
    runs = rows.runs()
    base = rows.base
    _write_vectors(
        folder / "passages.npy", (len(rows), dim), base, base and base.passage_vectors, runs, rows.passage_vectors
    )
    bounds = rows.sentence_bounds() if runs else None
    sentence_runs = [(int(bounds[a]), int(bounds[b])) for a, b in runs]
    new = rows.sentence_vectors
    shape = (rows.sentence_count, dim)
    _write_vectors(folder / "sentences.npy", shape, base, base and base.sentence_vectors, sentence_runs, new)
    # the mean from a running float64 sum: an update subtracts what left and adds what came
    total = _row_sum(new, 0, len(new))
    if sentence_runs:
        kept = sum(b - a for a, b in sentence_runs)
        removed = _complement(sentence_runs, len(base.sentence_vectors))
        if sum(b - a for a, b in removed) < kept:
            total += _sentence_sum(base) - sum((_row_sum(base.sentence_vectors, a, b) for a, b in removed), 0.0)
        else:
            total += sum((_row_sum(base.sentence_vectors, a, b) for a, b in sentence_runs), 0.0)
    count = rows.sentence_count
    np.save(folder / SENTENCE_SUM, np.asarray(total, dtype=np.float64).reshape(dim), allow_pickle=False)
    mean = (total / count).astype(np.float32) if count else np.zeros(dim, np.float32)
    np.save(folder / "sentence_mean.npy", np.asarray(mean, dtype=np.float32).reshape(dim), allow_pickle=False)


SENTENCE_SUM = "sentence_sum.npy"  # float64 sum of the sentence vectors: an update's mean without a full pass
_COPY_CHUNK = 64 << 20


def _complement(runs: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for a, b in runs:
        if a > pos:
            out.append((pos, a))
        pos = b
    return out + ([(pos, n)] if pos < n else [])


def _row_sum(x: np.ndarray, a: int, b: int) -> np.ndarray:
    dim = x.shape[1] if x.ndim == 2 else 0
    total = np.zeros(dim, np.float64)
    step = max(1, _COPY_CHUNK // max(1, 4 * dim))
    for i in range(a, b, step):
        # read, not through the mapping: summing a million passages' sentence vectors that way held 4.6 GB
        total += vectors.read_rows(x, i, min(b, i + step)).sum(axis=0, dtype=np.float64)
    return total


def _sentence_sum(base: IndexData) -> np.ndarray:
    """The base's float64 sentence sum: from its generation when kept there, else added up."""
    folder = base.folder
    if folder is not None:
        try:
            total = np.load(folder / SENTENCE_SUM, allow_pickle=False)
            if total.shape == (base.sentence_vectors.shape[1],):
                return total
        except (OSError, ValueError):
            pass
    return _row_sum(base.sentence_vectors, 0, len(base.sentence_vectors))


def _write_vectors(path: Path, shape, base: IndexData | None, old: np.ndarray, runs: list, new: np.ndarray) -> None:
    """A vector file of the new generation: the base's file, linked and appended to, when every old row is kept."""
    linkable = base is not None and base.folder is not None and runs == [(0, len(old))]
    if linkable and _link_and_append(base.folder / path.name, path, len(old), new, shape):
        return
    _write_matrix(path, shape, [(old, a, b) for a, b in runs] + [(new, 0, len(new))])


def _link_and_append(src: Path, dst: Path, kept: int, new: np.ndarray, shape: tuple[int, int]) -> bool:
    """Share the base generation's vector file (a hard link) and append the new rows to it: no copy.

    Only when the file holds exactly the base's rows (no later generation, nor a writer that died,
    appended to it). The base's readers map the rows its manifest counts, so what is appended after
    them is not theirs; the header is then rewritten, same length, to count every row (for people
    and numpy: the store reads only its fixed-size start, see `read_vectors`).
    """
    header = _npy_header(shape)
    try:
        offset = _data_offset(src)
        if offset != len(header) or src.stat().st_size != offset + kept * 4 * shape[1]:
            return False
        os.link(src, dst)
    except (OSError, IndexCorrupt):
        return False
    with open(dst, "r+b", buffering=0) as f:
        f.seek(0, os.SEEK_END)
        if len(new):
            _copy_rows(f, new, 0, len(new))
        f.seek(0)
        f.write(header)
    return True


def _npy_header(shape: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _data_offset(path: Path) -> int:
    """Where a float32 .npy file's rows start, from the part of its header a rewrite never changes."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 10 or not head.startswith(b"\x93NUMPY") or head[6] not in (1, 2, 3):
            raise IndexCorrupt(f"{path.name} is not a numpy array file")
        size, length = (
            (10, int.from_bytes(head[8:10], "little")) if head[6] == 1 else (12, int.from_bytes(head[8:12], "little"))
        )
        text = f.read(length - (len(head) - size)) if len(head) > size else f.read(length)
    text = head[size:] + text if len(head) > size else text
    if b"'descr': '<f4'" not in text or b"'fortran_order': False" not in text:
        raise IndexCorrupt(f"{path.name} does not hold float32 rows")
    return size + length


def read_vectors(path: Path, rows: int, dim: int) -> np.ndarray:
    """The first `rows` vectors of a vector file, memory-mapped: later generations may have appended more."""
    offset = _data_offset(path)
    if path.stat().st_size < offset + rows * dim * 4:
        raise IndexCorrupt(f"{path.name} holds fewer than {rows} vectors")
    if not rows:
        return np.zeros((0, dim), np.float32)
    return np.memmap(path, dtype="<f4", mode="r", offset=offset, shape=(rows, dim))


def _write_matrix(path: Path, shape: tuple[int, int], pieces: list[tuple[np.ndarray, int, int]]) -> None:
    """A float32 .npy of `shape` from row ranges of arrays, copied file to file where they are mapped files."""
    with open(path, "wb", buffering=0) as f:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype("<f4")), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(f, header)
        start = f.tell()
        for x, a, b in pieces:
            if b > a:
                _copy_rows(f, x, a, b)
        if f.tell() - start != 4 * shape[0] * shape[1]:
            raise OSError(errno.EIO, f"{path.name}: wrote {f.tell() - start} bytes of {4 * shape[0] * shape[1]}")


def _copy_rows(f, x: np.ndarray, a: int, b: int) -> None:
    row = 4 * int(x.shape[1])
    if isinstance(x, np.memmap) and x.dtype == np.float32 and x.flags.c_contiguous and x.filename:
        try:
            with open(x.filename, "rb") as src:
                _copy_range(src.fileno(), f, int(x.offset) + a * row, (b - a) * row)
            return
        except OSError:
            pass  # the base's folder is gone or the kernel cannot copy: from memory instead
    step = max(1, _COPY_CHUNK // row)
    for i in range(a, b, step):
        f.write(memoryview(np.ascontiguousarray(x[i : min(b, i + step)], dtype=np.float32)).cast("B"))


def _copy_range(src: int, f, offset: int, count: int) -> None:
    """`count` bytes of `src` from `offset` appended to `f` by the kernel, without passing through this process."""
    pos = f.tell()
    while count:
        done = os.copy_file_range(src, f.fileno(), min(count, 1 << 30), offset, pos)
        if not done:
            raise OSError(errno.EIO, "short copy")
        offset, pos, count = offset + done, pos + done, count - done
    f.seek(pos)


def _line(p: Passage, spans) -> bytes:
    row = {
        "source": p.source,
        "title": p.title,
        "text": p.text,
        "start": p.start,
        "end": p.end,
        "sentences": [list(s) for s in spans],
    }
    return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def _write_passage_rows(folder: Path, rows: Rows) -> None:
    """passages.jsonl for people, and the arrays that let a load read a passage only when it is asked for."""
    base, runs = rows.base, rows.runs()
    names, kept_ids = _kept_sources(base, rows.rows) if runs else ({}, np.zeros(0, np.int32))
    new_ids = [names.setdefault(p.source, len(names)) for p in rows.passages]
    source_ids = np.concatenate([kept_ids, np.asarray(new_ids, dtype=np.int32)])
    offsets, span_pieces, counts = [np.zeros(1, np.int64)], [], []
    mapped = runs and isinstance(base.passages, MappedPassages) and isinstance(base.sentences, MappedSpans)
    shared = (
        mapped
        and runs == [(0, len(base.passages))]
        and base.folder is not None
        and _link_whole(base.folder / "passages.jsonl", folder / "passages.jsonl", int(base.passages._offsets[-1]))
    )
    with open(folder / "passages.jsonl", "ab" if shared else "wb") as f:
        for a, b in runs:
            if mapped:
                old = np.asarray(base.passages._offsets[a : b + 1], dtype=np.int64)
                if not shared:
                    f.write(base.passages._buf[int(old[0]) : int(old[-1])])
                offsets.append(old[1:] - old[0] + offsets[-1][-1])
                starts = np.asarray(base.sentences.starts[a : b + 1], dtype=np.int64)
                span_pieces.append(
                    np.asarray(base.sentences._spans[int(starts[0]) : int(starts[-1])], np.int32).ravel()
                )
                counts.append(np.diff(starts))
            else:
                _write_new(
                    f, [base.passages[i] for i in range(a, b)], base.sentences[a:b], offsets, span_pieces, counts
                )
        _write_new(f, rows.passages, rows.sentences, offsets, span_pieces, counts)
    spans = np.concatenate(span_pieces).reshape(-1, 2) if span_pieces else np.zeros((0, 2), np.int32)
    starts = np.concatenate([[0], np.cumsum(np.concatenate(counts))]) if counts else np.zeros(1)
    np.save(folder / "passages.offsets.npy", np.concatenate(offsets).astype(np.int64), allow_pickle=False)
    np.save(folder / "passages.source.npy", np.asarray(source_ids, dtype=np.int32), allow_pickle=False)
    (folder / "sources.json").write_text(json.dumps(list(names), ensure_ascii=False), encoding="utf-8")
    np.save(folder / "sentences.start.npy", starts.astype(np.int64), allow_pickle=False)
    np.save(folder / "sentences.spans.npy", spans.astype(np.int32), allow_pickle=False)


def _link_whole(src: Path, dst: Path, size: int) -> bool:
    """Share the base's passages.jsonl (a hard link) to append the new lines to, as the vector files are.

    Only when the file holds exactly the base's passages: a later generation's or a dead writer's
    lines after them make it a copy instead. A reader finds a passage by its generation's offsets,
    so lines appended after its last one are not its own (1M passages: 3.7 s of copying an add saved).
    """
    try:
        if src.stat().st_size != size:
            return False
        os.link(src, dst)
    except OSError:
        return False
    return True


def _kept_sources(base: IndexData, rows: np.ndarray) -> tuple[dict[str, int], np.ndarray]:
    """The kept passages' articles numbered in order of first appearance (as a fresh build numbers them)."""
    if isinstance(base.passages, MappedPassages):
        old_ids, old_names = np.asarray(base.passages._source_ids)[rows], base.passages._names
        seen, first = np.unique(old_ids, return_index=True)
        order = seen[np.argsort(first)]
        renumber = np.zeros(len(old_names), dtype=np.int32)
        renumber[order] = np.arange(len(order), dtype=np.int32)
        return {old_names[i]: j for j, i in enumerate(order.tolist())}, renumber[old_ids]
    sources = passage_sources(base.passages)
    names: dict[str, int] = {}
    return names, np.asarray([names.setdefault(sources[i], len(names)) for i in rows.tolist()], dtype=np.int32)


def _write_new(f, passages, sentences, offsets: list, span_pieces: list, counts: list) -> None:
    """Serialize passages (compact arrays, not lists of Python ints: a million passages have ~3M sentences)."""
    ends, flat, count = array("q"), array("i"), array("q")
    end = int(offsets[-1][-1])
    for p, passage_spans in zip(passages, sentences, strict=True):
        line = _line(p, passage_spans)
        f.write(line)
        end += len(line)
        ends.append(end)
        flat.extend(chain.from_iterable(passage_spans))
        count.append(len(passage_spans))
    if len(ends):
        offsets.append(np.frombuffer(ends, dtype=np.int64))
        span_pieces.append(np.frombuffer(flat, dtype=np.int32))
        counts.append(np.frombuffer(count, dtype=np.int64))


def _read_passages(gen: Path, manifest: dict) -> tuple[Sequence[Passage], Sequence, Sequence[str]]:
    """The passages, their sentences' offsets and each one's article; eagerly only for an index older than 5."""
    if manifest.get("format_version", 0) < 5:  # read only to be rebuilt
        passages, sentences = [], []
        with open(gen / "passages.jsonl", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                passages.append(Passage(row["source"], row["title"], row["text"], row["start"], row["end"]))
                sentences.append(tuple(tuple(s) for s in row["sentences"]))
        return tuple(passages), tuple(sentences), sorted({p.source for p in passages})

    def array(name: str) -> np.ndarray:
        return np.load(gen / name, mmap_mode="r", allow_pickle=False)

    offsets, source_ids = array("passages.offsets.npy"), array("passages.source.npy")
    names = json.loads((gen / "sources.json").read_text(encoding="utf-8"))
    starts, spans = array("sentences.start.npy"), array("sentences.spans.npy")
    n, size = len(offsets) - 1, (gen / "passages.jsonl").stat().st_size
    checks = [
        # lines after this generation's last may be a later one's, appended to the shared file (`_link_whole`)
        (len(offsets) >= 1 and int(offsets[0]) == 0 and int(offsets[-1]) <= size, "passage offsets do not match"),
        (
            source_ids.shape == (n,) and (not n or 0 <= int(source_ids.min()) <= int(source_ids.max()) < len(names)),
            "passage sources do not match sources.json",
        ),
        (
            starts.shape == (n + 1,) and int(starts[0]) == 0 and int(starts[-1]) == len(spans),
            "sentence offsets do not match the passages",
        ),
    ]
    for ok, detail in checks:
        if not ok:
            raise IndexCorrupt(detail)
    return MappedPassages(gen / "passages.jsonl", offsets, source_ids, names), MappedSpans(spans, starts), names


def _read_articles(gen: Path, manifest: dict) -> Mapping[str, Archived]:
    if manifest.get("format_version", 0) < 5:
        with open(gen / "articles.jsonl", encoding="utf-8") as f:
            return {a.info.source: a for a in map(Archived.from_row, map(json.loads, f))}
    offsets = np.load(gen / "articles.offsets.npy", mmap_mode="r", allow_pickle=False)
    names = json.loads((gen / "articles.names.json").read_text(encoding="utf-8"))
    size = (gen / "articles.jsonl").stat().st_size
    # lines after this generation's last may be a later one's, appended to the shared file (write_articles)
    if len(offsets) != len(names) + 1 or int(offsets[0]) != 0 or int(offsets[-1]) > size:
        raise IndexCorrupt("article offsets do not match articles.jsonl")
    langs = gen / "articles.langs.json"
    langs = json.loads(langs.read_text(encoding="utf-8")) if langs.exists() else []  # written since languages.py
    if langs and len(langs) != len(names):
        raise IndexCorrupt("articles.langs.json does not match articles.names.json")
    return MappedArticles(gen / "articles.jsonl", offsets, names, langs)


def _current_generation(index_dir: Path) -> Path | None:
    link = index_dir / CURRENT
    if not link.is_symlink() and not link.is_dir():
        return None
    return index_dir / os.readlink(link) if link.is_symlink() else link


def generation_of(index_dir: Path) -> str:
    """The name of the generation `current` points at ("" if none): one readlink, cheap enough to poll."""
    try:
        return os.readlink(index_dir / CURRENT)
    except FileNotFoundError:
        return ""
    except OSError:  # a real folder (a copied index): its name says nothing, its manifest does
        return CURRENT if (index_dir / CURRENT).is_dir() else ""


def prune(index_dir: Path, grace: float | None = None) -> list[str]:
    """Remove generations no longer current for longer than the grace time; returns their names.

    The grace time runs from `.retired` (made when `current` moved on); a generation without
    it (left by an older version) counts from its own folder's time.
    """
    grace = GENERATION_GRACE_SECONDS if grace is None else grace
    current = _current_generation(index_dir)
    now, removed = time.time(), []
    for child in index_dir.iterdir():
        if not child.name.startswith("gen-") or child == current or not child.is_dir():
            continue
        marker = child / RETIRED
        try:
            since = (marker if marker.exists() else child).stat().st_mtime
        except OSError:
            continue
        if now - since >= grace:
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
    return removed


def _read_manifest_at(gen: Path) -> dict:
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"manifest unreadable: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise IndexCorrupt("manifest has no file list")
    return manifest


def read_manifest(index_dir: Path) -> dict | None:
    """The current manifest, None if there is no index; IndexCorrupt if it cannot be read."""
    gen = _current_generation(index_dir)
    return None if gen is None else _read_manifest_at(gen)


def load_current(index_dir: Path, held: IndexData | None = None) -> IndexData | None:
    """The current generation: `held` itself while it still is, else loaded; None if there is no index.

    `held` is known current by one readlink (the manifest is not read again), or, for a copied
    `current` folder whose name says nothing, by its manifest. IndexCorrupt if it cannot be read.
    """
    if held is None:
        return load_index(index_dir)
    if held.generation not in ("", CURRENT) and generation_of(index_dir) == held.generation:
        return held
    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    same = bool(held.manifest.get("built_at")) and all(
        held.manifest.get(k) == manifest.get(k) for k in ("built_at", "passages", "model")
    )
    return held if same else load_index(index_dir)


def load_index(index_dir: Path) -> IndexData | None:
    """Load the current generation, checking that its parts agree with each other.

    `current` is resolved once: every part comes from that generation, even if another
    process points `current` elsewhere meanwhile. Vectors, FAISS lists and BM25 are
    memory-mapped (read-only): loading costs the passages' text, not copies of the vectors.
    """
    gen = _current_generation(index_dir)
    if gen is None:
        return None
    manifest = _read_manifest_at(gen)
    try:
        passages, sentences, sources = _read_passages(gen, manifest)
        dense = vectors.load_dense(gen / "passages.faiss", manifest.get("dense"), mmap=True)
        version, dim = manifest.get("format_version", 0), int(manifest.get("dim", -1))
        if version < 5:  # read only to be rebuilt, for the reason "index format changed"
            sentence_vectors = np.load(gen / "sentences.npy", mmap_mode="r", allow_pickle=False)
        else:  # the rows this generation counts: a later one may have appended to a shared file
            sentence_vectors = read_vectors(gen / "sentences.npy", _sentence_count(sentences), dim)
        baseline = read_baseline(gen, dim)
        if version < 4:
            passage_vectors = dense.reconstruct_n(0, dense.ntotal)
            sentence_mean = mean_vector(sentence_vectors)
        else:
            if version < 5:
                passage_vectors = np.load(gen / "passages.npy", mmap_mode="r", allow_pickle=False)
            else:
                passage_vectors = read_vectors(gen / "passages.npy", len(passages), dim)
            sentence_mean = np.load(gen / "sentence_mean.npy", allow_pickle=False)
        dense = _with_recent(dense, manifest, passage_vectors)
        # a format-5 index kept bm25s's score matrix instead: read to be upgraded, not searched
        lexicon = lexical.load(gen, len(passages), _recent_counts(manifest)) if version > 5 else None
        articles = _read_articles(gen, manifest)
    except Exception as exc:
        raise IndexCorrupt(f"{type(exc).__name__}: {exc}") from None
    n, dim = len(passages), int(manifest.get("dim", -1))
    checks = [
        (manifest.get("passages") == n, f"manifest says {manifest.get('passages')} passages, found {n}"),
        (dense.ntotal == n and dense.d == dim, f"FAISS index holds {dense.ntotal}x{dense.d}, expected {n}x{dim}"),
        (passage_vectors.shape == (n, dim), "passage vectors do not match the passages"),
        (sentence_vectors.shape == (_sentence_count(sentences), dim), "sentence vectors do not match the passages"),
        (sentence_mean.shape == (dim,), "the mean sentence vector does not match the dimension"),
        (set(sources) <= articles.keys(), "articles.jsonl does not name every passage's article"),
    ]
    for ok, detail in checks:
        if not ok:
            raise IndexCorrupt(detail)
    return IndexData(
        manifest,
        passages,
        sentences,
        passage_vectors,
        sentence_vectors,
        dense,
        lexicon,
        articles,
        sentence_mean=sentence_mean,
        folder=gen,
        baseline=baseline,
    )


BASELINE_FILE = "baseline.npy"


def _recent_counts(manifest: dict) -> int:
    return int((manifest.get("lexicon") or {}).get("recent", 0))


def read_baseline(folder: Path, dim: int) -> np.ndarray | None:
    """The generation's baseline sample, or None (written before it was kept, or not of this dimension)."""
    try:
        sample = np.load(folder / BASELINE_FILE, allow_pickle=False)
    except FileNotFoundError:
        return None
    if sample.ndim != 2 or sample.shape[1] != dim or sample.dtype != np.float32:
        raise IndexCorrupt(f"{BASELINE_FILE} holds {sample.shape} {sample.dtype}, expected rows of {dim} float32")
    return sample


def _sentence_count(sentences) -> int:
    return int(sentences.starts[-1]) if isinstance(sentences, MappedSpans) else sum(map(len, sentences))
