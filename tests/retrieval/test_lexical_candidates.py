"""BM25 for a search's candidates only: the same scores bm25s gives every passage, taken at those passages.

On short news articles written for these tests in English, Indonesian and Spanish, several
about the same port and coffee stories so that words have long posting lists.
"""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.retrieval import lexical

ARTICLES = [
    "The port of Tanjung Priok in Jakarta will open a second container terminal in 2026, the operator said.",
    "Pelabuhan Tanjung Priok di Jakarta akan membuka terminal peti kemas kedua pada 2026, kata operator.",
    "El puerto de Tanjung Priok en Yakarta abrirá una segunda terminal de contenedores en 2026.",
    "Coffee growers in Aceh expect a smaller Gayo harvest after weeks of heavy rain in the highlands.",
    "Petani kopi di Aceh memperkirakan panen kopi Gayo lebih kecil setelah hujan deras berminggu-minggu.",
    "Los cafetaleros de Aceh esperan una cosecha de café Gayo menor tras semanas de lluvias intensas.",
    "Coffee prices rose 12 percent in Jakarta markets as the Gayo harvest shrank; port exports of coffee fell.",
    "Harga kopi naik 12 persen di pasar Jakarta; ekspor kopi lewat pelabuhan turun.",
    "The terminal operator hired 1,200 dock workers and ordered eight cranes for the new container port.",
    "Operator terminal merekrut 1.200 pekerja pelabuhan dan memesan delapan derek untuk pelabuhan baru.",
    "Rain delayed the cranes' delivery to the port by three weeks.",
    "Las grúas llegarán al puerto con tres semanas de retraso por la lluvia.",
    "A library in Surabaya lends e-readers to students during the exam weeks.",
    "Perpustakaan di Surabaya meminjamkan e-reader kepada mahasiswa selama pekan ujian.",
    "the and of",  # no word left once stopwords go: bm25s's placeholder token
]
QUESTIONS = [
    "When will the Tanjung Priok container terminal open?",
    "Kapan terminal peti kemas Tanjung Priok dibuka?",
    "¿Cuándo abrirá la terminal de contenedores de Tanjung Priok?",
    "coffee coffee Gayo harvest",  # a repeated word counts twice, in bm25s and here
    "Berapa harga kopi di Jakarta?",
    "port port port cranes rain",
    "What is the weather in Berlin?",  # no word known
    "pelabuhan",
]


def _bm25(method: str = "lucene") -> bm25s.BM25:
    if method == "lucene":
        return lexical.build_bm25(ARTICLES)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in (lexical.tokens(a) or ["\u2205"])] for a in ARTICLES]
    bm25 = bm25s.BM25(method=method)
    bm25.index(bm25s.tokenization.Tokenized(ids, vocab), show_progress=False)
    return bm25


def _theirs(bm25: bm25s.BM25, question: str, docs) -> np.ndarray:
    known = [t for t in lexical.tokens(question) if t in bm25.vocab_dict]
    if not known:
        return np.zeros(len(docs), dtype=np.float32)
    return bm25.get_scores(known).astype(np.float32)[docs]


@pytest.mark.parametrize("method", ["lucene", "bm25l", "bm25+"])
@pytest.mark.parametrize("question", QUESTIONS)
def test_candidate_scores_are_bm25s_scores_at_the_candidates(method, question):
    bm25 = _bm25(method)
    docs = np.array([12, 0, 6, 3, 14, 9, 1])  # in the dense search's order, not the index's
    ours = lexical.scores(bm25, question, docs)
    assert ours.dtype == np.float32
    assert np.array_equal(ours, _theirs(bm25, question, docs))
    # every passage as a candidate: the full scores
    everyone = np.arange(len(ARTICLES))
    assert np.array_equal(lexical.scores(bm25, question, everyone), lexical.scores(bm25, question))


def test_the_scores_tell_the_candidates_apart():
    """Not zeros by accident: the terminal articles score, the coffee and library ones do not."""
    bm25 = _bm25()
    ours = lexical.scores(bm25, "Tanjung Priok container terminal", np.array([3, 0, 12, 2, 8]))
    assert ours[1] > ours[3] > 0 and ours[4] > 0 and ours[0] == ours[2] == 0


def test_candidates_from_a_saved_memory_mapped_index(tmp_path):
    bm25 = _bm25()
    bm25.save(str(tmp_path / "bm25"), show_progress=False)
    loaded = bm25s.BM25.load(str(tmp_path / "bm25"), mmap=True, show_progress=False)
    docs = np.array([7, 4, 1, 10])
    for question in QUESTIONS:
        assert np.array_equal(lexical.scores(loaded, question, docs), _theirs(bm25, question, docs))


def test_no_candidates():
    assert lexical.scores(_bm25(), QUESTIONS[0], np.array([], dtype=np.int64)).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.integers(0, len(ARTICLES) - 1), min_size=1, max_size=len(ARTICLES), unique=True),
    words=st.lists(st.sampled_from(sorted({t for a in ARTICLES for t in lexical.tokens(a)})), min_size=1, max_size=6),
)
def test_any_candidates_and_any_known_words(docs, words):
    bm25 = _bm25()
    question = " ".join(words)
    docs = np.array(docs)
    assert np.array_equal(lexical.scores(bm25, question, docs), _theirs(bm25, question, docs))
