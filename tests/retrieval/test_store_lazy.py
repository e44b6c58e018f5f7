"""A loaded index reads passages and sentence offsets on access, not at load: the tuple semantics stay.

Generations are written with synthetic vectors (no model); the texts mix English, Indonesian and
non-ASCII characters so that byte offsets into passages.jsonl differ from character offsets.
"""

from __future__ import annotations

import gc
import time
import weakref

import numpy as np
import pytest

from bot.core.errors import IndexCorrupt
from bot.core.models import Passage, SourceInfo
from bot.retrieval import store
from bot.retrieval.lexical import Lexicon
from bot.retrieval.store import (
    Archived,
    MappedArticles,
    MappedPassages,
    load_index,
    passage_sources,
    write_index,
    writer_lock,
)

DIM = 8
TEXTS = (
    "The harbour reopened on Monday. Ships queued at dawn.",
    "Pelabuhan dibuka kembali hari Senin. Kapal antre sejak subuh.",
    "Café prices rose 12% — baristas blamed the rain. ☕ Sales fell.",
    "Harga kopi naik. Petani di Gayo menunggu hujan.",
    "One sentence only.",
)


def generation(index_dir, count: int = 23):
    passages, sentences = [], []
    for i in range(count):
        text = TEXTS[i % len(TEXTS)] + f" #{i}"
        cut = text.index(".") + 1
        spans = ((0, cut), (cut + 1, len(text))) if cut < len(text) - 1 else ((0, len(text)),)
        passages.append(Passage(f"src/{i // 4}.txt", f"Judul {i // 4} é", text, i * 10, i * 10 + len(text)))
        sentences.append(spans)
    articles = [Archived(SourceInfo(f"src/{j}.txt", f"Judul {j}"), f"sha{j}") for j in range((count + 3) // 4)]
    rng = np.random.default_rng(0)
    pv = rng.standard_normal((count, DIM)).astype(np.float32)
    sv = rng.standard_normal((sum(map(len, sentences)), DIM)).astype(np.float32)
    manifest = {"format_version": store.FORMAT_VERSION, "dim": DIM, "files": {}, "passages": count}
    manifest["built_at"] = time.time()
    with writer_lock(index_dir) as tmp:
        lexicon = Lexicon.of_texts([p.text for p in passages])
        gen = write_index(tmp, manifest, passages, sentences, pv, sv, lexicon, articles)
    return gen, tuple(passages), tuple(sentences), {a.info.source: a for a in articles}


def test_loaded_passages_behave_as_the_tuples_written(tmp_path):
    _, passages, sentences, articles = generation(tmp_path)
    data = load_index(tmp_path)
    assert isinstance(data.passages, MappedPassages)
    assert len(data.passages) == len(passages) and len(data.sentences) == len(sentences)
    assert data.passages == passages and passages == data.passages and data.passages != passages[:-1]
    assert data.sentences == sentences
    assert data.passages[3] == passages[3] and data.passages[-1] == passages[-1]
    assert data.passages[2:9:3] == passages[2:9:3] and data.sentences[-3:] == sentences[-3:]
    assert list(data.passages) == list(passages) and passages[4] in data.passages
    assert data.passages + passages[:1] == passages + passages[:1]
    with pytest.raises(IndexError):
        data.passages[len(passages)]
    # sentence rows line up with the per-passage offsets, as search expects
    assert data.sentence_start.tolist() == np.cumsum([0, *map(len, sentences)])[:-1].tolist()
    assert passage_sources(data.passages) == tuple(p.source for p in passages)
    assert passage_sources(passages) == tuple(p.source for p in passages)
    assert [store.source_at(data.passages, i) for i in range(len(passages))] == [p.source for p in passages]
    assert [store.source_at(passages, i) for i in range(len(passages))] == [p.source for p in passages]
    assert isinstance(data.articles, MappedArticles) and dict(data.articles) == articles
    assert data.articles.get("src/2.txt").info.title == "Judul 2" and "src/99.txt" not in data.articles


def test_the_passages_file_is_parsed_only_where_read(tmp_path):
    gen, passages, _, _ = generation(tmp_path)
    path = gen / "passages.jsonl"
    raw = path.read_bytes()
    offsets = np.load(gen / "passages.offsets.npy")
    a, b = int(offsets[7]), int(offsets[8])
    path.write_bytes(raw[:a] + b"x" * (b - a - 1) + b"\n" + raw[b:])  # passage 7 garbled, same length
    data = load_index(tmp_path)
    assert data.passages[6] == passages[6] and data.passages[8] == passages[8]
    with pytest.raises(ValueError):
        data.passages[7]


def test_a_passage_read_again_is_parsed_once_and_a_dropped_generation_is_freed(tmp_path, monkeypatch):
    generation(tmp_path, count=6)
    data = load_index(tmp_path)
    parsed = []
    real = json_loads = store.json.loads
    monkeypatch.setattr(store.json, "loads", lambda raw: parsed.append(raw) or real(raw))
    first = data.passages[2]
    assert data.passages[2] is first and [p.title for p in data.passages[1:4]] == [
        "Judul 0 é",
        "Judul 0 é",
        "Judul 0 é",
    ]
    assert len(parsed) == 3  # rows 2, 1, 3: row 2 once
    monkeypatch.setattr(store.json, "loads", json_loads)
    # the cache holds no reference to its generation: dropping the index frees it, no collector needed
    passages = weakref.ref(data.passages)
    gc.disable()
    try:
        del data, first
        assert passages() is None
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("passages.offsets.npy", lambda a: a[:-1]),
        ("passages.source.npy", lambda a: a + 1000),
        ("sentences.start.npy", lambda a: a[:-2]),
        ("articles.offsets.npy", lambda a: a[:-1]),
    ],
)
def test_arrays_that_disagree_with_the_passages_are_corrupt(tmp_path, name, damage):
    gen, _, _, _ = generation(tmp_path)
    np.save(gen / name, damage(np.load(gen / name)), allow_pickle=False)
    with pytest.raises(IndexCorrupt):
        load_index(tmp_path)
