"""The platform-neutral reply layer: what is said for each outcome, in the asker's language."""

import pytest

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms.reply import group_sources, is_public, notice, short_answer


def cite(rank, source, title="T"):
    return Citation(rank, source, title, "text", "text", 0.5)


@pytest.mark.parametrize("lang", ["en", "id"])
@pytest.mark.parametrize(
    ("reply", "name"),
    [
        (Reply("busy"), "BUSY"),
        (Reply("shutting_down"), "SHUTTING_DOWN"),
        (Reply("error"), "APOLOGY"),
    ],
)
def test_notices_follow_the_askers_language(reply, name, lang):
    localized = Reply(reply.kind, lang=lang)
    assert notice(localized, 500) == messages.say(name, lang)
    assert not is_public(localized)


def test_a_decline_follows_the_questions_language_and_is_public():
    answer = Answer("Siapa CEO Kelinci Emas?", False, reason="not_covered", lang="id")
    reply = Reply("declined", answer, lang="id")
    assert notice(reply, 500) == messages.INDONESIAN["NOT_COVERED"] and is_public(reply)
    too_long = Reply("declined", Answer("x" * 900, False, reason="too_long", lang="id"), lang="id")
    assert notice(too_long, 500).startswith("Pertanyaan itu panjangnya 900")
    assert not is_public(too_long)


def test_rate_limit_names_the_wait():
    assert "42" in notice(Reply("rate_limited", retry_after=42, lang="id"), 500)


def test_an_answer_has_no_notice_and_its_sources_are_grouped_in_order():
    citations = (cite(1, "b.txt", " Two  words "), cite(2, "a.txt"), cite(3, "b.txt"))
    answer = Answer("q", True, citations, short="  Rahul\nPatil ")
    assert notice(Reply("answered", answer), 500) is None
    groups = group_sources(citations)
    assert [(g.source, g.ranks, g.title) for g in groups] == [("b.txt", (1, 3), "Two words"), ("a.txt", (2,), "T")]
    assert short_answer(answer) == "Rahul Patil"
    assert short_answer(Answer("q", True, citations)) is None
