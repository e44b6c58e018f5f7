"""What every platform says, before its own markup and limits.

The words for each outcome (declines, rate limits, busy, restarting, apologies), who
should see them, citations grouped by the article they come from, the parts of a
citation a person can follow (a checked link, the site, the date in the asker's
language), the feedback buttons' ids and thanks, and shortening text with an ellipsis.
The CLI, Discord and Slack renderers all start from here, so a change of wording or
grouping is made once.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from yarl import URL

from bot.core import messages
from bot.core.models import Answer, Citation, Reply, SourceInfo

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
    """One cited article, the [n] markers of its passages, and what a person needs to follow it."""

    ranks: tuple[int, ...]
    source: str
    title: str
    url: str | None = None
    site: str | None = None
    published: str | None = None


def group_sources(citations: tuple[Citation, ...] | list[Citation]) -> list[SourceGroup]:
    """One entry per cited file, in order of first citation."""
    by_source: dict[str, list[Citation]] = {}
    for c in citations:
        by_source.setdefault(c.source, []).append(c)
    groups = []
    for source, group in by_source.items():
        first = group[0]
        ranks = tuple(c.rank for c in group)
        groups.append(SourceGroup(ranks, source, one_line(first.title), first.url, first.site, first.published))
    return groups


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


# ---------------------------------------------------------------- citations people can follow


class Citable(Protocol):
    """A Citation, a SourceInfo or a SourceGroup: anything that names an article."""

    source: str
    title: str
    url: str | None
    site: str | None
    published: str | None


SITE_MAX = 80  # a site or publisher name
MAX_URL = 2048  # longer links are not shown as links: no browser or chat handles them well
_HOST = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
# the languages the bot speaks (messages.INDONESIAN); any other is shown in English
_LOCALES = {"en": "en", "id": "id"}


@functools.lru_cache(maxsize=4096)  # pure, and asked again for each layout tried while fitting a message
def safe_url(url: str | None) -> str | None:
    """The link, normalized (spaces and quotes percent-encoded), if it is one a person may be sent to.

    Only http(s) with a real host name or IP address: no `javascript:`, `data:`, `file:`,
    relative links, user:password@ (it reads like another site), or absurd lengths.
    """
    if not url or not isinstance(url, str):
        return None
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or parsed.user is not None or parsed.password is not None:
        return None
    host = parsed.raw_host or ""
    if not _HOST.fullmatch(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return None
    text = str(parsed)
    if len(text) > MAX_URL or any(ch.isspace() or not ch.isprintable() for ch in text):
        return None
    return text


@functools.lru_cache(maxsize=4096)
def format_date(published: str | None, lang: str) -> str | None:
    """An ISO 8601 date or date-time as people write it: "2 Oct 2025", in Indonesian "2 Okt 2025".

    The day is the one the publisher gave (no time-zone conversion); None when unknown or unreadable.
    """
    if not published or not isinstance(published, str):
        return None
    try:
        day = datetime.fromisoformat(published.strip()).date()
    except ValueError:
        return None
    from babel.dates import format_date as babel_format_date  # imported with the first date: 25 ms at start-up

    return babel_format_date(day, "d MMM y", locale=_LOCALES.get(lang, "en"))


def source_meta(item: Citable, lang: str) -> str:
    """ "techcrunch.com, 2 Oct 2025": the site and the date, whichever are known ("" for neither).

    A site name is shortened to SITE_MAX characters, so the date always shows."""
    parts = [clip(one_line(item.site), SITE_MAX), format_date(item.published, lang)]
    return ", ".join(p for p in parts if p)


def link_label(item: Citable) -> str:
    """The words of a link: the article's title, else its file name."""
    return one_line(item.title) or one_line(item.source)


def source_text(item: Citable, lang: str) -> str:
    """A source in plain text (the CLI): "Title — site, 2 Oct 2025" and the link on the next line,

    or, without a link to follow, "file.txt — Title — site, date" (the file name is the key).
    """
    meta = source_meta(item, lang)
    url = safe_url(item.url)
    if url:
        head = link_label(item)
        return f"{head} — {meta}\n  {url}" if meta else f"{head}\n  {url}"
    title = one_line(item.title)
    head = f"{item.source} — {title}" if title else item.source
    return f"{head} — {meta}" if meta else head


def latest_text(sources: Sequence[SourceInfo], lang: str) -> str:
    """The newest articles in plain text, in the order given (newest first), or that there are none."""
    if not sources:
        return messages.say("LATEST_EMPTY", lang)
    lines = [messages.say("LATEST_HEADING", lang) + ":"]
    for n, info in enumerate(sources, 1):
        prefix = f"{n:>2}. "
        lines.append(prefix + source_text(info, lang).replace("\n", "\n" + " " * len(prefix)))
    return "\n".join(lines)


# ---------------------------------------------------------------- feedback buttons

Verdict = Literal["up", "down"]
VOTE_EMOJI: dict[str, str] = {"up": "👍", "down": "👎"}
# what a button may carry back: no separators, short enough for Discord's 100-character custom_id
ANSWER_ID = re.compile(r"[A-Za-z0-9_.-]{1,80}")


def is_answer_id(value: object) -> bool:
    return isinstance(value, str) and ANSWER_ID.fullmatch(value) is not None


def check_answer_id(answer_id: str) -> str:
    """`answer_id` if a button can carry it; ValueError (a bug in the caller) if not."""
    if not is_answer_id(answer_id):
        raise ValueError(f"answer id must match {ANSWER_ID.pattern}, got {answer_id!r:.100}")
    return answer_id


def feedback_ack(verdict: Verdict, lang: str, *, changed: bool = False, known: bool = True) -> str:
    """What the clicker alone sees: thanks, or that the vote now reads the other way, or that
    the answer is gone from the store (`known=False`, `Store.vote` returned False)."""
    if not known:
        return messages.say("FEEDBACK_UNKNOWN", lang)
    name = "FEEDBACK_CHANGED" if changed else "FEEDBACK_THANKS"
    return messages.say(name, lang).format(emoji=VOTE_EMOJI[verdict])


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
