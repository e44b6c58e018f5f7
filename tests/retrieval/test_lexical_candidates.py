"""BM25 scored from term counts for a search's candidates: the scores bm25s gives, taken at those passages.

On short news articles written for these tests in English, Indonesian and Spanish, several
about the same port and coffee stories so that words have long posting lists.
"""

from __future__ import annotations

import dataclasses

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
    "the and of",  # no word left once stopwords go: the placeholder token
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


def _bm25s() -> bm25s.BM25:
    """bm25s's own index of the same tokens: the reference the scores must equal."""
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in (lexical.tokens(a) or [lexical.EMPTY_DOC])] for a in ARTICLES]
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenization.Tokenized(ids, vocab), show_progress=False)
    return bm25


def _theirs(bm25: bm25s.BM25, question: str, docs) -> np.ndarray:
    known = [t for t in lexical.tokens(question) if t in bm25.vocab_dict]
    if not known:
        return np.zeros(len(docs), dtype=np.float32)
    return bm25.get_scores(known).astype(np.float32)[docs]


@pytest.mark.parametrize("question", QUESTIONS)
def test_scores_from_counts_are_bm25s_scores_at_the_candidates(question):
    ours = lexical.Lexicon.of_texts(ARTICLES)
    docs = np.array([12, 0, 6, 3, 14, 9, 1])  # in the dense search's order, not the index's
    found = ours.scores(question, docs)
    assert found.dtype == np.float32
    assert np.array_equal(found, _theirs(_bm25s(), question, docs))


def test_the_scores_tell_the_candidates_apart():
    """Not zeros by accident: the terminal articles score, the coffee and library ones do not."""
    ours = lexical.Lexicon.of_texts(ARTICLES).scores("Tanjung Priok container terminal", np.array([3, 0, 12, 2, 8]))
    assert ours[1] > ours[3] > 0 and ours[4] > 0 and ours[0] == ours[2] == 0


def test_scores_from_a_saved_memory_mapped_lexicon(tmp_path):
    lexical.Lexicon.of_texts(ARTICLES).save(tmp_path / "lexicon")
    loaded = lexical.Lexicon.load(tmp_path / "lexicon", len(ARTICLES))
    assert isinstance(loaded.docs, np.memmap) and loaded.words == sorted(loaded.words)
    docs = np.array([7, 4, 1, 10])
    theirs = _bm25s()
    for question in QUESTIONS:
        assert np.array_equal(loaded.scores(question, docs), _theirs(theirs, question, docs))


def test_a_lexicon_of_another_size_or_cut_short_is_refused(tmp_path):
    lexical.Lexicon.of_texts(ARTICLES).save(tmp_path / "lexicon")
    with pytest.raises(ValueError, match="describe 15 passages, expected 16"):
        lexical.Lexicon.load(tmp_path / "lexicon", len(ARTICLES) + 1)
    words = (tmp_path / "lexicon" / "words.txt").read_text(encoding="utf-8").split("\n")
    (tmp_path / "lexicon" / "words.txt").write_text("\n".join(words[:-1]), encoding="utf-8")
    with pytest.raises(ValueError, match="words do not match"):
        lexical.Lexicon.load(tmp_path / "lexicon", len(ARTICLES))


def test_no_candidates():
    assert lexical.Lexicon.of_texts(ARTICLES).scores(QUESTIONS[0], np.array([], dtype=np.int64)).shape == (0,)


@settings(max_examples=60, deadline=None)
@given(
    docs=st.lists(st.integers(0, len(ARTICLES) - 1), min_size=1, max_size=len(ARTICLES), unique=True),
    words=st.lists(st.sampled_from(sorted({t for a in ARTICLES for t in lexical.tokens(a)})), min_size=1, max_size=6),
)
def test_any_candidates_and_any_known_words(docs, words):
    question = " ".join(words)
    docs = np.array(docs)
    assert np.array_equal(lexical.Lexicon.of_texts(ARTICLES).scores(question, docs), _theirs(_bm25s(), question, docs))


@settings(max_examples=40, deadline=None)
@given(
    kept=st.lists(st.booleans(), min_size=len(ARTICLES), max_size=len(ARTICLES)),
    added=st.lists(st.sampled_from([*ARTICLES, "Nieuwe kranen voor de haven van Rotterdam.", "the of"]), max_size=5),
)
def test_merged_counts_equal_the_counts_of_a_fresh_build(kept, added):
    """An update's merge (passages left, new words in their sorted places) gives what counting afresh gives."""
    rows = np.flatnonzero(kept)
    new = lexical.Lexicon.of_texts(added)
    new = dataclasses.replace(new, docs=(new.docs + len(rows)).astype(np.int32))
    merged = lexical.Lexicon.of_texts(ARTICLES).merged(rows, new)
    fresh = lexical.Lexicon.of_texts([ARTICLES[i] for i in rows] + added)
    assert merged.words == fresh.words
    for name in lexical.ARRAYS:
        assert np.array_equal(getattr(merged, name), getattr(fresh, name)), name


@settings(max_examples=40, deadline=None)
@given(
    split=st.integers(1, len(ARTICLES) - 1),
    docs=st.lists(st.integers(0, len(ARTICLES) - 1), min_size=1, max_size=len(ARTICLES), unique=True),
    words=st.lists(st.sampled_from(sorted({t for a in ARTICLES for t in lexical.tokens(a)})), min_size=1, max_size=6),
)
def test_counts_in_two_segments_score_as_one(split, docs, words):
    """An addition keeps the recent passages' counts apart: a word's frequency is counted over both."""
    both = lexical.Segments(lexical.Lexicon.of_texts(ARTICLES[:split]), lexical.Lexicon.of_texts(ARTICLES[split:]))
    question, docs = " ".join(words), np.array(docs)
    assert np.array_equal(both.scores(question, docs), _theirs(_bm25s(), question, docs))
    whole = both.whole()
    assert whole.words == both.words == lexical.Lexicon.of_texts(ARTICLES).words
    assert np.array_equal(whole.scores(question, docs), both.scores(question, docs))
