"""An `Answer` (or a refusal) as a Discord message, inside Discord's limits.

Discord rejects an embed whose title is over 256 characters, description over 4,096,
any field value over 1,024, more than 25 fields, or over 6,000 characters in all. The
quoted text is shortened to fit; a citation (its [n] marker, its file name) is never
cut: when even that cannot fit, whole citations are left out from the end and the
footer says how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord.utils import escape_markdown

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms import reply as reply_layer
from bot.platforms.reply import clip

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
TOTAL_MAX = 6000
CONTENT_MAX = 2000  # a plain message

SOURCE_TITLE_MAX = 200  # an article title in the sources list
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


def render_reply(reply: Reply, *, max_question_chars: int) -> Outgoing:
    """The message for any outcome of `Dispatcher.ask`."""
    text = reply_layer.notice(reply, max_question_chars)
    if text is None:
        return Outgoing(embed=answer_embed(reply.answer))
    return Outgoing(content=text, private=not reply_layer.is_public(reply))


def _marker(ranks) -> str:
    return "**" + "".join(f"[{r}]" for r in ranks) + "**"


def _source_lines(citations: tuple[Citation, ...]) -> list[str]:
    """One line per cited file: its [n] markers, file name and article title."""
    lines = []
    for group in reply_layer.group_sources(citations):
        name = f"`{group.source}`" if "`" not in group.source else escape_markdown(group.source)
        head = f"{_marker(group.ranks)} {name}"
        title = escape_markdown(group.title)
        line = head
        if title:
            room = min(SOURCE_TITLE_MAX, FIELD_VALUE_MAX - len(head) - 3)
            if room >= 10:
                line = f"{head} — {clip(title, room)}"
        lines.append(clip(line, FIELD_VALUE_MAX))  # only a file name over ~1,000 characters is cut
    return lines


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
    fields = _pack_fields(_source_lines(citations), lang)
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
