"""The store at scale: the dense index chosen by size, loads that map rather than copy, and several
processes sharing one index folder (one generation per load, a grace time, a running engine picking
up what another process built).

Synthetic generations (random clustered vectors, no model) keep the dense-index tests fast; the
engine test runs a real second writer process (tests/retrieval/index_worker.py) with the real model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from bot.core import messages
from bot.core.models import Passage, SourceInfo
from bot.retrieval import engine as engine_mod
from bot.retrieval import store, vectors
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.lexical import Lexicon
from bot.retrieval.store import Archived, in_memory, load_index, prune, write_index, writer_lock
from tests.conftest import ROOT, make_settings
from tests.retrieval.test_index import ALPHA, BETA, write

DIM = 32
WORDS = ("harbour", "pelabuhan", "robot", "kopi", "market", "pasar", "rocket", "hujan")


def clustered(n: int, seed: int = 0, centres: int = 40) -> np.ndarray:
    """Normalized vectors around a few centres, as embeddings of a topical archive are."""
    rng = np.random.default_rng(seed)
    middle = np.random.default_rng(99).standard_normal((centres, DIM))  # the same topics in every call
    x = middle[rng.integers(0, centres, n)] + 0.35 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def parts(vecs: np.ndarray):
    """Passages (one sentence each, in two languages), their sentence vectors and articles, for `vecs`."""
    passages, sentences = [], []
    for i in range(len(vecs)):
        text = f"{WORDS[i % len(WORDS)]} {WORDS[(i * 3) % len(WORDS)]} nomor {i}."
        passages.append(Passage(f"a{i // 10}.txt", f"Judul {i // 10}", text, 0, len(text)))
        sentences.append(((0, len(text)),))
    articles = [Archived(SourceInfo(f"a{j}.txt", f"Judul {j}"), f"sha{j}") for j in range((len(vecs) + 9) // 10)]
    return passages, sentences, articles


def manifest_for(n: int) -> dict:
    return {"format_version": store.FORMAT_VERSION, "dim": DIM, "files": {}, "passages": n, "built_at": time.time()}


def write_generation(index_dir: Path, vecs: np.ndarray, **options) -> Path:
    passages, sentences, articles = parts(vecs)
    lexicon = Lexicon.of_texts([p.text for p in passages])
    with writer_lock(index_dir) as tmp:
        return write_index(tmp, manifest_for(len(vecs)), passages, sentences, vecs, vecs, lexicon, articles, **options)


def centroids(data) -> np.ndarray:
    quantizer = faiss.extract_index_ivf(data.dense).quantizer
    return quantizer.reconstruct_n(0, quantizer.ntotal)


def test_past_exact_max_an_ivf_index_is_chosen_recorded_and_loaded_mapped(tmp_path):
    x = clustered(1000)
    write_generation(tmp_path, x, exact_max=200)
    data = load_index(tmp_path)
    dense = data.manifest["dense"]
    assert dense["type"] == "ivf_flat" and dense["trained_on"] == 1000 and dense["recall_at_10"] >= 0.95
    assert dense["nlist"] > 1 and 1 <= dense["nprobe"] <= dense["nlist"]
    assert "1000 passages > the exact-search limit 200" in dense["reason"]
    ivf = faiss.extract_index_ivf(data.dense)
    assert ivf.nprobe == dense["nprobe"] and vectors.is_mapped(data.dense)
    # the vectors are read-only views of the files, not copies
    assert isinstance(data.passage_vectors, np.memmap) and isinstance(data.sentence_vectors, np.memmap)
    assert not data.passage_vectors.flags.writeable
    np.testing.assert_allclose(data.sentence_mean, x.mean(axis=0), atol=1e-5)
    # held-out questions near the same topics: the IVF index finds what exact search finds
    queries = clustered(60, seed=7)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(x)
    _, truth = exact.search(queries, 10)
    _, found = data.dense.search(queries, 10)
    assert vectors.recall_at_k(found, truth) >= 0.9
    assert sum(f[0] == t[0] for f, t in zip(found, truth, strict=True)) >= 0.9 * len(queries)


def test_within_exact_max_the_index_is_exact(tmp_path):
    write_generation(tmp_path, clustered(300), exact_max=1000)
    data = load_index(tmp_path)
    assert (
        data.manifest["dense"]["type"] == "flat"
        and "300 passages <= the exact-search limit 1000" in (data.manifest["dense"]["reason"])
    )
    assert isinstance(data.dense, faiss.IndexFlatIP) and vectors.is_mapped(data.dense)


def trained(tmp_path, monkeypatch):
    """1,000 vectors in a trained IVF index on disk, loaded; and a list counting later trainings."""
    first = clustered(1000)
    write_generation(tmp_path, first, exact_max=200)
    base = load_index(tmp_path)
    trainings = []
    real_build = vectors.build_dense
    monkeypatch.setattr(vectors, "build_dense", lambda *a, **k: trainings.append(1) or real_build(*a, **k))
    return first, base, trainings


def test_a_trained_index_is_reused_until_the_corpus_outgrows_it(tmp_path, monkeypatch):
    first, base, trainings = trained(tmp_path, monkeypatch)

    grown = np.concatenate([first, clustered(500, seed=1)])  # 1.5x: the lists still fit
    write_generation(tmp_path, grown, exact_max=200, previous=base)
    reused = load_index(tmp_path)
    assert not trainings
    assert reused.manifest["dense"]["trained_on"] == 1000 and reused.dense.ntotal == 1500
    assert "reused" in reused.manifest["dense"]["reason"]
    np.testing.assert_array_equal(centroids(reused), centroids(base))
    assert faiss.extract_index_ivf(reused.dense).nprobe == reused.manifest["dense"]["nprobe"]
    _, found = reused.dense.search(grown[1000:1100], 1)
    assert (found[:, 0] == np.arange(1000, 1100)).mean() >= 0.9  # the new vectors went into the lists

    outgrown = np.concatenate([grown, clustered(vectors.RETRAIN_GROWTH * 1000 - 1500, seed=2)])
    write_generation(tmp_path, outgrown, exact_max=200, previous=reused)
    retrained = load_index(tmp_path)
    assert trainings == [1] and retrained.manifest["dense"]["trained_on"] == len(outgrown)
    assert "reused" not in retrained.manifest["dense"]["reason"]


def test_the_index_built_in_memory_is_the_one_written(tmp_path, monkeypatch):
    """The calibration searches the generation in memory first: its IVF index is not trained twice."""
    x = clustered(1000)
    passages, sentences, articles = parts(x)
    lexicon = Lexicon.of_texts([p.text for p in passages])
    manifest = manifest_for(len(x))
    built = in_memory(manifest, passages, sentences, x, x, lexicon, articles, exact_max=200)
    assert manifest["dense"]["type"] == "ivf_flat"
    monkeypatch.setattr(vectors, "build_dense", lambda *a, **k: pytest.fail("trained a second time"))
    with writer_lock(tmp_path) as tmp:
        write_index(tmp, manifest, passages, sentences, x, x, lexicon, articles, exact_max=200, built=built)
    np.testing.assert_array_equal(centroids(load_index(tmp_path)), centroids(built))


def test_a_load_reads_one_generation_even_if_current_moves_meanwhile(tmp_path, monkeypatch):
    first = write_generation(tmp_path, clustered(50), exact_max=1000)
    second = write_generation(tmp_path, clustered(70, seed=3), exact_max=1000)
    store._point_current_at(tmp_path, first)
    real_read = store._read_manifest_at

    def read_then_swap(gen: Path) -> dict:
        manifest = real_read(gen)
        store._point_current_at(tmp_path, second)  # another writer's generation goes live mid-load
        return manifest

    monkeypatch.setattr(store, "_read_manifest_at", read_then_swap)
    data = load_index(tmp_path)
    assert data.folder == first and data.generation == first.name
    assert len(data.passages) == data.dense.ntotal == len(data.passage_vectors) == data.manifest["passages"] == 50
    assert store.generation_of(tmp_path) == second.name


def test_old_generations_stay_for_the_grace_time_and_a_loaded_one_outlives_removal(tmp_path):
    gens = [write_generation(tmp_path, clustered(40, seed=s), exact_max=1000) for s in range(3)]
    assert all(g.is_dir() for g in gens)  # each retired less than the grace time ago
    old = time.time() - store.GENERATION_GRACE_SECONDS - 1
    os.utime(gens[0] / store.RETIRED, (old, old))
    assert not (gens[2] / store.RETIRED).exists()  # the current one is not retired
    fourth = write_generation(tmp_path, clustered(40, seed=4), exact_max=1000)
    assert not gens[0].exists() and gens[1].is_dir() and gens[2].is_dir() and fourth.is_dir()

    data = load_index(tmp_path)
    expected = data.dense.search(np.asarray(data.passage_vectors[:3]), 1)[1]
    write_generation(tmp_path, clustered(40, seed=5), exact_max=1000)
    assert fourth.name in prune(tmp_path, grace=0)  # removed while a reader still holds it
    # mapped files live on until unmapped: the reader still answers from them
    assert (data.dense.search(np.asarray(data.passage_vectors[:3]), 1)[1] == expected).all()
    assert float(np.asarray(data.sentence_vectors).sum()) != 0.0 and data.lexicon.scores(
        "robot", np.arange(40)
    ).shape == (40,)


def test_an_index_of_the_previous_format_is_rebuilt_once_with_the_reason(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    Engine.open(make_settings(corpus), embedder=embedder)
    gen = Path(os.path.realpath(corpus / "index" / "current"))
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format_version"] = 3
    (gen / "manifest.json").write_text(json.dumps(manifest))
    for name in ("passages.npy", "sentence_mean.npy"):  # what format 3 did not write
        (gen / name).unlink()
    engine = Engine(RetrievalConfig.from_settings(make_settings(corpus)), embedder)
    report = engine.refresh()
    assert report.rebuilt_because == messages.INDEX_REBUILD_FORMAT
    assert engine.refresh() is None and engine.data.manifest["format_version"] == store.FORMAT_VERSION


def test_a_running_engine_picks_up_a_generation_another_process_wrote(corpus, embedder, monkeypatch):
    write(corpus, "a.txt", ALPHA)
    engine = Engine.open(make_settings(corpus), embedder=embedder)
    first = engine.data.generation
    assert engine.maybe_reload() is None  # looked at most every RELOAD_CHECK_SECONDS
    question = "Where did Volcano Robotics open a lab?"
    assert "b.txt" not in engine.ask(question).sources

    write(corpus, "b.txt", BETA)
    command = [sys.executable, "-m", "tests.retrieval.index_worker", str(corpus / "seeds"), str(corpus / "index")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1])["report"]["added"] == ["b.txt"]
    assert engine.data.generation == first  # nothing noticed yet

    monkeypatch.setattr(engine_mod, "RELOAD_CHECK_SECONDS", 0.0)
    engine._next_check = 0.0
    loading = engine.maybe_reload()
    assert loading is not None
    loading.join(timeout=60)
    assert engine.data.generation == store.generation_of(corpus / "index") != first
    assert engine.ask(question).sources[0] == "b.txt"
    assert engine.maybe_reload() is None  # already on the current generation


def ivf_lists(index) -> list[tuple[list[int], bytes]]:
    """Every list's ids and codes, in order."""
    ivf = faiss.extract_index_ivf(index)
    lists, out = ivf.invlists, []
    for i in range(ivf.nlist):
        m = lists.list_size(i)
        ids = faiss.rev_swig_ptr(lists.get_ids(i), m).tolist() if m else []
        codes = faiss.rev_swig_ptr(lists.get_codes(i), m * lists.code_size).tobytes() if m else b""
        out.append((ids, codes))
    return out


def test_an_update_keeps_the_ivf_lists_of_the_kept_rows_and_adds_only_the_new(tmp_path, monkeypatch):
    first, base, trainings = trained(tmp_path, monkeypatch)
    rows = np.array([i for i in range(1000) if i % 7], dtype=np.int64)  # a removal every few rows
    new = clustered(60, seed=5)
    passages, sentences, _ = parts(new)
    update = store.Rows(base, rows, passages, sentences, new, new)
    everything = np.concatenate([first[rows], new])
    index, params = store.next_dense(update, everything, tmp_path / "next", exact_max=200)
    # what the trained, emptied index holds after adding the kept and new vectors in order
    expected = faiss.read_index(str(base.folder / "passages.faiss"))
    expected.reset()
    expected.add(everything)
    assert not trainings and index.ntotal == len(everything)
    assert ivf_lists(index) == ivf_lists(expected)
    assert params["tuned_on"] == len(everything) and params["changed"] == 0  # many changed: nprobe tuned again

    # a small change keeps nprobe, and counts what changed since it was tuned
    base_params = base.manifest["dense"]
    few = clustered(10, seed=6)
    p, s, _ = parts(few)
    small = store.Rows(base, np.arange(1000), p, s, few, few)
    monkeypatch.setattr(vectors, "RECENT_MAX", 5)  # too many to search beside the lists: they go into them
    index, params = store.next_dense(small, np.concatenate([first, few]), tmp_path / "next", exact_max=200)
    assert params["nprobe"] == base_params["nprobe"] and params["changed"] == 10 and "recent" not in params
    assert faiss.extract_index_ivf(index).nprobe == base_params["nprobe"] and "10 added or removed" in params["reason"]
    expected.reset()
    expected.add(np.concatenate([first, few]))
    assert ivf_lists(index) == ivf_lists(expected)


def test_an_addition_links_the_ivf_file_and_searches_the_new_rows_exactly_until_there_are_too_many(
    tmp_path, monkeypatch
):
    first, base, trainings = trained(tmp_path, monkeypatch)
    monkeypatch.setattr(vectors, "RECENT_MAX", 25)
    before = ivf_lists(faiss.read_index(str(base.folder / "passages.faiss")))
    grown, data = first, base
    for seed in (7, 8):  # 2 additions of 10: both beside the lists, the file shared
        new = clustered(10, seed=seed)
        grown = np.concatenate([grown, new])
        write_update(tmp_path, data, new)
        data = load_index(tmp_path)
        assert data.manifest["dense"]["recent"] == len(grown) - 1000 and data.dense.ntotal == len(grown)
        assert os.stat(data.folder / "passages.faiss").st_ino == os.stat(base.folder / "passages.faiss").st_ino
        assert "searched exactly beside the lists" in data.manifest["dense"]["reason"]
        _, found = data.dense.search(new, 1)
        assert (found[:, 0] == np.arange(len(grown) - 10, len(grown))).all()  # the new rows, by their own ids
    assert ivf_lists(faiss.read_index(str(base.folder / "passages.faiss"))) == before  # never written to
    assert not trainings
    new = clustered(10, seed=9)  # 30 recent would pass 25: every row goes into the lists, one file written
    grown = np.concatenate([grown, new])
    write_update(tmp_path, data, new)
    merged = load_index(tmp_path)
    assert "recent" not in merged.manifest["dense"] and merged.dense.ntotal == len(grown)
    assert os.stat(merged.folder / "passages.faiss").st_ino != os.stat(base.folder / "passages.faiss").st_ino
    expected = faiss.read_index(str(base.folder / "passages.faiss"))
    expected.reset()
    expected.add(grown)
    assert ivf_lists(merged.dense) == ivf_lists(expected)
    # a removal while rows are searched beside the lists: they go into the lists, renumbered
    write_update(tmp_path, merged, clustered(5, seed=10))
    with_recent = load_index(tmp_path)
    assert with_recent.manifest["dense"]["recent"] == 5
    keep = np.array([i for i in range(len(grown) + 5) if i % 9], dtype=np.int64)
    write_update(tmp_path, with_recent, clustered(0, seed=11), rows=keep)
    removed = load_index(tmp_path)
    assert "recent" not in removed.manifest["dense"] and removed.dense.ntotal == len(keep)
    everything = np.concatenate([grown, clustered(5, seed=10)])[keep]
    expected.reset()
    expected.add(everything)
    assert ivf_lists(removed.dense) == ivf_lists(expected)


def write_update(index_dir: Path, base, new: np.ndarray, rows: np.ndarray | None = None) -> None:
    """An update of `base` as indexing.write_generation writes one: kept `rows` (all by default), then `new`."""
    rows = np.arange(len(base.passages), dtype=np.int64) if rows is None else rows
    passages, sentences, _ = parts(new)
    update = store.Rows(base, rows, passages, sentences, new, new)
    with writer_lock(index_dir) as tmp:
        store.write_rows(tmp, update)
        everything = store.read_vectors(tmp / "passages.npy", len(update), DIM)
        dense, params = store.next_dense(update, everything, tmp, exact_max=200)
        manifest = {**manifest_for(len(update)), "dense": params}
        store.write_articles(tmp, parts(np.zeros((len(base.passages) + len(new), DIM)))[2])  # names every source
        texts = [base.passages[i].text for i in rows.tolist()] + [p.text for p in passages]
        store.publish(tmp, manifest, dense, Lexicon.of_texts(texts))
