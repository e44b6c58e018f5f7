"""The bot's own words in English and Indonesian."""

import string

import pytest

from bot.core import messages


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("name", sorted(messages.INDONESIAN))
def test_each_indonesian_string_has_an_english_one_with_the_same_fields(name):
    english = getattr(messages, name)
    assert isinstance(english, str)
    assert fields(messages.INDONESIAN[name]) == fields(english)
    assert messages.say(name, "id") != english  # really translated


def test_say_falls_back_to_english():
    assert messages.say("NOT_COVERED") == messages.NOT_COVERED
    assert messages.say("NOT_COVERED", "fr") == messages.NOT_COVERED
    assert messages.say("USAGE_SLASH", "id") == messages.USAGE_SLASH  # no translation: English
