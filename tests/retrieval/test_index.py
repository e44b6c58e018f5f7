"""The index on disk, with the real model on tiny corpora."""

import json
import logging
import os

import pytest

from bot.core.errors import SeedsError
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.engine import Engine
from bot.retrieval.store import load_index, prune, read_manifest
from tests.conftest import make_settings

ALPHA = "Kelinci Emas Dibeli Startup Nusantara\n\nStartup Nusantara membeli perusahaan Kelinci Emas senilai Rp 5 triliun pada bulan Mei. Kesepakatan itu diumumkan di Jakarta oleh pendiri Budi Santoso.\n"
BETA = "Volcano Robotics Opens A Lab In Oslo\n\nVolcano Robotics opened a research lab in Oslo with 40 engineers. The lab will build walking robots for warehouses.\n"
GAMMA = "Kopi Luwak Menjadi Ekspor Utama\n\nEkspor kopi luwak naik tiga kali lipat tahun ini menurut kementerian perdagangan. Harga per kilogram mencapai dua juta rupiah.\n"


def write(corpus, name, text):
    (corpus / "seeds" / name).write_text(text, encoding="utf-8")


def make_config(corpus, **overrides) -> RetrievalConfig:
    return RetrievalConfig.from_settings(make_settings(corpus, **overrides))


def open_engine(corpus, embedder, **overrides):
    return Engine.open(make_settings(corpus, **overrides), embedder=embedder)


def test_add_change_and_remove_update_the_index(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    engine = open_engine(corpus, embedder)
    assert {p.source for p in engine.data.passages} == {"a.txt", "b.txt"}
    assert engine.refresh() is None  # nothing changed: nothing done

    write(corpus, "c.txt", GAMMA)
    report = engine.refresh()
    assert report.added == ("c.txt",) and report.unchanged == 2 and not report.changed
    assert engine.ask("Berapa harga kopi luwak per kilogram?").passages[0].source == "c.txt"

    write(corpus, "b.txt", BETA.replace("Oslo", "Bergen"))
    report = engine.refresh()
    assert report.changed == ("b.txt",) and report.added == ()
    assert any("Bergen" in p.text for p in engine.data.passages)
    assert not any("Oslo" in p.text for p in engine.data.passages)

    (corpus / "seeds" / "a.txt").unlink()
    report = engine.refresh()
    assert report.removed == ("a.txt",)
    assert {p.source for p in engine.data.passages} == {"b.txt", "c.txt"}
    assert set(read_manifest(corpus / "index")["files"]) == {"b.txt", "c.txt"}


def test_unchanged_files_are_not_embedded_again(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    engine = open_engine(corpus, embedder)
    calls = []
    real = embedder.passages
    try:
        embedder.passages = lambda texts: calls.append(list(texts)) or real(texts)
        write(corpus, "b.txt", BETA)
        engine.refresh()
    finally:
        del embedder.passages
    embedded = [t for batch in calls for t in batch]
    assert embedded and all("Kelinci" not in t for t in embedded)
    assert any("Volcano" in t for t in embedded)


def test_a_new_engine_reuses_the_index_on_disk(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    first = open_engine(corpus, embedder)
    second = open_engine(corpus, embedder)
    assert second.data.built_at == first.data.built_at


def test_a_model_change_rebuilds(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    open_engine(corpus, embedder)
    manifest_path = os.path.realpath(corpus / "index" / "current") + "/manifest.json"
    manifest = json.load(open(manifest_path))
    manifest["model"] = "some-other-model"
    json.dump(manifest, open(manifest_path, "w"))
    engine = Engine(make_config(corpus), embedder)
    report = engine.refresh()
    assert "embedding model changed from some-other-model" in report.rebuilt_because
    assert read_manifest(corpus / "index")["model"] == embedder.name


def test_a_chunking_change_rebuilds(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    open_engine(corpus, embedder)
    engine = Engine(make_config(corpus, chunk_max_chars=200), embedder)
    assert engine.refresh().rebuilt_because == "chunking settings changed"


@pytest.mark.parametrize("part", ["passages.faiss", "manifest.json", "passages.jsonl", "sentences.npy"])
def test_a_truncated_file_is_detected_and_rebuilt(corpus, embedder, part, caplog):
    write(corpus, "a.txt", ALPHA)
    write(corpus, "b.txt", BETA)
    open_engine(corpus, embedder)
    path = os.path.realpath(corpus / "index" / "current") + "/" + part
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING):
        engine = open_engine(corpus, embedder)
    assert "damaged" in caplog.text
    assert len(engine.data.passages) > 0
    assert load_index(corpus / "index").manifest["passages"] == len(engine.data.passages)
    assert engine.ask("Where did Volcano Robotics open a lab?").passages[0].source == "b.txt"


def test_unreadable_files_are_skipped_and_named(corpus, embedder, caplog):
    write(corpus, "good.txt", ALPHA)
    (corpus / "seeds" / "empty.txt").write_bytes(b"")
    (corpus / "seeds" / "latin1.txt").write_bytes(
        "Berita tentang caf\u00e9 di Bandung yang ramai sekali.".encode("latin-1")
    )
    engine = Engine(make_config(corpus), embedder)
    with caplog.at_level(logging.WARNING):
        report = engine.refresh()
    assert "Skipped empty.txt: the file is empty" in caplog.text
    assert "Skipped latin1.txt: the file is not UTF-8" in caplog.text
    assert sorted(s.split(":")[0] for s in report.skipped) == ["empty.txt", "latin1.txt"]
    assert {p.source for p in engine.data.passages} == {"good.txt"}
    assert engine.refresh() is None  # skipped files are remembered: no rebuild loop


def test_empty_seeds_folder_is_a_clear_error(corpus, embedder):
    with pytest.raises(SeedsError, match=r"No readable \.txt articles"):
        open_engine(corpus, embedder)


def test_the_swap_is_atomic_and_old_generations_are_pruned(corpus, embedder):
    write(corpus, "a.txt", ALPHA)
    engine = open_engine(corpus, embedder)
    for text in (BETA, GAMMA, BETA + "\nMore news follows in this extra sentence here.\n"):
        write(corpus, "b.txt", text)
        engine.refresh()
    gens = sorted(p.name for p in (corpus / "index").iterdir() if p.name.startswith("gen-"))
    assert os.readlink(corpus / "index" / "current") in gens
    assert not [p for p in (corpus / "index").iterdir() if p.name.startswith(".tmp-")]
    # replaced generations stay for readers still loading them (store.GENERATION_GRACE_SECONDS), then go
    prune(corpus / "index", grace=0)
    left = [p.name for p in (corpus / "index").iterdir() if p.name.startswith("gen-")]
    assert left == [os.readlink(corpus / "index" / "current")]


def test_an_unwritable_index_folder_is_a_clear_error(corpus, embedder):
    from bot.core.errors import IndexWriteError

    write(corpus, "a.txt", ALPHA)
    (corpus / "index").write_text("a file where the index folder should be")
    with pytest.raises(IndexWriteError, match="Cannot write the index"):
        open_engine(corpus, embedder)
