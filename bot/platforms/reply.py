"""What every platform says, before its own markup and limits.

The words for each outcome (declines, rate limits, busy, restarting, apologies), who
should see them, citations grouped by the article they come from, and shortening text
with an ellipsis. The CLI, Discord and Slack renderers all start from here, so a
change of wording or grouping is made once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import messages
from bot.core.models import Answer, Citation, Reply

ELLIPSIS = "…"


def decline_text(answer: Answer, max_question_chars: int) -> str:
    """Why a question got no answer, naming what the asker can do, in the asker's language."""
    lang = answer.lang
    if answer.reason == "empty":
        return messages.say("EMPTY_QUESTION", lang)
    if answer.reason == "too_long":
        return messages.say("QUESTION_TOO_LONG", lang).format(length=len(answer.question), limit=max_question_chars)
    return messages.say("NOT_COVERED", lang)


def notice(reply: Reply, max_question_chars: int) -> str | None:
    """The text for every outcome that is not an answer with citations; None for an answer."""
    if reply.kind == "answered" and reply.answer is not None and reply.answer.passages:
        return None
    if reply.kind == "declined" and reply.answer is not None:
        return decline_text(reply.answer, max_question_chars)
    if reply.kind == "rate_limited":
        return messages.say("RATE_LIMITED", reply.lang).format(seconds=reply.retry_after)
    if reply.kind == "busy":
        return messages.say("BUSY", reply.lang)
    if reply.kind == "shutting_down":
        return messages.say("SHUTTING_DOWN", reply.lang)
    return messages.say("APOLOGY", reply.lang)


def short_answer(answer: Answer) -> str | None:
    """The answering phrase in one line, or None; platforms add their markup and the [1] marker."""
    if not answer.short or not answer.passages:
        return None
    return " ".join(answer.short.split())


def is_public(reply: Reply) -> bool:
    """Worth showing the channel: an answer, or "not covered". The rest is for the asker alone."""
    if reply.kind == "answered":
        return True
    return reply.kind == "declined" and reply.answer is not None and reply.answer.reason == "not_covered"


@dataclass(frozen=True)
class SourceGroup:
    """One cited article and the [n] markers of its passages."""

    ranks: tuple[int, ...]
    source: str
    title: str


def group_sources(citations: tuple[Citation, ...] | list[Citation]) -> list[SourceGroup]:
    """One entry per cited file, in order of first citation."""
    by_source: dict[str, list[Citation]] = {}
    for c in citations:
        by_source.setdefault(c.source, []).append(c)
    return [
        SourceGroup(tuple(c.rank for c in group), source, " ".join(group[0].title.split()))
        for source, group in by_source.items()
    ]


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" if shortened, at a word if one is near."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit - 1) * 0.8:
        cut = cut[:space]
    cut = cut.rstrip()
    # never leave a dangling escape backslash in front of the ellipsis
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]
    return cut + ELLIPSIS
