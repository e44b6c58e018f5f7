"""Tokens for BM25, on text written for these tests in English, Indonesian and Spanish."""

from __future__ import annotations

import numpy as np
import pytest

from bot.retrieval import lexical
from bot.retrieval.lexical import STOPWORDS_EN, Lexicon, tokens


def scores(lexicon: Lexicon, question: str) -> np.ndarray:
    return lexicon.scores(question, np.arange(len(lexicon.lengths)))


ENGLISH = "Nvidia will ship 1,3 million GPUs to the data centres of Jakarta by 2026, up 24-40 percent."
INDONESIAN = "Nvidia akan mengirim 1,3 juta GPU ke pusat data di Jakarta pada 2026, naik 24-40 persen."


@pytest.mark.parametrize("text", [ENGLISH, INDONESIAN])
def test_numbers_with_commas_dots_and_ranges_stay_whole(text):
    found = tokens(text)
    assert "1,3" in found and "24-40" in found and "2026" in found
    assert not {"1", "3", "24", "40"} & set(found)


def test_prices_and_hyphenated_words_stay_whole_and_trailing_punctuation_goes():
    assert tokens("Harga gula Rp 14.000, kata co-founder e-commerce itu.") == [
        "harga",
        "gula",
        "rp",
        "14.000",
        "co-founder",
        "e-commerce",
    ]


def test_english_and_indonesian_function_words_are_dropped():
    assert tokens("What did they pay for the rice, and when?") == ["pay", "rice"]
    assert tokens("Siapa yang membeli saham itu dan kapan?") == ["membeli", "saham"]
    # single letters carry nothing either
    assert tokens("a b c GPU") == ["gpu"]


def test_the_same_fact_gives_the_same_names_and_figures_in_both_languages():
    shared = set(tokens(ENGLISH)) & set(tokens(INDONESIAN))
    assert shared == {"nvidia", "1,3", "gpu", "data", "jakarta", "2026", "24-40"}


@pytest.mark.parametrize(
    ("plural", "singular"),
    [("GPUs", "GPU"), ("LLMs", "LLM"), ("APIs", "API"), ("chips", "chip"), ("engineers", "engineer")],
)
def test_plurals_fold_to_their_singular(plural, singular):
    assert tokens(plural) == tokens(singular) == [singular.lower()]


@pytest.mark.parametrize("word", ["bus", "class", "analysis", "status", "Status", "virus", "harus"])
def test_words_that_merely_end_in_s_keep_it(word):
    assert tokens(word) == [word.lower()]


def test_scores_follow_known_words_and_are_all_zero_when_none_is_known():
    texts = [
        INDONESIAN,
        "Harga beras medium di Surabaya naik menjadi Rp 14.000 per kilogram.",
        "Rotterdam opened a cycling bridge across the Maas on Friday.",
    ]
    bm25 = Lexicon.of_texts(texts)
    for question in ("Berapa harga beras di Surabaya?", "What did the rice cost in Surabaya?"):
        found = scores(bm25, question)
        assert found.shape == (3,) and int(np.argmax(found)) == 1 and found[1] > 0
    gpus = scores(bm25, "How many GPUs?")  # the plural finds the singular
    assert gpus[0] > 0 and gpus[1] == gpus[2] == 0
    for unknown in ("Quel temps fait-il à Lyon?", "the of and yang di", ""):
        assert np.array_equal(scores(bm25, unknown), np.zeros(3, dtype=np.float32))


def test_a_passage_without_a_word_left_is_still_indexed():
    bm25 = Lexicon.of_texts(["the of and", "Nvidia ships GPUs"])
    found = scores(bm25, "Nvidia GPU")
    assert found.shape == (2,) and found[0] == 0 and found[1] > 0


def test_the_english_stopwords_are_the_list_bm25s_ships():
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    assert frozenset(STOPWORDS_EN_PLUS) == STOPWORDS_EN


def test_the_spanish_stopwords_are_the_list_bm25s_ships_but_english_words():
    from bm25s.stopwords import STOPWORDS_SPANISH

    assert frozenset(STOPWORDS_SPANISH) - lexical.ENGLISH_TOO == lexical.STOPWORDS_ES
    assert not lexical.ENGLISH_TOO & lexical.STOPWORDS_ES


def test_spanish_function_words_are_no_terms_and_english_words_spelled_alike_stay():
    assert tokens("¿Quién dirige la investigación en renovables de Nordvik?") == [
        "dirige",
        "investigación",
        "renovable",
        "nordvik",
    ]
    assert tokens("A storm in the North Sea son") == ["storm", "north", "sea", "son"]
    # a Spanish question no longer matches every Spanish passage by its "la", "de" and "en"
    bm25 = Lexicon.of_texts(["La planta de Nordvik en la costa de Galicia", "Nordvik dirige la investigación"])
    found = scores(bm25, "¿Quién dirige la investigación de Nordvik en la costa?")
    assert found[1] > found[0]


def test_the_stem_of_a_long_word_is_what_its_other_forms_share():
    assert lexical.stem("Swedish") == "Swed" and "Sweden".startswith(lexical.stem("Swedish"))
    assert lexical.stem("Indonesian") == "Indones" and "Indonesia".startswith(lexical.stem("Indonesian"))
    assert lexical.stem("Norway") == "Norw"
    assert lexical.stem("Kite") is None  # under six letters: the word itself
