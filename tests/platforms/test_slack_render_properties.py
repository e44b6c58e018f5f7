"""Property: whatever the dispatcher returns, the Slack renderer makes a message Slack accepts.

Any answer (questions, titles, file names and passages with `&<>`, backticks, emoji, huge
texts, many citations) and every Reply kind: every text object within 3,000 characters, at
most 50 blocks, at most 10 elements a context block, nothing the asker or an article wrote
left unescaped, and the `[n]` marker of every citation not reported as dropped.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms import reply as reply_layer
from bot.platforms.slack.render import MAX_BLOCKS, MAX_CONTEXT_ELEMENTS, MAX_TEXT, render_reply

MAX_QUESTION_CHARS = 500

# Any text JSON can carry, with Slack's markup, mrkdwn characters and emoji made common.
_pieces = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from([*"&<>`*_~|[]!@#", "&amp;", "&lt;", "<!channel>", "<@U1>", "[2]", "😀", "🇮🇩", "\u200d"]),
)


def _text(min_size: int = 0, max_size: int = 40):
    return st.lists(_pieces, min_size=min_size, max_size=max_size).map("".join)


_short = _text()
# Huge texts are built by repetition: drawing 10,000 pieces one by one is slow.
_huge = st.builds(lambda piece, times: piece * times, _text(1, 12), st.integers(200, 800))
_texts = st.one_of(_short, _short, _huge)
_sources = st.one_of(_text(1, 60), _huge)
_urls = st.one_of(
    st.none(),
    st.sampled_from(["javascript:alert(1)", "https://u:p@evil.example/", "data:,x", "https://a.example/x|y>z&w"]),
    st.builds(lambda path: "https://news.example/" + path, _text()),
    st.builds(lambda piece, times: "http://news.example/" + piece * times, _text(1, 12), st.integers(50, 400)),
)
_dates = st.one_of(st.none(), st.dates().map(str), st.sampled_from(["2025-10-02T09:00:00Z", "kemarin"]))


@st.composite
def answers(draw) -> Answer:
    count = draw(st.one_of(st.integers(1, 5), st.integers(1, 80)))
    sources = draw(st.lists(_sources, min_size=1, max_size=min(count, 12)))
    titles = {s: draw(_texts) for s in sources}
    metadata = {s: (draw(_urls), draw(st.none() | _short), draw(_dates)) for s in sources}
    citations = []
    for rank in range(1, count + 1):
        source = draw(st.sampled_from(sources))
        sentence = draw(_texts)
        text = draw(_short) + sentence
        citations.append(Citation(rank, source, titles[source], text, sentence, 0.5, *metadata[source]))
    short = draw(st.one_of(st.none(), _texts))
    return Answer(draw(_texts), True, tuple(citations), short=short, lang=draw(st.sampled_from(["en", "id"])))


def _declined(draw_reason):
    return st.builds(
        lambda question, reason: Reply("declined", Answer(question, False, reason=reason)),
        _texts,
        draw_reason,
    )


replies = st.one_of(
    answers().map(lambda a: Reply("answered", a)),
    _declined(st.sampled_from(["empty", "too_long", "not_covered"])),
    st.integers(1, 3600).map(lambda s: Reply("rate_limited", retry_after=s)),
    st.sampled_from([Reply("busy"), Reply("error"), Reply("shutting_down")]),
)


def text_objects(message: dict) -> list[str]:
    out = [message["text"]]
    for block in message.get("blocks", []):
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "actions":  # the feedback buttons: plain text of ours
            assert block is message["blocks"][-1]
        else:
            assert block["type"] == "context"
            out.extend(e["text"] for e in block["elements"])
    return out


_ENTITY = re.compile(r"&(?:amp|lt|gt);")
# the note on dropped citations, in either language the bot speaks
_MORE = re.compile(
    "|".join(
        re.escape(messages.say("SLACK_MORE_CITATIONS", lang)).replace(r"\{count\}", rf"(?P<n{i}>\d+)")
        for i, lang in enumerate(("en", "id"))
    )
)
_LEADING_MARKERS = re.compile(r"((?:\[\d+\] )+)[`<]")
_LINK = re.compile(r"<([^<>|]*)\|([^<>|]*)>")  # ours: `<url|label>`, the label with no `|`


def _without_links(text: str) -> str:
    """The text with each of our links checked and taken out."""

    def check(match: re.Match) -> str:
        url = URL(match.group(1).replace("&amp;", "&"))
        assert url.scheme in ("http", "https") and url.host and url.user is None, match.group(0)
        assert match.group(2), "a link needs words"
        return " " + match.group(2) + " "

    return _LINK.sub(check, text)


def assert_within_slacks_limits(message: dict) -> None:
    blocks = message.get("blocks", [])
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
    for text in text_objects(message):
        assert 0 < len(text) <= MAX_TEXT
        # Our own words hold no markup but checked links, so any other <, > or bare & came from the asker
        # or an article.
        text = _without_links(text)
        assert "<" not in text and ">" not in text
        assert "&" not in _ENTITY.sub("", text)


def assert_every_kept_citation_is_marked(answer: Answer, message: dict) -> None:
    blocks = message["blocks"]
    notes = [int(next(g for g in m.groups() if g)) for t in text_objects(message) for m in [_MORE.fullmatch(t)] if m]
    dropped = notes[0] if notes else 0
    assert len(notes) <= 1 and dropped < len(answer.passages)
    kept = answer.passages[: len(answer.passages) - dropped]
    sentence_lines = [line for b in blocks if b["type"] == "section" for line in b["text"]["text"].split("\n")]
    source_markers = set()
    for block in blocks:
        if block["type"] == "context":
            for element in block["elements"]:
                if match := _LEADING_MARKERS.match(element["text"]):
                    source_markers.update(match.group(1).split())
    for citation in kept:
        marker = f"[{citation.rank}]"
        assert any(line.endswith(" " + marker) for line in sentence_lines), marker
        assert marker in source_markers, marker
    for citation in answer.passages[len(kept) :]:
        assert f"[{citation.rank}]" not in source_markers


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reply=replies, echo=st.booleans(), answer_id=st.none() | st.from_regex(reply_layer.ANSWER_ID, fullmatch=True))
def test_any_reply_renders_within_slacks_limits(reply, echo, answer_id):
    question = reply.answer.question if reply.answer is not None else "q"
    message = render_reply(
        reply, question=question, max_question_chars=MAX_QUESTION_CHARS, echo_question=echo, answer_id=answer_id
    )
    assert_within_slacks_limits(message)
    buttons = [b for b in message.get("blocks", []) if b["type"] == "actions"]
    if reply.kind == "answered":
        assert_every_kept_citation_is_marked(reply.answer, message)
        assert [e["value"] for b in buttons for e in b["elements"]] == ([answer_id] * 2 if answer_id else [])
    else:  # the words are the reply layer's, the same on every platform; nothing to vote on
        assert message["text"] == reply_layer.notice(reply, MAX_QUESTION_CHARS)
        assert not buttons
