"""An `Answer` (or a refusal) as a Discord message, inside Discord's limits.

Discord rejects an embed whose title is over 256 characters, description over 4,096,
any field value over 1,024, more than 25 fields, or over 6,000 characters in all. The
quoted text is shortened to fit; a citation (its [n] marker, its link or file name) is
never cut: when even that cannot fit, whole citations are left out from the end and the
footer says how many.

A source with a checked http(s) link is its title as a masked link, `[title](<url>)`,
then site and date. Discord's parser ends the link text at an unbalanced `[` or `]` and
the link at the first `)`, so titles lose their square brackets (shown as parentheses)
and links have `(`, `)` percent-encoded; the `<>` around the link stop the preview.

Feedback buttons are described (`Outgoing.buttons`) rather than built, because a
`discord.ui.View` belongs in async code: the app turns them into one with `buttons_view`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import discord
from discord.utils import escape_markdown as _escape_markdown

from bot.core import messages
from bot.core.models import Answer, Citation, Reply, SourceInfo
from bot.platforms import reply as reply_layer
from bot.platforms.reply import VOTE_EMOJI, Citable, Verdict, check_answer_id, clip

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
TOTAL_MAX = 6000
CONTENT_MAX = 2000  # a plain message

SOURCE_TITLE_MAX = 200  # an article title in the sources list
URL_MAX = 600  # a longer link is left out (title and file name shown): it would crowd out the citations
CUSTOM_ID_MAX = 100
VOTE_PREFIX = "newsbot:vote:"
_VOTE = re.compile(r"newsbot:vote:(up|down):(" + reply_layer.ANSWER_ID.pattern + ")")
SHORT_MAX = 200  # the short answer line
MIN_SNIPPET = 40  # below this, show fewer citations rather than unreadable stubs
SEPARATOR = "\n\n"
COLOUR = discord.Colour.blurple()


@dataclass(frozen=True)
class Outgoing:
    """What to send: text, an embed, or both; `private` = ephemeral where possible."""

    content: str | None = None
    embed: discord.Embed | None = None
    private: bool = False
    buttons: tuple[tuple[str, str], ...] = ()  # (custom_id, emoji) of each button: see `buttons_view`


def render_reply(reply: Reply, *, max_question_chars: int, answer_id: str | None = None) -> Outgoing:
    """The message for any outcome of `Dispatcher.ask`; an answer with an `answer_id` gets 👍 and 👎."""
    text = reply_layer.notice(reply, max_question_chars)
    if text is None:
        buttons = vote_buttons(answer_id) if answer_id is not None else ()
        return Outgoing(embed=answer_embed(reply.answer), buttons=buttons)
    return Outgoing(content=text, private=not reply_layer.is_public(reply))


# ---------------------------------------------------------------- feedback buttons


def vote_custom_id(verdict: Verdict, answer_id: str) -> str:
    return f"{VOTE_PREFIX}{verdict}:{check_answer_id(answer_id)}"


def vote_buttons(answer_id: str) -> tuple[tuple[str, str], ...]:
    """(custom_id, emoji) for 👍 and 👎 on one answer; ValueError for an id a button cannot carry."""
    return tuple((vote_custom_id(verdict, answer_id), emoji) for verdict, emoji in VOTE_EMOJI.items())


def buttons_view(buttons: Sequence[tuple[str, str]]) -> discord.ui.View | None:
    """A View with these buttons, or None for none. Persistent-style (no timeout, fixed custom_ids):

    a click after a restart still reaches `on_interaction`, where `parse_vote` reads it."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for custom_id, emoji in buttons:
        view.add_item(discord.ui.Button(style=discord.ButtonStyle.secondary, emoji=emoji, custom_id=custom_id))
    return view


def feedback_view(answer_id: str) -> discord.ui.View:
    """👍 and 👎 for one answer, for code already running in the event loop."""
    return buttons_view(vote_buttons(answer_id))


def parse_vote(custom_id: object) -> tuple[Verdict, str] | None:
    """("up" | "down", answer_id) from a button's custom_id; None for anything else or malformed."""
    if not isinstance(custom_id, str) or len(custom_id) > CUSTOM_ID_MAX:
        return None
    match = _VOTE.fullmatch(custom_id)
    return (match.group(1), match.group(2)) if match else None  # type: ignore[return-value]


# ---------------------------------------------------------------- sources

_OPEN, _CLOSE = "\x00", "\x01"  # stand-ins for square brackets while discord.py escapes the rest


def escape_markdown(text: str) -> str:
    """discord.py's escaping, plus every square bracket: it escapes only the first `[x](y)` of a
    text, so a second one in an article or title would still show as a masked link."""
    text = text.replace(_OPEN, "").replace(_CLOSE, "").replace("[", _OPEN).replace("]", _CLOSE)
    return _escape_markdown(text).replace(_OPEN, "\\[").replace(_CLOSE, "\\]")


def _marker(ranks) -> str:
    return "**" + "".join(f"[{r}]" for r in ranks) + "**"


def discord_url(url: str) -> str:
    """A checked link made safe inside `(<...>)`: nothing in it can end the link early."""
    for ch in "()<> ":
        url = url.replace(ch, f"%{ord(ch):02X}")
    return url


def link_text(title: str) -> str:
    """A title as masked-link text: no square brackets (they would end or split the link), markdown escaped."""
    return escape_markdown(title.replace("[", "(").replace("]", ")"))


def source_line(head: str, item: Citable, lang: str, limit: int = FIELD_VALUE_MAX) -> str:
    """`head` (markers or a number), then the article: `[title](<url>) — site, date` when it has a
    link that fits, else `` `file` — title — site, date ``. At most `limit` characters; a link is never cut."""
    meta = escape_markdown(reply_layer.source_meta(item, lang))
    tail = f" — {meta}" if meta else ""
    url = reply_layer.safe_url(item.url)
    url = discord_url(url) if url else None
    if url and len(url) <= URL_MAX:
        room = min(SOURCE_TITLE_MAX, limit - len(head) - len(tail) - len(url) - 8)
        if room >= 10:
            return f"{head} [{clip(link_text(reply_layer.link_label(item)), room)}](<{url}>){tail}"
    name = f"`{item.source}`" if "`" not in item.source else escape_markdown(item.source)
    line = f"{head} {name}"
    title = escape_markdown(reply_layer.one_line(item.title))
    if title:
        room = min(SOURCE_TITLE_MAX, limit - len(line) - len(tail) - 3)
        if room >= 10:
            line = f"{line} — {clip(title, room)}"
    return clip(line + tail, limit)  # only a file name over ~1,000 characters is cut


def _source_lines(citations: tuple[Citation, ...], lang: str = "en") -> list[str]:
    """One line per cited file: its [n] markers, then its link (or file name), title, site and date."""
    return [source_line(_marker(g.ranks), g, lang) for g in reply_layer.group_sources(citations)]


def _pack_fields(lines: list[str], lang: str = "en") -> list[tuple[str, str]]:
    """Lines into fields of at most 1,024 characters, never splitting a line."""
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > FIELD_VALUE_MAX:
            fields.append(("", "\n".join(current)))
            current = []
        current.append(line)
    if current:
        fields.append(("", "\n".join(current)))
    heading = messages.say("SOURCES_HEADING", lang)
    return [(heading if i == 0 else f"{heading} (continued)", value) for i, (_, value) in enumerate(fields)]


def _fit(snippets: list[str], budget: int) -> list[str] | None:
    """Shorten the longest snippets first until they fit `budget`; None if they cannot."""
    if sum(map(len, snippets)) <= budget:
        return snippets
    if budget < MIN_SNIPPET * len(snippets):
        return None
    lengths = sorted(len(s) for s in snippets)
    cap, used = 0, 0
    for i, length in enumerate(lengths):
        rest = len(lengths) - i
        if used + length * rest > budget:
            cap = (budget - used) // rest
            break
        used += length
    return [clip(s, cap) for s in snippets]


def answer_embed(answer: Answer) -> discord.Embed:
    citations = tuple(answer.passages)
    title = clip(" ".join(answer.question.split()), TITLE_MAX)
    short = reply_layer.short_answer(answer)
    lead = ""
    if short:  # the answering phrase first, marked as coming from citation [1]
        heading = messages.say("ANSWER_HEADING", answer.lang)
        lead = f"**{heading}:** {clip(escape_markdown(short), SHORT_MAX)} {_marker([1])}{SEPARATOR}"
    for shown in range(len(citations), 0, -1):
        embed = _build(title, citations[:shown], len(citations) - shown, lead, answer.lang)
        if embed is not None:
            return embed
    # not even one citation fits (cannot happen with sane file names): say so plainly
    return discord.Embed(title=title, description=messages.say("NOT_COVERED", answer.lang), colour=COLOUR)


def _build(
    title: str, citations: tuple[Citation, ...], hidden: int, lead: str = "", lang: str = "en"
) -> discord.Embed | None:
    fields = _pack_fields(_source_lines(citations, lang), lang)
    if len(fields) > FIELDS_MAX:
        return None
    footer = messages.say("DISCORD_MORE_PASSAGES", lang).format(count=hidden) if hidden else ""
    used = len(title) + len(footer) + sum(len(n) + len(v) for n, v in fields) + len(lead)
    room = min(DESCRIPTION_MAX - len(lead), TOTAL_MAX - used)
    markers = [_marker([c.rank]) + " " for c in citations]
    overhead = sum(map(len, markers)) + len(SEPARATOR) * (len(citations) - 1)
    texts = [escape_markdown(" ".join((c.highlight or c.text).split())) for c in citations]
    fitted = _fit(texts, room - overhead)
    if fitted is None:
        return None
    embed = discord.Embed(
        title=title or None,
        description=lead + SEPARATOR.join(m + t for m, t in zip(markers, fitted, strict=False)),
        colour=COLOUR,
    )
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=False)
    if footer:
        embed.set_footer(text=footer)
    return embed


# ---------------------------------------------------------------- latest


def render_latest(sources: Sequence[SourceInfo], lang: str) -> Outgoing:
    """The newest articles, in the order given (newest first), as one embed: a numbered line each,
    as many as fit, the footer saying how many did not; or a plain line when the archive is empty."""
    if not sources:
        return Outgoing(content=messages.say("LATEST_EMPTY", lang))
    title = messages.say("LATEST_HEADING", lang)
    lines: list[str] = []
    for n, info in enumerate(sources, 1):
        line = source_line(f"{n}.", info, lang, limit=SOURCE_TITLE_MAX + URL_MAX + 200)
        if len("\n".join([*lines, line])) > DESCRIPTION_MAX:
            break
        lines.append(line)
    embed = discord.Embed(title=title, description="\n".join(lines), colour=COLOUR)
    if len(lines) < len(sources):
        embed.set_footer(text=messages.say("LATEST_MORE", lang).format(count=len(sources) - len(lines)))
    return Outgoing(embed=embed)
