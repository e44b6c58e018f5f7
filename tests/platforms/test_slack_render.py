"""Block Kit rendering: escaping, Slack's size limits, citations kept whole."""

from __future__ import annotations

import json
import re

import pytest

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms.slack.render import (
    MAX_BLOCKS,
    MAX_CONTEXT_ELEMENTS,
    MAX_TEXT,
    clean_question,
    escape,
    escape_truncated,
    is_public,
    render_answer,
    render_reply,
)


def cite(
    rank: int,
    source: str = "000_bed8d2b4576aa9ed.txt",
    highlight: str | None = None,
    title: str = "Anthropic Merekrut CTO Baru Menghadapi Persaingan OpenAI",
) -> Citation:
    sentence = highlight if highlight is not None else f"Rahul Patil is the new CTO, says passage {rank}."
    return Citation(rank, source, title, "Context before. " + sentence + " Context after.", sentence, 0.9)


def texts(message: dict) -> list[str]:
    out = []
    for block in message.get("blocks", []):
        if block["type"] == "section":
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])
    return out


def sections(message: dict) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")


def source_lines(message: dict) -> list[str]:
    return [
        t for b in message["blocks"] if b["type"] == "context" for t in (e["text"] for e in b["elements"]) if "`" in t
    ]


def within_limits(message: dict) -> None:
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert len(message["text"]) <= MAX_TEXT
    for block in message["blocks"]:
        if block["type"] == "context":
            assert 1 <= len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
    for text in texts(message):
        assert 0 < len(text) <= MAX_TEXT


def test_escape_handles_the_three_control_characters():
    assert escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert escape("<!channel>") == "&lt;!channel&gt;"


def test_escape_truncated_never_splits_an_entity():
    text = "&" * 100
    out = escape_truncated(text, 20)
    assert len(out) <= 20 and out.endswith("…")
    assert re.fullmatch(r"(&amp;)+…", out)
    assert escape_truncated("short & sweet", 100) == "short &amp; sweet"


@pytest.mark.parametrize(
    "raw, bot, expected",
    [
        ("<@UBOT> who is the CTO?", "UBOT", "who is the CTO?"),
        ("who is the CTO <@UBOT|newsbot>?", "UBOT", "who is the CTO ?"),
        ("<!channel> <!here|here> who?", None, "@channel here who?"),
        ("ask <@U0ALICE|alice> and <@U0BOB>", "UBOT", "ask @alice and @U0BOB"),
        (
            "in <#C123|news>, see <https://example.com|the site> or <https://x.org>",
            None,
            "in #news, see the site or https://x.org",
        ),
        ("is 1 &lt; 2 &amp;&amp; 3 &gt; 2?", None, "is 1 < 2 && 3 > 2?"),
        ("  lots \n of   space  ", None, "lots of space"),
        ("<@UBOT>", "UBOT", ""),
    ],
)
def test_clean_question(raw, bot, expected):
    assert clean_question(raw, bot) == expected


def test_answer_has_marked_sentences_then_one_context_line_per_source():
    answer = Answer(
        "Who is Anthropic's new CTO?",
        True,
        (
            cite(1, "001_ca3102186ee2e08c.txt", title="The Race for AI Infrastructure Leadership"),
            cite(2),
            cite(3),
        ),
    )
    message = render_answer(answer)
    within_limits(message)
    body = sections(message)
    for rank in (1, 2, 3):
        assert f"says passage {rank}. [{rank}]" in body
    lines = source_lines(message)
    assert lines == [
        "[1] `001_ca3102186ee2e08c.txt` — The Race for AI Infrastructure Leadership",
        "[2] [3] `000_bed8d2b4576aa9ed.txt` — Anthropic Merekrut CTO Baru Menghadapi Persaingan OpenAI",
    ]
    # sentences come before the sources, under the Sources heading
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds.index("context") > kinds.index("section")
    assert f"*{messages.SOURCES_HEADING}*" in texts(message)
    assert "[1]" in message["text"]  # notification fallback carries the answer too


def test_user_and_article_text_is_escaped_and_never_auto_parsed():
    answer = Answer(
        "<!channel> a < b & c?",
        True,
        (cite(1, source="0<1>&.txt", highlight="Use <!here> & <@U1> > nothing.", title="A <b> & title"),),
    )
    message = render_answer(answer, echo_question=True)
    dumped = json.dumps(message)
    for raw in ("<!channel>", "<!here>", "<@U1>", "<b>", "0<1>"):
        assert raw not in dumped
    assert "&lt;!channel&gt; a &lt; b &amp; c?" in texts(message)[0]
    assert "Use &lt;!here&gt; &amp; &lt;@U1&gt; &gt; nothing. [1]" in sections(message)
    assert all(b["text"]["verbatim"] for b in message["blocks"] if b["type"] == "section")


def test_a_huge_sentence_is_shortened_but_keeps_its_marker():
    answer = Answer("q", True, (cite(1, highlight="word " * 2000), cite(2)))
    message = render_answer(answer)
    within_limits(message)
    body = sections(message)
    assert "… [1]" in body and "[2]" in body
    assert any("[1] [2] `000_bed8d2b4576aa9ed.txt`" in t for t in source_lines(message))


def test_many_long_citations_fit_slacks_limits_without_cutting_any():
    sources = [f"{i:03d}_article.txt" for i in range(120)]
    citations = tuple(cite(i + 1, sources[i], highlight=f"Sentence {i + 1} " + "x" * 1400) for i in range(120))
    message = render_answer(Answer("q", True, citations), echo_question=True)
    within_limits(message)
    body = sections(message)
    shown = [int(n) for n in re.findall(r"\[(\d+)\]$", body, flags=re.M)]
    # a prefix of the citations, each with its whole sentence, its marker and its source line
    assert shown == list(range(1, len(shown) + 1)) and len(shown) >= 20
    for rank in shown:
        assert f"Sentence {rank} {'x' * 1400} [{rank}]" in body
        assert any(f"[{rank}] `{sources[rank - 1]}`" in t for t in source_lines(message))
    dropped = 120 - len(shown)
    assert dropped > 0
    assert messages.SLACK_MORE_CITATIONS.format(count=dropped) in texts(message)
    assert not any(f"[{len(shown) + 1}]" in t for t in texts(message))


def test_a_huge_file_name_is_shortened_within_the_limit():
    # found by the property test: a 3,000-character name made a 3,006-character source line
    answer = Answer("q", True, (cite(1, source="0" * 3000 + ".txt", title=""),))
    message = render_answer(answer)
    within_limits(message)
    (line,) = source_lines(message)
    assert line.startswith("[1] `000") and line.endswith("…`")


def test_one_article_cited_very_often_keeps_its_source_line_within_the_limit():
    # 700 markers on one source line would be ~4,000 characters: whole citations go instead
    citations = tuple(cite(i, highlight=f"Fact {i}.") for i in range(1, 701))
    message = render_answer(Answer("q", True, citations))
    within_limits(message)
    (line,) = source_lines(message)
    shown = [int(n) for n in re.findall(r"\[(\d+)\]", line)]
    assert shown == list(range(1, len(shown) + 1)) and len(shown) > 100
    assert messages.SLACK_MORE_CITATIONS.format(count=700 - len(shown)) in texts(message)
    assert f"Fact {len(shown)}. [{len(shown)}]" in sections(message)
    assert f"[{len(shown) + 1}]" not in sections(message)


def test_an_overlong_question_echo_is_cut_within_the_limit():
    answer = Answer("&" * 4000, True, (cite(1),))
    message = render_answer(answer, echo_question=True)
    within_limits(message)
    assert texts(message)[0].endswith("&amp;…")


@pytest.mark.parametrize(
    "reply, expected, public",
    [
        (Reply("rate_limited", retry_after=42), messages.RATE_LIMITED.format(seconds=42), False),
        (Reply("busy"), messages.BUSY, False),
        (Reply("error"), messages.APOLOGY, False),
        (Reply("shutting_down"), messages.SHUTTING_DOWN, False),
        (Reply("declined", Answer("", False, reason="empty")), messages.EMPTY_QUESTION, False),
        (
            Reply("declined", Answer("x" * 600, False, reason="too_long")),
            messages.QUESTION_TOO_LONG.format(length=600, limit=500),
            False,
        ),
        (Reply("declined", Answer("weather?", False, reason="not_covered")), messages.NOT_COVERED, True),
    ],
)
def test_every_reply_kind_has_its_message(reply, expected, public):
    message = render_reply(reply, question=reply.answer.question if reply.answer else "q", max_question_chars=500)
    assert message["text"] == expected
    assert "blocks" not in message  # plain: no citations, no quoting
    assert is_public(reply) is public


def test_decline_with_echo_escapes_the_question():
    reply = Reply("declined", Answer("<!here> weather?", False, reason="not_covered"))
    message = render_reply(reply, question="<!here> weather?", max_question_chars=500, echo_question=True)
    assert message["text"] == messages.NOT_COVERED
    assert "<!here>" not in json.dumps(message)
    assert "&lt;!here&gt; weather?" in texts(message)[0]
    assert messages.NOT_COVERED in texts(message)


def test_the_short_answer_leads_and_the_labels_follow_the_question():

    cited = (Citation(1, "a.txt", "Kelinci <Emas>", "Dibeli Rp 5 triliun.", "Dibeli Rp 5 triliun.", 0.5),)
    answer = Answer("Berapa <nilainya>?", True, cited, short="Rp 5 triliun & lebih", lang="id")
    message = render_answer(answer, echo_question=True)
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in message["blocks"]]
    assert texts[0] == "*Pertanyaan:* Berapa &lt;nilainya&gt;?"
    assert texts[1] == "*Jawaban:* Rp 5 triliun &amp; lebih [1]"
    assert texts[2] == "Dibeli Rp 5 triliun. [1]" and texts[3] == "*Sumber*"
    assert message["text"].startswith("Rp 5 triliun &amp; lebih [1]")
