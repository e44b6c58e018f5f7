"""The dense index chosen by size: exact below the limit, IVF tuned to a measured recall above it."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from bot.retrieval import vectors as V


def clustered(n: int, dim: int = 64, clusters: int = 40, spread: float = 0.8, seed: int = 0) -> np.ndarray:
    """Normalized vectors around a few centres (the same for every seed), like embeddings grouped by topic."""
    centres = np.random.default_rng(12345).normal(size=(clusters, dim))
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(clusters, size=n)] + spread * rng.normal(size=(n, dim))
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def corpus() -> np.ndarray:
    return clustered(6000)


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return clustered(300, seed=1)


def exact_top(x: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :k]


def test_below_the_limit_is_exact_search(corpus, queries):
    index, params = V.build_dense(corpus, exact_max=len(corpus))
    assert params["type"] == "flat" and "exact" in params["reason"]
    _, ids = index.search(queries, 10)
    truth = exact_top(corpus, queries)
    assert V.recall_at_k(ids, truth) > 0.999


def test_past_the_limit_ivf_reaches_the_target_recall_with_the_smallest_nprobe(corpus, queries):
    index, params = V.build_dense(corpus, exact_max=1000, sample_queries=queries[:150])
    assert params["type"] == "ivf_flat"
    assert params["trained_on"] == len(corpus) and params["nlist"] == V.nlist_for(len(corpus))
    assert params["recall_at_10"] >= 0.95
    assert 1 <= params["nprobe"] < params["nlist"]  # cheaper than scanning every list
    assert str(params["nprobe"]) in params["reason"] and "ivf_flat" in params["reason"]
    # the recorded recall holds on queries the tuning never saw
    truth = exact_top(corpus, queries[150:])
    _, ids = index.search(queries[150:], 10)
    assert V.recall_at_k(ids, truth) >= 0.92
    if params["nprobe"] > 1:  # and one list fewer falls short: nprobe is the smallest that reaches it
        faiss.extract_index_ivf(index).nprobe = params["nprobe"] - 1
        _, ids = index.search(queries[:150], 10)
        assert V.recall_at_k(ids, exact_top(corpus, queries[:150])) < 0.95


def test_without_sample_queries_indexed_rows_do_not_count_themselves(corpus):
    _, params = V.build_dense(corpus, exact_max=1000)
    assert params["recall_queries"] == V.MAX_QUERIES and params["recall_at_10"] >= 0.95
    assert "indexed vectors" in params["reason"]


def test_a_memory_limit_chooses_8_bit_codes(corpus, tmp_path):
    flat, _ = V.build_dense(corpus, exact_max=1000)
    small, params = V.build_dense(corpus, exact_max=1000, max_flat_bytes=corpus.nbytes // 2)
    assert params["type"] == "ivf_sq8" and params["recall_at_10"] >= 0.95
    V.save_dense(flat, tmp_path / "flat.faiss")
    V.save_dense(small, tmp_path / "sq8.faiss")
    assert (tmp_path / "sq8.faiss").stat().st_size < 0.4 * (tmp_path / "flat.faiss").stat().st_size


def test_an_unreachable_target_says_so():
    x = clustered(3000, seed=3)
    _, params = V.build_dense(x, exact_max=100, target_recall=1.01)
    assert params["nprobe"] == params["nlist"] and "short of" in params["reason"]


def test_the_same_seed_builds_the_same_index(corpus):
    assert V.build_dense(corpus, exact_max=1000)[1] == V.build_dense(corpus, exact_max=1000)[1]


def test_adding_finds_the_new_vectors_and_asks_for_a_retrain_at_four_times(corpus):
    base = corpus[:1500]
    index, params = V.build_dense(base, exact_max=1000)
    grown = clustered(3 * len(base), seed=7)
    assert not V.add_vectors(index, params, grown[:-1])  # 3,999 + ... just below 4x
    _, ids = index.search(grown[:50], 1)
    assert (ids[:, 0] == np.arange(len(base), len(base) + 50)).mean() > 0.9
    assert V.add_vectors(index, params, grown[-1:])  # now 4x what it was trained on
    assert index.ntotal == V.RETRAIN_GROWTH * params["trained_on"]


def test_a_flat_index_grown_past_the_limit_asks_for_ivf(corpus):
    index, params = V.build_dense(corpus[:900], exact_max=1000)
    assert not V.add_vectors(index, params, corpus[900:1000])
    assert V.add_vectors(index, params, corpus[1000:1001])


@pytest.mark.parametrize(
    "limits", [{"exact_max": 10_000}, {"exact_max": 1000}, {"exact_max": 1000, "max_flat_bytes": 1}]
)
def test_a_memory_mapped_index_answers_the_same(corpus, queries, tmp_path, limits):
    index, params = V.build_dense(corpus, **limits)
    path = tmp_path / "passages.faiss"
    V.save_dense(index, path)
    mapped = V.load_dense(path, params)
    assert V.is_mapped(mapped) and not V.is_mapped(index)
    assert str(path) in open("/proc/self/maps").read()  # the file is mapped, not copied
    expected, got = index.search(queries, 10), mapped.search(queries, 10)
    assert np.array_equal(expected[1], got[1]) and np.allclose(expected[0], got[0])
    ivf = faiss.try_extract_index_ivf(mapped)
    if ivf is not None:  # no thread pool paging the lists in at every search (bench/scale/warm.py)
        assert faiss.downcast_InvertedLists(ivf.invlists).prefetch_nthread == 0
    with pytest.raises(ValueError, match="read-only"):
        V.add_vectors(mapped, params, queries[:1])  # FAISS itself would abort the process
    copy = V.load_dense(path, params, mmap=False)
    V.add_vectors(copy, params, queries[:1])
    assert copy.ntotal == len(corpus) + 1
