"""Answers from the real engine over the seed articles."""

from bot.retrieval.engine import Engine
from tests.conftest import make_settings


def test_an_english_question_finds_an_indonesian_only_fact(seeds_engine):
    # the GPU count is only in 003, which is in Indonesian
    answer = seeds_engine.ask("How many GPUs will Meta deploy by the end of the year?")
    assert answer.answered
    assert answer.passages[0].source == "003_f25e02178ca9b32d.txt"
    assert "1,3 juta GPU" in answer.passages[0].text


def test_an_indonesian_question_finds_an_english_passage(seeds_engine):
    answer = seeds_engine.ask("Apa yang diumumkan oleh ajakan 'Join the AI Evolution'?")
    assert all("Join the AI Evolution" not in c.text for c in answer.passages)  # footer never quoted


def test_answer_shape(seeds_engine):
    answer = seeds_engine.ask("Who is Anthropic's new CTO?")
    assert answer.answered and len(answer.passages) == 3
    assert [c.rank for c in answer.passages] == [1, 2, 3]
    for c in answer.passages:
        assert c.highlight in c.text
        assert c.source.endswith(".txt") and c.title
        assert -1.0 <= c.score <= 1.0
    assert "Rahul Patil" in answer.passages[0].highlight


def test_out_of_scope_questions_are_declined(seeds_engine):
    for q in (
        "How do I bake sourdough bread?",
        "Siapa presiden pertama Amerika Serikat?",
        "What is the capital of Peru?",
    ):
        answer = seeds_engine.ask(q)
        assert not answer.answered and answer.reason == "not_covered" and answer.passages == ()


def test_empty_and_overlong_questions_get_a_clear_answer(seeds_engine):
    assert seeds_engine.ask("   \n ").reason == "empty"
    long = seeds_engine.ask("why " * 2500)
    assert not long.answered and long.reason == "too_long"


def test_the_same_fact_in_two_languages_does_not_crowd_out_the_rest(seeds_engine):
    answer = seeds_engine.ask("How much are OpenAI and Meta each pledging for computing power?")
    highlights = [c.highlight for c in answer.passages]
    assert sum("600" in h for h in highlights) == 1, highlights
    assert len({(c.source, c.highlight) for c in answer.passages}) == len(answer.passages)


def test_top_k_setting(tmp_path, embedder, seeds_engine):
    engine = Engine(make_settings(tmp_path, top_k=1), embedder, seeds_engine.data)
    assert len(engine.ask("What does Scale AI do?").passages) == 1


def test_a_stricter_relevance_setting_declines_more(tmp_path, embedder, seeds_engine):
    engine = Engine(make_settings(tmp_path, min_relevance=0.5), embedder, seeds_engine.data)
    assert not engine.ask("What does Scale AI do?").answered
