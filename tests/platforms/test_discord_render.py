"""Answers as Discord embeds, inside Discord's limits, citations never cut."""

from __future__ import annotations

import re

import discord
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms.discord.render import answer_embed, clip, discord_url, parse_vote, render_reply
from bot.platforms.reply import ANSWER_ID, safe_url
from tests.platforms.test_render_citations import discord_links

SOURCE_A = "000_bed8d2b4576aa9ed.txt"
SOURCE_B = "001_ca3102186ee2e08c.txt"


def cite(rank: int, source: str, highlight: str, title: str = "Anthropic Merekrut CTO Baru") -> Citation:
    return Citation(rank, source, title, "Context. " + highlight + " More context.", highlight, 0.5)


def assert_within_discord_limits(embed: discord.Embed) -> None:
    data = embed.to_dict()
    fields = data.get("fields", [])
    assert len(data.get("title", "")) <= 256
    assert len(data.get("description", "")) <= 4096
    assert len(fields) <= 25
    for field in fields:
        assert 0 < len(field["name"]) <= 256
        assert 0 < len(field["value"]) <= 1024
    total = (
        len(data.get("title", ""))
        + len(data.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in fields)
        + len(data.get("footer", {}).get("text", ""))
    )
    assert total <= 6000
    assert len(embed) == total


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def sources_text(embed: discord.Embed) -> str:
    return "\n".join(field.value for field in embed.fields)


def test_short_answer_is_quoted_whole_with_markers_and_sources():
    answer = Answer(
        "Who is Anthropic's new CTO?",
        True,
        (
            cite(1, SOURCE_B, "Anthropic appointed former Stripe CTO Rahul Patil.", "The Race for AI Infrastructure"),
            cite(2, SOURCE_A, "Anthropic telah mengangkat Rahul Patil sebagai CTO."),
            cite(3, SOURCE_A, "Sam McCandlish beralih ke posisi Chief Architect."),
        ),
    )
    embed = answer_embed(answer)
    assert_within_discord_limits(embed)
    assert embed.title == "Who is Anthropic's new CTO?"
    assert embed.description == (
        "**[1]** Anthropic appointed former Stripe CTO Rahul Patil.\n\n"
        "**[2]** Anthropic telah mengangkat Rahul Patil sebagai CTO.\n\n"
        "**[3]** Sam McCandlish beralih ke posisi Chief Architect."
    )
    (field,) = embed.fields
    assert field.name == messages.SOURCES_HEADING
    # one line per file, with every [n] that cites it, in order of first citation
    assert field.value.splitlines() == [
        f"**[1]** `{SOURCE_B}` — The Race for AI Infrastructure",
        f"**[2][3]** `{SOURCE_A}` — Anthropic Merekrut CTO Baru",
    ]
    assert embed.footer.text is None


def test_long_answers_are_shortened_never_cutting_a_citation():
    words = " ".join(f"word{i}" for i in range(1500))  # ~13,000 characters each
    passages = tuple(cite(n, f"{n:03d}_article.txt", words, title="T" * 600) for n in range(1, 11))
    embed = answer_embed(Answer("q" * 400, True, passages))
    assert_within_discord_limits(embed)
    assert markers(embed.description) == list(range(1, 11))
    assert sorted(markers(sources_text(embed))) == list(range(1, 11))
    for n in range(1, 11):
        assert f"`{n:03d}_article.txt`" in sources_text(embed)
    # each quote is shortened at a word, marked with an ellipsis, and the room is shared out
    quotes = embed.description.split("\n\n")
    assert all(q.endswith("…") for q in quotes)
    assert all(re.search(r"word\d+…$", q) for q in quotes)
    assert max(map(len, quotes)) - min(map(len, quotes)) < 30
    assert len(embed) > 5000  # it uses the room it has


def test_one_long_quote_is_shortened_and_the_short_ones_kept_whole():
    short = "Rahul Patil is the new CTO."
    passages = (cite(1, SOURCE_A, "a " * 5000), cite(2, SOURCE_B, short))
    embed = answer_embed(Answer("Who?", True, passages))
    assert_within_discord_limits(embed)
    assert f"**[2]** {short}" in embed.description
    assert len(embed.description) > 4000  # the long one gets the rest of the room


def test_too_many_citations_leave_out_whole_ones_and_say_so():
    long_name = "x" * 200
    passages = tuple(
        cite(n, f"{long_name}_{n:03d}.txt", "A sentence that answers.", title="A title " * 30) for n in range(1, 61)
    )
    embed = answer_embed(Answer("Who?", True, passages))
    assert_within_discord_limits(embed)
    shown = markers(embed.description)
    assert shown == list(range(1, len(shown) + 1)) and 0 < len(shown) < 60
    assert sorted(markers(sources_text(embed))) == shown
    for n in shown:  # every shown citation has its full file name
        assert f"`{long_name}_{n:03d}.txt`" in sources_text(embed)
    assert embed.footer.text == messages.DISCORD_MORE_PASSAGES.format(count=60 - len(shown))
    assert [f.name for f in embed.fields][1:] == [f"{messages.SOURCES_HEADING} (continued)"] * (len(embed.fields) - 1)


def test_markdown_in_articles_is_shown_as_written():
    passages = (cite(1, SOURCE_A, "They need more *compute* and __power__.", title="A `code` title"),)
    embed = answer_embed(Answer("What do they need?", True, passages))
    assert r"\*compute\*" in embed.description
    assert r"\_\_power\_\_" in embed.description
    assert r"A \`code\` title" in embed.fields[0].value


def test_clip_keeps_the_limit_and_never_leaves_a_dangling_escape():
    assert clip("short", 10) == "short"
    assert clip("one two three four five", 16) == "one two three…"  # at a word when one is near
    assert clip("one two three four five", 12) == "one two thr…"  # else mid-word
    assert len(clip("a" * 100, 10)) == 10
    escaped = "abcdefgh\\*"
    assert clip(escaped + "tail", 10) == "abcdefgh…"


@pytest.mark.parametrize(
    ("reply", "content", "private"),
    [
        (Reply("declined", Answer("weather?", False, reason="not_covered")), messages.NOT_COVERED, False),
        (Reply("declined", Answer("", False, reason="empty")), messages.EMPTY_QUESTION, True),
        (
            Reply("declined", Answer("x" * 600, False, reason="too_long")),
            messages.QUESTION_TOO_LONG.format(length=600, limit=500),
            True,
        ),
        (Reply("busy"), messages.BUSY, True),
        (Reply("rate_limited", retry_after=42), messages.RATE_LIMITED.format(seconds=42), True),
        (Reply("error"), messages.APOLOGY, True),
        (Reply("shutting_down"), messages.SHUTTING_DOWN, True),
    ],
)
def test_refusals_are_plain_text(reply, content, private):
    out = render_reply(reply, max_question_chars=500)
    assert out.content == content
    assert out.embed is None
    assert out.private is private
    assert len(out.content) <= 2000


def test_an_answer_renders_as_a_public_embed():
    answer = Answer("Who?", True, (cite(1, SOURCE_A, "Rahul Patil."),))
    out = render_reply(Reply("answered", answer), max_question_chars=500)
    assert out.content is None and not out.private
    assert "Rahul Patil." in out.embed.description


# Any answer and any outcome: a message Discord accepts, every shown citation whole.

MARKDOWN = "*_~`|>#-[]()\\:<@!&"
EMOJI = "😀🚀🇮🇩👍🏽✨"
_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from(MARKDOWN + EMOJI)
)
# up to ~20,000 characters: a few words repeated
texts = _words | st.builds(lambda s, n: (s + " ") * n, _words.filter(str.strip), st.integers(1, 2000))
_name_chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from(MARKDOWN)
# short names, and names near 255 characters, the longest most file systems allow
file_names = st.text(alphabet=_name_chars, min_size=1, max_size=40) | st.builds(
    lambda s, n: (s * 255)[:n], st.text(alphabet=_name_chars, min_size=1, max_size=20), st.integers(150, 255)
)


HOSTILE_URLS = [
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "https://user:pw@evil.example/",
    "//evil.example/x",
    "https://news.example/a)b](<x>)[y](https://evil.example)",
    "https://en.wikipedia.org/wiki/Foo_(bar)",
]
urls = st.one_of(
    st.none(),
    st.sampled_from(HOSTILE_URLS),
    st.builds(lambda path, n: "https://news.example/" + path * n, _words, st.integers(1, 40)),
)
dates = st.one_of(st.none(), st.dates().map(str), st.sampled_from(["2025-10-02T09:00:00-07:00", "soon", "2025-13-45"]))


@st.composite
def answers(draw) -> Answer:
    sources = draw(st.lists(file_names, min_size=1, max_size=60, unique=True))
    titles = {s: draw(texts) for s in sources}
    metadata = {s: (draw(urls), draw(st.none() | _words), draw(dates)) for s in sources}
    spread = draw(st.booleans())  # each citation from the next file, or files drawn at random
    citations = []
    for rank in range(1, draw(st.integers(0, 60)) + 1):
        source = sources[(rank - 1) % len(sources)] if spread else draw(st.sampled_from(sources))
        text = draw(texts)
        highlight = draw(st.sampled_from(["", text, text[: len(text) // 2]]))
        score = draw(st.floats(-1, 1))
        citations.append(Citation(rank, source, titles[source], text, highlight, score, *metadata[source]))
    short = draw(st.one_of(st.none(), texts)) if citations else None
    return Answer(draw(texts), True, tuple(citations), short=short, lang=draw(st.sampled_from(["en", "id"])))


@st.composite
def replies(draw) -> Reply:
    kind = draw(st.sampled_from(["answered", "declined", "rate_limited", "busy", "error", "shutting_down"]))
    if kind == "answered":
        return Reply(kind, draw(answers()))
    if kind == "declined":
        reason = draw(st.sampled_from(["not_covered", "empty", "too_long"]))
        return Reply(kind, Answer(draw(texts), False, reason=reason))
    return Reply(kind, retry_after=draw(st.integers(0, 3600)) if kind == "rate_limited" else 0)


def shown_ranks(embed: discord.Embed) -> list[int]:
    """The [n] of each quote in the description: one quote a paragraph, each opening with its marker."""
    ranks = []
    quotes = embed.description.split("\n\n")
    if quotes[0].startswith(("**Answer:**", "**Jawaban:**")):  # the short answer line, from [1]
        assert quotes.pop(0).endswith("**[1]**")
    for quote in quotes:
        found = re.match(r"\*\*\[(\d+)\]\*\* ", quote)
        assert found, quote[:80]
        ranks.append(int(found.group(1)))
    return ranks


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reply=replies(), answer_id=st.none() | st.from_regex(ANSWER_ID, fullmatch=True))
@example(  # a file named with markdown's characters: shown escaped, "0\\[\\`"
    reply=Reply("answered", Answer("", True, (Citation(1, "0[`", "", "", "", 0.0, None, None, None),))),
    answer_id=None,
)
def test_any_reply_renders_within_discord_limits(reply, answer_id):
    out = render_reply(reply, max_question_chars=500, answer_id=answer_id)
    assert all(len(custom_id) <= 100 and parse_vote(custom_id)[1] == answer_id for custom_id, _ in out.buttons)
    assert len(out.buttons) == (2 if answer_id and out.embed is not None else 0)
    if out.embed is None:
        assert out.content and len(out.content) <= 2000
        public = reply.kind == "answered" or (reply.kind == "declined" and reply.answer.reason == "not_covered")
        assert out.private is not public  # only "not covered" is worth the channel; the rest is the asker's
        return
    embed = out.embed
    assert_within_discord_limits(embed)
    assert out.content is None and not out.private
    assert len(embed.footer.text or "") <= 2048
    citations = reply.answer.passages
    shown = shown_ranks(embed)
    assert shown == list(range(1, len(shown) + 1)) and shown  # the first citations, in order, at least one
    source_lines = sources_text(embed).splitlines()
    cited = {
        int(n)
        for line in source_lines
        for n in re.findall(r"\[(\d+)\]", re.match(r"\*\*((?:\[\d+\])+)\*\*", line).group(1))
    }
    assert cited == set(shown)
    for c in citations[: len(shown)]:  # each shown citation's file is named in full, or its link is whole
        link = safe_url(c.url)
        named = [c.source] + ([f"(<{discord_url(link)}>)"] if link else [])
        shown_names = [re.sub(r"\\(.)", r"\1", line) for line in source_lines]  # markdown escapes taken off
        assert any(name in line for line in source_lines + shown_names for name in named)
    for text in [embed.description, *(f.value for f in embed.fields)]:  # every link one a person may follow
        for _, target in discord_links(text):
            assert safe_url(target) is not None and target.startswith(("http://", "https://")), target
    hidden = len(citations) - len(shown)
    more = messages.say("DISCORD_MORE_PASSAGES", reply.answer.lang)
    assert embed.footer.text == (more.format(count=hidden) if hidden else None)


def test_the_short_answer_leads_the_embed_in_the_questions_language():
    answer = Answer(
        "Siapa CTO baru?", True, (cite(1, SOURCE_A, "Rahul Patil jadi CTO."),), short="Rahul *Patil*", lang="id"
    )
    embed = answer_embed(answer)
    assert embed.description.split("\n\n")[0] == "**Jawaban:** Rahul \\*Patil\\* **[1]**"
    assert embed.fields[0].name == "Sumber"
