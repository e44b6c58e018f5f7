"""An index brought up to date by updates answers exactly as one built afresh from the same articles.

Updates copy what they keep (passage bytes, vector files, IVF lists, BM25 token ids) instead of
rebuilding it; these tests hold them to a fresh build after adds, edits and deletions, in English
and Indonesian, both as `update_index` returns the index and as another process loads it.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from bot.retrieval import indexing, loading, store
from bot.retrieval.config import RetrievalConfig
from bot.retrieval.indexing import update_index
from bot.retrieval.search import search
from bot.retrieval.store import load_index
from tests.conftest import make_settings

# Articles written for this test (not the seeds), long enough for several passages at 200 characters.
ARTICLES = {
    "a_ferry.txt": (
        "Harbour Ferry Adds A Night Crossing\n\n"
        "The harbour ferry company added a night crossing between Tallinn and Helsinki this spring. "
        "Tickets for the late boat cost twelve euros and sell out on Fridays. "
        "The captain said the crossing takes two hours when the sea is calm. "
        "Cyclists may bring their bikes on board for three euros more.\n"
    ),
    "b_kopi.txt": (
        "Koperasi Kopi Gayo Membuka Gudang Baru\n\n"
        "Koperasi petani kopi Gayo membuka gudang baru di Takengon untuk menyimpan tiga ratus ton biji kopi. "
        "Gudang itu dibangun dengan pinjaman bank daerah senilai empat miliar rupiah. "
        "Ketua koperasi berharap harga jual naik karena kopi bisa disimpan sampai musim sepi. "
        "Para petani akan membayar sewa gudang dari hasil penjualan.\n"
    ),
    "c_library.txt": (
        "Perpustakaan Kota Buka Sampai Tengah Malam\n\n"
        "Perpustakaan kota Bandung kini buka sampai tengah malam selama musim ujian. "
        "Mahasiswa boleh meminjam laptop di meja depan dengan kartu anggota. "
        "Kepala perpustakaan menambah dua puluh kursi baca di lantai tiga.\n"
    ),
    "d_orchard.txt": (
        "Orchard Growers Try Hail Nets\n\n"
        "Apple growers in the valley stretched hail nets over forty hectares of orchard in May. "
        "The nets cost eleven thousand dollars a hectare and last about a decade. "
        "Growers who tried them last year lost almost no fruit to the June storms.\n"
    ),
    "e_kereta.txt": (
        "Kereta Malam Jakarta Surabaya Ditambah\n\n"
        "Operator kereta menambah satu perjalanan malam dari Jakarta ke Surabaya mulai bulan depan. "
        "Kereta berangkat pukul sembilan malam dan tiba pukul enam pagi. "
        "Harga tiket kelas ekonomi dimulai dari dua ratus ribu rupiah.\n"
    ),
    "f_museum.txt": (
        "Museum Opens A Room Of Old Radios\n\n"
        "The city museum opened a room of two hundred old radios donated by a retired engineer. "
        "Visitors can tune a restored valve radio to the local station. "
        "Entry to the new room is free on the first Sunday of each month.\n"
    ),
}
QUESTIONS = (
    "How much does the night ferry ticket cost?",
    "Berapa ton kopi yang bisa disimpan di gudang baru?",
    "Sampai jam berapa perpustakaan Bandung buka?",
    "What do hail nets cost per hectare?",
    "Kapan kereta malam tiba di Surabaya?",
    "Who donated the old radios to the museum?",
    "What is the capital of Canada?",
)


def config(root) -> RetrievalConfig:
    return RetrievalConfig.from_settings(make_settings(root, chunk_max_chars=200))


def write(root, name: str, text: str) -> None:
    (root / "seeds" / name).write_text(text, encoding="utf-8")


def fresh_build(root, tmp_path_factory, embedder):
    """The same seeds folder, indexed from nothing in another place."""
    other = tmp_path_factory.mktemp("fresh")
    shutil.copytree(root / "seeds", other / "seeds")
    data, _ = update_index(config(other), embedder)
    return data


def key(p) -> tuple:
    return (p.source, p.start, p.end, p.title, p.text)


def assert_same_index(updated, fresh, embedder) -> None:
    assert updated.manifest["files"] == fresh.manifest["files"]
    assert updated.manifest["sentences"] == fresh.manifest["sentences"]
    ours, theirs = list(updated.passages), list(fresh.passages)
    assert sorted(map(key, ours)) == sorted(map(key, theirs))  # the same passages (their order may differ)
    row = {key(p): i for i, p in enumerate(theirs)}
    for i, p in enumerate(ours):
        j = row[key(p)]
        assert updated.sentences[i] == fresh.sentences[j]
        assert np.array_equal(updated.passage_vectors[i], fresh.passage_vectors[j])
        a, b = int(updated.sentence_start[i]), int(fresh.sentence_start[j])
        n = len(updated.sentences[i])
        assert np.array_equal(updated.sentence_vectors[a : a + n], fresh.sentence_vectors[b : b + n])
    assert np.allclose(updated.sentence_mean, fresh.sentence_mean, atol=1e-6)
    assert dict(updated.articles) == dict(fresh.articles)
    assert updated.lexicon.words == fresh.lexicon.words
    for question in QUESTIONS:
        ours_bm25 = updated.lexicon.scores(question, np.arange(len(ours)))
        theirs_bm25 = fresh.lexicon.scores(question, np.array([row[key(p)] for p in ours]))
        assert np.array_equal(ours_bm25, theirs_bm25)
        qvec = embedder.query(question)
        got, want = search(updated, qvec, question, 3), search(fresh, qvec, question, 3)
        assert [key(ours[h.index]) for h in got.hits] == [key(theirs[h.index]) for h in want.hits], question
        assert np.allclose([h.score for h in got.hits], [h.score for h in want.hits], atol=1e-6)
        assert [h.highlight for h in got.hits] == [h.highlight for h in want.hits]
        assert got.relevance == pytest.approx(want.relevance, abs=1e-6)


def test_adds_edits_and_deletions_answer_as_a_fresh_build(corpus, embedder, tmp_path_factory, monkeypatch):
    monkeypatch.setattr(loading, "STAT_SETTLE_NS", 0)  # files written just now are known by their stat
    for name in ("a_ferry.txt", "b_kopi.txt", "c_library.txt", "d_orchard.txt"):
        write(corpus, name, ARTICLES[name])
    data, _ = update_index(config(corpus), embedder)
    steps = [
        ("add", lambda: write(corpus, "e_kereta.txt", ARTICLES["e_kereta.txt"])),
        ("edit", lambda: write(corpus, "b_kopi.txt", ARTICLES["b_kopi.txt"].replace("tiga ratus", "lima ratus dua"))),
        ("delete and add", lambda: [(corpus / "seeds" / "c_library.txt").unlink(), write(corpus, *_museum())]),
        (
            "delete the first, edit the last",
            lambda: [(corpus / "seeds" / "a_ferry.txt").unlink(), _edit_kereta(corpus)],
        ),
    ]
    for i, (what, change) in enumerate(steps):
        change()
        if i == 2:  # as an index written before the key map and the sentence sum were kept: rebuilt from the rest
            for name in (indexing.KEYS_FILE, store.SENTENCE_SUM):
                (corpus / "index" / "current" / name).unlink()
        # alternately as a running engine (its index in hand) and as a new process (reads the one on disk)
        data, report = update_index(config(corpus), embedder, data if i % 2 else None)
        assert report is not None and report.unchanged >= 2, what
        assert_same_index(data, fresh_build(corpus, tmp_path_factory, embedder), embedder)
    assert_same_index(load_index(corpus / "index"), fresh_build(corpus, tmp_path_factory, embedder), embedder)


def _museum() -> tuple[str, str]:
    return "f_museum.txt", ARTICLES["f_museum.txt"]


def _edit_kereta(corpus) -> None:
    write(corpus, "e_kereta.txt", ARTICLES["e_kereta.txt"].replace("sembilan malam", "sepuluh malam lewat"))
