"""The platform-neutral rules of conversations, on text we write, in English and Indonesian."""

from __future__ import annotations

import pytest

from bot.platforms.conversation import answer_lang, looks_like_question, new_answer_id
from bot.platforms.reply import is_answer_id


@pytest.mark.parametrize(
    "text",
    [
        "how old is she",
        "And how old is the founder?",
        "Who leads the drone startup in Surabaya",
        "Berapa umurnya?",
        "siapa pendiri perusahaan itu",
        "lalu kapan drone itu diluncurkan",
        "Really?",
    ],
)
def test_questions_are_recognised_in_both_languages(text):
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that helps",
        "lunch is ready in the kitchen",
        "terima kasih banyak ya",
        "how nice",  # a question word, but a remark
        "",
        "apa",
    ],
)
def test_remarks_are_not_questions(text):
    assert not looks_like_question(text)


def test_answer_ids_are_random_button_safe_and_carry_the_language():
    ids = {new_answer_id("id") for _ in range(100)}
    assert len(ids) == 100 and all(is_answer_id(i) and len(i) <= 80 for i in ids)
    assert {answer_lang(i) for i in ids} == {"id"}
    assert answer_lang(new_answer_id("fr")) == "en"  # a language the bot does not speak
    assert answer_lang("0123456789abcdef") == "en"  # an id of another shape
