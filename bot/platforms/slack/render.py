"""Slack's side of rendering: an Answer (or a Reply) becomes Block Kit.

Slack's rules live here and nowhere else:

- `&`, `<` and `>` are control characters in Slack text, so everything we did not write
  ourselves (the asker's question, article text, titles, file names) is escaped;
  `<!channel>` in a question then shows as text and pings no one.
- A text object holds at most 3,000 characters, a message at most 50 blocks and a context
  block at most 10 elements. Long answers are packed into several blocks; a citation is
  never cut: a sentence, a title or a file name may be shortened with an ellipsis, but a
  sentence's `[n]` marker and its source line always survive, and if anything has to go,
  whole citations go, with a note saying so.
- A source with a checked http(s) link is `<url|title>`: the link has `|`, `<`, `>` percent-
  encoded and `&` escaped, the title is escaped and its `|` (which would end the link's
  text) replaced by a look-alike.
- An answer with an answer id ends in an `actions` block with 👍 and 👎 buttons
  (`block_id` "newsbot_feedback", `action_id` "newsbot_vote_up"/"newsbot_vote_down",
  `value` the answer id); `parse_vote` reads a click back.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from bot.core import messages
from bot.core.models import Answer, Citation, Reply, SourceInfo
from bot.platforms import reply as reply_layer
from bot.platforms.reply import VOTE_EMOJI, Citable, Verdict, check_answer_id

MAX_TEXT = 3000  # characters in one text object
SHORT_MAX = 300  # the short answer line
MAX_BLOCKS = 50  # blocks in one message
MAX_CONTEXT_ELEMENTS = 10  # elements in one context block
MAX_SOURCE_NAME = 300  # characters of a file name shown (file systems allow 255 bytes)
MAX_TITLE = 300  # characters of an article title in a source line
MAX_URL = 1000  # a longer link is left out (title and file name shown): it would crowd out the citations
ELLIPSIS = "…"
PIPE_LOOKALIKE = "\u2223"  # "∣": a `|` in a link's text would end it

FEEDBACK_BLOCK_ID = "newsbot_feedback"
VOTE_ACTIONS: dict[str, Verdict] = {"newsbot_vote_up": "up", "newsbot_vote_down": "down"}

_ESCAPED_WIDTH = {"&": len("&amp;"), "<": len("&lt;"), ">": len("&gt;")}
_MARKUP = re.compile(r"<([^<>]*)>")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_truncated(text: str, limit: int) -> str:
    """`escape(text)`, shortened with an ellipsis to at most `limit` characters.

    Cut between source characters, so no `&amp;` is ever split in half.
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    room = max(limit - len(ELLIPSIS), 0)
    # Escaping never shortens, so at most `room` source characters fit: count how many do.
    widths = itertools.accumulate(_ESCAPED_WIDTH.get(ch, 1) for ch in text[:room])
    fit = sum(1 for width in widths if width <= room)
    return escape(text[:fit]).rstrip() + ELLIPSIS


def clean_question(text: str, bot_user_id: str | None = None) -> str:
    """Turn Slack message text into the question a person typed.

    Removes mentions of the bot itself, turns Slack's markup for other mentions,
    channels and links into their readable form (`<@U1|ann>` -> `@ann`,
    `<!here>` -> `@here`, `<#C1|news>` -> `#news`, `<https://x|x>` -> `x`), undoes
    Slack's `&amp;`/`&lt;`/`&gt;` and collapses whitespace.
    """

    def readable(match: re.Match) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            if bot_user_id and target[1:] == bot_user_id:
                return " "
            return "@" + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("#"):
            return "#" + (label or target[1:])
        return label or target

    text = _MARKUP.sub(readable, text or "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


# ---------------------------------------------------------------- blocks


def _mrkdwn(text: str) -> dict:
    # verbatim: Slack must not turn words in the text into links or mentions.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> dict:
    return {"type": "section", "text": _mrkdwn(text)}


def context(*texts: str) -> dict:
    return {"type": "context", "elements": [_mrkdwn(t) for t in texts]}


def _citation_line(citation: Citation) -> str:
    """`sentence [n]`: the sentence may be shortened, the marker never is."""
    marker = f" [{citation.rank}]"
    sentence = " ".join((citation.highlight or citation.text).split())
    return escape_truncated(sentence, MAX_TEXT - len(marker)) + marker


def slack_url(url: str) -> str:
    """A checked link made safe inside `<...|...>`."""
    for ch in "|<> ":
        url = url.replace(ch, f"%{ord(ch):02X}")
    return url.replace("&", "&amp;")


def link(url: str, label: str, limit: int = MAX_TITLE) -> str:
    """`<url|label>`, the label escaped and cut to `limit` characters; `url` from `reply.safe_url`."""
    text = escape_truncated(label.replace("|", PIPE_LOOKALIKE), limit)
    return f"<{slack_url(url)}|{text}>"


def source_line(head: str, item: Citable, lang: str, limit: int = MAX_TEXT) -> str:
    """`head` (markers or a bullet), then the article: `<url|title> — site, date` when it has a link
    that fits, else `` `file` — title — site, date ``. At most `limit` characters; a link is never cut."""
    meta = escape(reply_layer.source_meta(item, lang))
    tail = f" — {meta}" if meta else ""
    url = reply_layer.safe_url(item.url)
    if url and len(slack_url(url)) <= MAX_URL:
        room = min(MAX_TITLE, limit - len(head) - len(tail) - len(slack_url(url)) - 4)
        if room >= 10:
            return f"{head} {link(url, reply_layer.link_label(item), room)}{tail}"
    name = escape_truncated(item.source.replace("`", "'"), MAX_SOURCE_NAME)
    line = f"{head} `{name}`"
    title = reply_layer.one_line(item.title)
    if title:
        room = min(MAX_TITLE, limit - len(line) - len(tail) - 3)
        if room >= 10:
            line += " — " + escape_truncated(title, room)
    return line + tail if len(line) + len(tail) <= limit else line


def _source_lines(citations: Sequence[Citation], lang: str = "en") -> list[str]:
    """One line per cited file, in order of first citation: `[1] [3] <url|title> — site, date`."""
    return [source_line(" ".join(f"[{r}]" for r in g.ranks), g, lang) for g in reply_layer.group_sources(citations)]


def _pack(lines: Sequence[str], limit: int = MAX_TEXT, sep: str = "\n") -> list[str]:
    """Greedily join lines into texts of at most `limit` characters, never splitting one."""
    texts: list[str] = []
    current = ""
    for line in lines:
        candidate = current + sep + line if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            texts.append(current)
            current = line
    if current:
        texts.append(current)
    return texts


def _answer_blocks(
    question_echo: str | None,
    citations: Sequence[Citation],
    lines: Sequence[str],
    dropped: int,
    lead: str | None = None,
    lang: str = "en",
    max_blocks: int = MAX_BLOCKS,
) -> list[dict]:
    """The echo, the short answer, the cited sentences (`lines`, one per citation), the sources, what was dropped."""
    blocks: list[dict] = []
    if question_echo is not None:
        blocks.append(context(question_echo))
    if lead:
        blocks.append(section(lead))
    blocks.extend(section(t) for t in _pack(lines))
    sources = _source_lines(citations, lang)
    heading = f"*{messages.say('SOURCES_HEADING', lang)}*"
    # One context line per source while that fits, else up to 10 sources a block.
    per_block = 1 if len(blocks) + 1 + len(sources) <= max_blocks else MAX_CONTEXT_ELEMENTS
    blocks.append(context(heading))
    for i in range(0, len(sources), per_block):
        blocks.append(context(*sources[i : i + per_block]))
    if dropped:
        blocks.append(context(messages.say("SLACK_MORE_CITATIONS", lang).format(count=dropped)))
    return blocks


def _fits(blocks: Sequence[dict], max_blocks: int = MAX_BLOCKS) -> bool:
    """Within Slack's limits: blocks per message, characters per text object."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    texts += [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return len(blocks) <= max_blocks and all(len(t) <= MAX_TEXT for t in texts)


# ---------------------------------------------------------------- feedback buttons


def feedback_block(answer_id: str, lang: str = "en") -> dict:
    """The 👍 / 👎 buttons of one answer; ValueError for an id a button cannot carry."""
    value = check_answer_id(answer_id)
    labels = {"up": "FEEDBACK_UP_LABEL", "down": "FEEDBACK_DOWN_LABEL"}
    buttons = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": VOTE_EMOJI[verdict], "emoji": True},
            "action_id": action_id,
            "value": value,
            "accessibility_label": messages.say(labels[verdict], lang),
        }
        for action_id, verdict in VOTE_ACTIONS.items()
    ]
    return {"type": "actions", "block_id": FEEDBACK_BLOCK_ID, "elements": buttons}


def parse_vote(action_id: object, value: object) -> tuple[Verdict, str] | None:
    """("up" | "down", answer_id) from a block_actions click; None for any other or malformed action."""
    if not isinstance(action_id, str) or action_id not in VOTE_ACTIONS or not reply_layer.is_answer_id(value):
        return None
    return VOTE_ACTIONS[action_id], value  # type: ignore[return-value]


# ---------------------------------------------------------------- answers


def render_answer(answer: Answer, *, echo_question: bool = False, answer_id: str | None = None) -> dict:
    """An answered question as `{"text": ..., "blocks": [...]}` for chat.postMessage or a response_url.

    `text` is the notification / screen-reader fallback: the cited sentences, escaped.
    With `answer_id`, the last block holds the 👍 / 👎 buttons.
    """
    lang = answer.lang
    echo = None
    if echo_question:
        label = f"*{messages.say('SLACK_QUESTION_LABEL', lang)}:* "
        echo = label + escape_truncated(answer.question, MAX_TEXT - len(label))
    short = reply_layer.short_answer(answer)
    lead = None
    if short:  # the answering phrase first, marked as coming from citation [1]
        label = f"*{messages.say('ANSWER_HEADING', lang)}:* "
        lead = label + escape_truncated(short, SHORT_MAX) + " [1]"
    buttons = feedback_block(answer_id, lang) if answer_id is not None else None
    room = MAX_BLOCKS - (1 if buttons else 0)
    citations = list(answer.passages)
    lines = [_citation_line(c) for c in citations]
    blocks = _answer_blocks(echo, citations, lines, 0, lead, lang, room)
    while not _fits(blocks, room) and len(citations) > 1:
        # Only reachable with absurd top_k: drop whole citations, never parts of one.
        citations.pop()
        lines.pop()
        blocks = _answer_blocks(echo, citations, lines, len(answer.passages) - len(citations), lead, lang, room)
    if buttons:
        blocks.append(buttons)
    fallback = _pack(lines)[0]
    if short:  # never cut the escaped text: an entity split in half would show as "&am"
        lead_text = escape_truncated(short, SHORT_MAX) + " [1]"
        fallback = f"{lead_text} — {fallback}" if len(lead_text) + 3 + len(fallback) <= MAX_TEXT else lead_text
    return {"text": fallback, "blocks": blocks}


def render_text(text: str, *, echo: str | None = None, lang: str = "en") -> dict:
    """A short plain message (declines, usage, apologies, rate limits) written by us.

    With `echo`, the asker's question is shown above it, escaped.
    """
    if echo is None:
        return {"text": text}
    label = f"*{messages.say('SLACK_QUESTION_LABEL', lang)}:* "
    echoed = label + escape_truncated(echo, MAX_TEXT - len(label))
    return {"text": text, "blocks": [context(echoed), section(text)]}


def render_reply(
    reply: Reply,
    *,
    question: str,
    max_question_chars: int,
    echo_question: bool = False,
    answer_id: str | None = None,
) -> dict:
    """Any dispatcher Reply as a Slack message (`text`, optionally `blocks`); an answer with an
    `answer_id` gets 👍 / 👎 buttons."""
    text = reply_layer.notice(reply, max_question_chars)
    if text is None:
        return render_answer(reply.answer, echo_question=echo_question, answer_id=answer_id)
    not_covered = reply.kind == "declined" and reply.answer is not None and reply.answer.reason == "not_covered"
    return render_text(text, echo=question if echo_question and not_covered else None, lang=reply.lang)


is_public = reply_layer.is_public


# ---------------------------------------------------------------- latest


def render_latest(sources: Sequence[SourceInfo], lang: str) -> dict:
    """The newest articles, in the order given (newest first): a heading, then one line each
    (`• <url|title> — site, date`) packed into sections, as many as fit, and a note on the rest."""
    if not sources:
        return {"text": messages.say("LATEST_EMPTY", lang)}
    heading = messages.say("LATEST_HEADING", lang)
    sections_max = MAX_BLOCKS - 2  # besides the heading and the note on what did not fit
    packed: list[str] = []
    shown = 0
    for info in sources:
        line = source_line("•", info, lang)
        if packed and len(packed[-1]) + 1 + len(line) <= MAX_TEXT:
            packed[-1] += "\n" + line
        elif len(packed) < sections_max:
            packed.append(line)
        else:
            break
        shown += 1
    blocks = [section(f"*{escape(heading)}*"), *(section(t) for t in packed)]
    if shown < len(sources):
        blocks.append(context(messages.say("LATEST_MORE", lang).format(count=len(sources) - shown)))
    return {"text": heading, "blocks": blocks}
