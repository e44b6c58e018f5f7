"""The dense index chosen by size: exact search while it is fast enough, a trained IVF past that.

Exact (flat) inner-product search costs a full scan per question: ~25 ms at 100k
passages and ~250 ms at 1M on this machine. Past `exact_max` passages (a setting), an
inverted-file index is trained on the corpus (k-means into `nlist` lists) and a question
scans only the `nprobe` nearest lists. `nprobe` is not guessed: it is the smallest value
whose recall@10 against exact search reaches the target, measured on held-out vectors.

    index, params = build_dense(vectors, exact_max=200_000)
    params -> {"type": "ivf_flat", "nlist": 1788, "nprobe": 12, "trained_on": 200_001, ...}

`params` goes into the manifest as is (plain JSON). Adding to a trained index works
(new vectors go to their nearest list), but the lists were cut for the corpus the index
was trained on: once it has grown RETRAIN_GROWTH times past that, the lists are too long
for the chosen nprobe's cost and too coarse for its recall, so `add_vectors` says retrain.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

RETRAIN_GROWTH = 4  # retrain once the corpus is 4x what the lists were trained on (lists ~4x longer)
# an update keeps nprobe until this share of the passages it was tuned on was added or removed (store.next_dense)
RETUNE_FRACTION = 0.05
# An update that only adds passages to an IVF index keeps its file as it is (shared with the previous
# generation) and searches the new rows exactly beside it, until this many of them; the update that
# would pass it adds them to the lists and writes the file once (store.next_dense). The trade-off:
# rewriting the lists cost 7 s of a 20 s add at a million passages (1.5 GB read and written), while
# every question scans the recent rows: 0.2 ms for 5,000 on this machine, 1.7 ms for 10,000 and
# 7 ms for 20,000 (p50, 384-d, k=50), once they no longer fit in the CPU's cache.
RECENT_MAX = 5_000
K = 10  # recall@K against exact search
MAX_QUERIES = 500  # held-out queries measuring recall: enough for +-0.01 at 0.95
TRAIN_PER_LIST = 64  # k-means needs ~40 points a list (FAISS warns below 39); 64 leaves room
MIN_PER_LIST = 39


def nlist_for(n: int) -> int:
    """About 4*sqrt(n) lists (FAISS's guideline is 4-16*sqrt(n)), never fewer than 39 training points a list."""
    return max(1, min(int(4 * math.sqrt(n)), n // MIN_PER_LIST))


def build_dense(
    vectors: np.ndarray,
    *,
    exact_max: int,
    target_recall: float = 0.95,
    sample_queries: np.ndarray | None = None,
    max_flat_bytes: int | None = None,
    seed: int = 0,
) -> tuple[faiss.Index, dict]:
    """The index for these normalized vectors, and its parameters for the manifest (with a one-line reason).

    `sample_queries`: held-out real vectors (questions, or passages not in the index) on
    which recall is measured; without them, 500 of the indexed vectors stand in, each
    query's own row left out of both result lists. `max_flat_bytes`: past this size of
    full-precision vectors, the lists store 8-bit scalar codes (4x less memory).
    """
    x = as_float32(vectors)
    n, dim = x.shape
    if n <= exact_max:
        index = faiss.IndexFlatIP(dim)
        add_in_chunks(index, x)
        reason = f"exact search: {n} passages <= the exact-search limit {exact_max}"
        return index, {"type": "flat", "exact_max": exact_max, "trained_on": n, "reason": reason}

    compress = max_flat_bytes is not None and n * dim * 4 > max_flat_bytes
    kind = "ivf_sq8" if compress else "ivf_flat"
    nlist = nlist_for(n)
    rng = np.random.default_rng(seed)
    train = take_rows(x, np.sort(rng.choice(n, size=min(n, nlist * TRAIN_PER_LIST), replace=False)))
    index = faiss.index_factory(dim, f"IVF{nlist},{'SQ8' if compress else 'Flat'}", faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed  # k-means is deterministic for a given seed
    index.train(train)
    add_in_chunks(index, x)

    queries, own = _queries(x, sample_queries, rng)
    nprobe, recall = tune_nprobe(index, x, queries, own, target_recall)
    index.nprobe = nprobe
    reached = "reaches" if recall >= target_recall else "best reachable, short of"
    reason = (
        f"{kind}: {n} passages > the exact-search limit {exact_max}; {nlist} lists, nprobe {nprobe} "
        f"{reached} recall@{K} {recall:.3f} (target {target_recall}) against exact search on {len(queries)} "
        f"{'held-out' if sample_queries is not None else 'indexed'} vectors"
    )
    params = {
        "type": kind,
        "nlist": nlist,
        "nprobe": nprobe,
        "trained_on": n,
        "train_sample": len(train),
        "recall_at_10": round(recall, 4),
        "target_recall": target_recall,
        "recall_queries": len(queries),
        "exact_max": exact_max,
        "reason": reason,
    }
    return index, params


def _queries(x: np.ndarray, sample: np.ndarray | None, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """Queries and, when they are indexed rows, their row ids (left out of the neighbours: a row finds itself)."""
    if sample is not None:
        q = np.ascontiguousarray(sample[:MAX_QUERIES], dtype=np.float32)
        return q, None
    rows = np.sort(rng.choice(len(x), size=min(len(x), MAX_QUERIES), replace=False))
    return x[rows], rows


def _top(index: faiss.Index, queries: np.ndarray, own: np.ndarray | None) -> np.ndarray:
    _, ids = index.search(queries, K + (own is not None))
    return _without_own(ids, own)


def _without_own(ids: np.ndarray, own: np.ndarray | None) -> np.ndarray:
    if own is None:
        return ids
    return np.array([[i for i in row if i != o][:K] for row, o in zip(ids, own, strict=True)])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top-K found in the approximate top-K, over all queries."""
    hits = sum(len(set(f[f >= 0]) & set(t[t >= 0])) for f, t in zip(found, truth, strict=True))
    return hits / max(1, int((truth >= 0).sum()))


def _exact_top(x: np.ndarray, queries: np.ndarray, own: np.ndarray | None) -> np.ndarray:
    """The exact top-K by a brute-force scan of `x`, a chunk at a time (a mapped file is read, not copied)."""
    k = K + (own is not None)
    scores, ids = [], []
    for start, chunk in chunks(x):
        d, i = faiss.knn(queries, chunk, min(k, len(chunk)), metric=faiss.METRIC_INNER_PRODUCT)
        scores.append(d)
        ids.append(np.where(i >= 0, i + start, -1))
    d, i = np.concatenate(scores, axis=1), np.concatenate(ids, axis=1)
    order = np.argsort(-d, axis=1, kind="stable")[:, :k]  # ties: the lower row first, as one scan gives
    return _without_own(np.take_along_axis(i, order, axis=1), own)


CHUNK_BYTES = 64 << 20


def chunks(x: np.ndarray):
    """(first row, rows) of `x` a few tens of MB at a time; rows of a mapped file are read, not mapped.

    Pages touched through a mapping count in the process's memory until it is unmapped: adding a
    million passage vectors to an index through one held 1.5 GB more than the index itself.
    """
    step = max(1, CHUNK_BYTES // max(1, x.itemsize * (x.shape[1] if x.ndim == 2 else 1)))
    for a in range(0, len(x), step):
        yield a, read_rows(x, a, min(len(x), a + step))


def read_rows(x: np.ndarray, a: int, b: int) -> np.ndarray:
    """Rows [a, b) as float32; of a mapped file, read with pread rather than through the mapping."""
    if isinstance(x, np.memmap) and x.dtype == np.float32 and x.flags.c_contiguous and x.filename:
        row = 4 * int(x.shape[1])
        try:
            with open(x.filename, "rb") as f:
                data = os.pread(f.fileno(), (b - a) * row, int(x.offset) + a * row)
            if len(data) == (b - a) * row:
                return np.frombuffer(data, dtype=np.float32).reshape(b - a, x.shape[1])
        except OSError:
            pass
    return np.ascontiguousarray(x[a:b], dtype=np.float32)


def as_float32(x: np.ndarray) -> np.ndarray:
    """`x` itself when it is C-contiguous float32 (a memory-mapped file stays one, see `chunks`), else a copy."""
    if isinstance(x, np.ndarray) and x.dtype == np.float32 and x.flags.c_contiguous:
        return x
    return np.ascontiguousarray(x, dtype=np.float32)


def take_rows(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """x[rows] for increasing `rows`, read chunk by chunk."""
    out, rows = [], np.asarray(rows, dtype=np.int64)
    for start, chunk in chunks(x):
        at = rows[(rows >= start) & (rows < start + len(chunk))]
        out.append(chunk[at - start])
    return np.concatenate(out) if out else np.zeros((0, x.shape[1]), np.float32)


def add_in_chunks(index: faiss.Index, x: np.ndarray) -> None:
    for _, chunk in chunks(x):
        index.add(chunk)


def tune_nprobe(
    index: faiss.Index, x: np.ndarray, queries: np.ndarray, own: np.ndarray | None, target: float
) -> tuple[int, float]:
    """The smallest nprobe reaching `target` recall@K (doubling, then bisecting), and its recall."""
    truth = _exact_top(x, queries, own)
    nlist = index.nlist

    def measure(p: int) -> float:
        index.nprobe = p
        return recall_at_k(_top(index, queries, own), truth)

    lo, hi, r_hi = 0, 1, measure(1)  # invariant: recall(lo) < target (lo 0: none), hi is the best tried
    while r_hi < target and hi < nlist:
        lo, hi = hi, min(nlist, hi * 2)
        r_hi = measure(hi)
    if r_hi < target:
        return hi, r_hi  # even every list falls short (quantization error): the best there is
    while hi - lo > 1:
        mid = (lo + hi) // 2
        r = measure(mid)
        lo, hi, r_hi = (lo, mid, r) if r >= target else (mid, hi, r_hi)
    return hi, r_hi


def add_vectors(index: faiss.Index, params: dict, new: np.ndarray) -> bool:
    """Add vectors to a built index; True when it should now be rebuilt by `build_dense`.

    A flat index that grew past its exact-search limit should become an IVF one; an IVF
    index trained on n vectors should be retrained once it holds RETRAIN_GROWTH * n.
    A memory-mapped index (`load_dense`) is read-only: ValueError, since FAISS would abort the process.
    """
    if is_mapped(index):
        raise ValueError("a memory-mapped index is read-only: load it with mmap=False to add to it")
    if len(new):
        index.add(np.ascontiguousarray(new, dtype=np.float32))
    if params["type"] == "flat":
        return index.ntotal > params["exact_max"]
    return index.ntotal >= RETRAIN_GROWTH * params["trained_on"]


def save_dense(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense(path: Path, params: dict | None = None, mmap: bool = True) -> faiss.Index:
    """Read an index, memory-mapped where FAISS can: the vectors stay in the page cache, shared by every process.

    Flat and scalar-quantized indexes map their codes (IO_FLAG_MMAP_IFC); IVF indexes map
    their inverted lists (IO_FLAG_MMAP). A mapped index is read-only: add to a copy read without mmap.
    """
    flags = 0
    if mmap:
        ivf = (params or {}).get("type", "").startswith("ivf")
        flags = (faiss.IO_FLAG_MMAP if ivf else faiss.IO_FLAG_MMAP_IFC) | faiss.IO_FLAG_READ_ONLY
    index = faiss.read_index(str(path), flags)
    if params and "nprobe" in params:
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        if isinstance(lists, faiss.OnDiskInvertedLists):
            # FAISS starts 32 threads to page in the probed lists at every search: at 300k
            # passages on 2 cores that took the search from 0.7 ms to 2.7-3.6 ms (p50), the
            # page cache holding the lists anyway once the index is warm
            lists.prefetch_nthread = 0
    return index


def with_recent(index: faiss.Index, recent: np.ndarray) -> faiss.Index:
    """`index` and an exact index of the rows after its own, searched as one: ids go on from index.ntotal."""
    if not len(recent):
        return index
    exact = faiss.IndexFlatIP(index.d)
    exact.add(as_float32(recent))
    both = faiss.IndexShards(index.d, False, True)  # not threaded; the second shard's ids follow the first's
    both.add_shard(index)  # (faiss keeps a reference to each shard)
    both.add_shard(exact)
    return both


def is_mapped(index: faiss.Index) -> bool:
    """True for an index whose data is a read-only view of a file (FAISS aborts on adding to one)."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        return isinstance(lists, faiss.OnDiskInvertedLists) and bool(lists.read_only)
    codes = getattr(index, "codes", None)
    return codes is not None and hasattr(codes, "is_owned") and not codes.is_owned
