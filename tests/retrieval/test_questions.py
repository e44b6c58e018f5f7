"""Question analysis on questions written for these tests (not the development sets), English and Indonesian."""

import pytest

from bot.retrieval.questions import analyze, kind, language, names


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who founded Volcano Robotics?", "who"),
        ("Siapa pendiri Kelinci Emas?", "who"),
        ("When did the Oslo lab open?", "when"),
        ("What year was the port built?", "when"),
        ("Kapan pabrik itu dibuka?", "when"),
        ("Pada tahun berapa pelabuhan dibangun?", "when"),  # a date, though "berapa" also asks amounts
        ("Where is the new lab?", "where"),
        ("Di mana pabrik baru itu?", "where"),
        ("How many engineers work in Oslo?", "how_many"),
        ("How old is the founder?", "how_many"),
        ("Berapa banyak insinyur di Oslo?", "how_many"),
        ("Berapa usia pendirinya?", "how_many"),
        ("How much did Nusantara pay?", "how_much"),
        ("Berapa nilai kesepakatan itu?", "how_much"),
        ("Why did the lab move?", "why"),
        ("Mengapa laboratorium itu pindah?", "why"),
        ("Did Volcano Robotics raise money?", "yes_no"),
        ("Apakah Budi Santoso menjual sahamnya?", "yes_no"),
        ("What does the lab build?", "what"),
        ("Apa yang dibangun laboratorium itu?", "what"),
    ],
)
def test_kind(question, expected):
    assert kind(question) == expected


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("What does the lab build?", "en"),
        ("Who is the CEO of Kelinci Emas?", "en"),
        ("Siapa CEO Volcano Robotics?", "id"),  # names in English, question in Indonesian
        ("Berapa harga saham Nusantara hari ini?", "id"),
        ("Apa itu Kelinci Emas?", "id"),
        ("Volcano Robotics?", "en"),  # nothing to tell: English
    ],
)
def test_language_follows_the_question_words(question, lang):
    assert language(question) == lang


def test_names_keep_brands_and_acronyms_and_drop_question_words():
    assert names("Who is Nusantara's new CTO?") == ("Nusantara", "CTO")
    assert names("Siapa CEO Volcano Robotics?") == ("CEO", "Volcano", "Robotics")
    assert names("Does eBay sell the iPhone in Oslo?") == ("eBay", "iPhone", "Oslo")
    assert names("how many GPUs does Meta buy?") == ("GPUs", "Meta")
    assert names("Meta bought what?") == ("Meta",)  # a name as the first word stays


def test_analyze_collects_figures_and_terms():
    q = analyze("Berapa banyak GPU yang dibeli Meta pada 2025 senilai $1,3 miliar?")
    assert q.lang == "id" and q.kind == "how_many" and q.wants_figure
    assert q.numbers == ("2025", "1,3")
    assert "gpu" in q.terms and "yang" not in q.terms
