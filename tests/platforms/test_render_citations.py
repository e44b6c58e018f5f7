"""Citations people can follow: a checked link, the site and the date, on every platform and in plain text."""

from __future__ import annotations

import re

import discord
import pytest
from yarl import URL

from bot.core.models import Answer, Citation, Reply, SourceInfo
from bot.platforms import reply as reply_layer
from bot.platforms.discord import render as discord_render
from bot.platforms.reply import format_date, group_sources, safe_url, source_text
from bot.platforms.slack import render as slack_render

# The masked-link rule of Discord's markdown parser (simple-markdown's `link`): link text is
# balanced brackets or non-brackets, the target ends at the first `)` not inside a `(...)` pair.
DISCORD_LINK = re.compile(
    r"\[((?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*)\]\(\s*<?((?:\([^)]*\)|[^\s\\]|\\.)*?)>?(?:\s+['\"]([\s\S]*?)['\"])?\s*\)"
)
# Slack's link markup: `<target|label>`; the label runs to the next `>`, the target to the first `|`.
SLACK_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")


def cite(rank, source, title, url=None, site=None, published=None, sentence="Rahul Patil is the new CTO."):
    return Citation(rank, source, title, "Before. " + sentence + " After.", sentence, 0.5, url, site, published)


def discord_links(text: str) -> list[tuple[str, str]]:
    """The links Discord would show: a `[` escaped with a backslash starts none."""
    return [(m.group(1), m.group(2)) for m in DISCORD_LINK.finditer(text) if not text[: m.start()].endswith("\\")]


def slack_links(text: str) -> list[tuple[str, str]]:
    return [(m.group(1).replace("&amp;", "&"), m.group(2)) for m in SLACK_LINK.finditer(text)]


def discord_sources(answer: Answer) -> str:
    embed = discord_render.answer_embed(answer)
    return "\n".join(f.value for f in embed.fields)


def slack_sources(answer: Answer) -> list[str]:
    message = slack_render.render_answer(answer)
    return [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]][1:]


# ---------------------------------------------------------------- the reply layer


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://techcrunch.com/2025/10/02/anthropic-cto/", "https://techcrunch.com/2025/10/02/anthropic-cto/"),
        ("  HTTP://Example.COM/a b?q=1  ", "http://example.com/a%20b?q=1"),
        ("https://id.wikipedia.org/wiki/Kucing_(hewan)", "https://id.wikipedia.org/wiki/Kucing_(hewan)"),
        ("http://127.0.0.1:8080/berita", "http://127.0.0.1:8080/berita"),
        ("https://bücher.de/artikel", "https://xn--bcher-kva.de/artikel"),
    ],
)
def test_http_links_are_kept_normalized(url, expected):
    assert safe_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)//https://ok.com",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://files.example.com/a.txt",
        "mailto:editor@example.com",
        "//example.com/protocol-relative",
        "/relative/path",
        "https:///no-host",
        "https://user:secret@evil.example/",
        "https://exa mple.com/",
        "https://exa<mple.com/",
        "https://example.com/" + "a" * 3000,
        42,
    ],
)
def test_other_links_are_refused(url):
    assert safe_url(url) is None


@pytest.mark.parametrize(
    ("published", "en", "id"),
    [
        ("2025-10-02", "2 Oct 2025", "2 Okt 2025"),
        ("2025-08-17T01:00:00Z", "17 Aug 2025", "17 Agu 2025"),
        # the publisher's day, not UTC's (which is already 10 May)
        ("2025-05-09T23:30:00-07:00", "9 May 2025", "9 Mei 2025"),
        ("2024-12-31T10:00:00+07:00", "31 Dec 2024", "31 Des 2024"),
    ],
)
def test_dates_are_written_in_the_askers_language(published, en, id):
    assert format_date(published, "en") == en
    assert format_date(published, "id") == id


@pytest.mark.parametrize("published", [None, "", "yesterday", "2025-13-01", "02/10/2025", "Oct 2, 2025"])
def test_unknown_or_unreadable_dates_are_left_out(published):
    assert format_date(published, "en") is None


def test_a_language_the_bot_does_not_speak_gets_english_dates():
    assert format_date("2025-05-09", "fr") == "9 May 2025"


def test_plain_text_names_title_site_date_and_the_link_on_its_own_line():
    linked = SourceInfo(
        "003_f25e02178ca9b32d.txt",
        "Anthropic names Stripe's former CTO as its new CTO",
        "https://techcrunch.com/2025/10/02/anthropic-cto/",
        "techcrunch.com",
        "2025-10-02T09:00:00-07:00",
    )
    assert source_text(linked, "en") == (
        "Anthropic names Stripe's former CTO as its new CTO — techcrunch.com, 2 Oct 2025\n"
        "  https://techcrunch.com/2025/10/02/anthropic-cto/"
    )
    assert source_text(linked, "id").splitlines()[0].endswith("techcrunch.com, 2 Okt 2025")
    bare = SourceInfo("000_bed8d2b4576aa9ed.txt", "  Kelinci  Emas\nDibeli ")
    assert source_text(bare, "id") == "000_bed8d2b4576aa9ed.txt — Kelinci Emas Dibeli"
    dated = SourceInfo("a.md", "Judul", site="kompas.com", published="2025-08-17")
    assert source_text(dated, "id") == "a.md — Judul — kompas.com, 17 Agu 2025"


def test_plain_text_never_offers_a_hostile_link():
    info = SourceInfo("evil.html", "Click me", "javascript:alert(1)", "evil.example", None)
    text = source_text(info, "en")
    assert text == "evil.html — Click me — evil.example"
    assert "javascript" not in text


def test_groups_carry_the_articles_link_site_and_date():
    citations = (
        cite(1, "b.txt", "B", "https://b.example/1", "b.example", "2025-10-02"),
        cite(2, "a.txt", "A"),
        cite(3, "b.txt", "B", "https://b.example/1", "b.example", "2025-10-02"),
    )
    groups = group_sources(citations)
    assert [(g.source, g.ranks, g.url, g.site, g.published) for g in groups] == [
        ("b.txt", (1, 3), "https://b.example/1", "b.example", "2025-10-02"),
        ("a.txt", (2,), None, None, None),
    ]


# ---------------------------------------------------------------- Discord


def test_discord_links_the_title_then_site_and_date():
    answer = Answer(
        "Who is Anthropic's CTO?",
        True,
        (
            cite(
                1,
                "003_f25e02178ca9b32d.txt",
                "Anthropic names Stripe's former CTO as its new CTO",
                "https://techcrunch.com/2025/10/02/anthropic-cto/",
                "techcrunch.com",
                "2025-10-02",
            ),
        ),
    )
    line = discord_sources(answer)
    assert line == (
        "**[1]** [Anthropic names Stripe's former CTO as its new CTO]"
        "(<https://techcrunch.com/2025/10/02/anthropic-cto/>) — techcrunch.com, 2 Oct 2025"
    )
    assert "003_f25e02178ca9b32d.txt" not in line  # the file name only when there is no link


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("Evil](https://evil.example) [x", "https://news.example/a"),
        ("[Updated] Anthropic's [new] CTO", "https://news.example/a"),
        ("Unbalanced [ bracket", "https://news.example/a"),
        ("Plain title", "https://en.wikipedia.org/wiki/Anthropic_(company)"),
        ("Plain title", "https://news.example/a)b(c)d"),
        ("Plain title", "https://news.example/a>) [x](https://evil.example"),
        ("*bold* `code` __u__ ~~s~~ ||spoiler||", "https://news.example/a_b*c"),
    ],
)
def test_discord_links_survive_brackets_and_parentheses(title, url):
    answer = Answer("q", True, (cite(1, "a.txt", title, url, "news.example", "2025-10-02"),))
    line = discord_sources(answer)
    links = discord_links(line)
    assert len(links) == 1, line
    text, target = links[0]
    assert target == discord_render.discord_url(safe_url(url))
    assert URL(target).host in ("news.example", "en.wikipedia.org")
    assert line.endswith(") — news.example, 2 Oct 2025")
    # the title's words survive, only its square brackets turn round
    words = re.findall(r"[A-Za-z']+", title)
    assert re.findall(r"[A-Za-z']+", text) == words


def test_discord_does_not_link_what_is_not_http():
    answer = Answer("q", True, (cite(1, "evil.html", "Click [here](javascript:alert(1))", "javascript:alert(1)"),))
    line = discord_sources(answer)
    assert line == "**[1]** `evil.html` — Click \\[here\\](javascript:alert(1))"  # the title as text, escaped
    assert discord_links(line) == []


def test_discord_text_cannot_smuggle_in_a_link():
    # discord.py escapes only the first `[x](y)` of a text; the second would still be a link
    trap = "see [this](https://a.example) and [that](https://evil.example/phish)"
    answer = Answer("q", True, (cite(1, "a.txt", trap, sentence=trap),), short=trap)
    embed = discord_render.answer_embed(answer)
    for text in [embed.description, *(f.value for f in embed.fields)]:
        assert discord_links(text) == [], text


def test_discord_keeps_a_long_title_and_long_link_within_the_field():
    long_url = "https://news.example/" + "a" * 500
    answer = Answer("q", True, (cite(1, "a.txt", "Word " * 1000, long_url, "s" * 300, "2025-10-02"),))
    line = discord_sources(answer)
    assert len(line) <= discord_render.FIELD_VALUE_MAX
    ((_, target),) = discord_links(line)
    assert target == long_url  # never cut
    too_long = Answer("q", True, (cite(1, "a.txt", "Title", "https://news.example/" + "a" * 900),))
    assert discord_sources(too_long) == "**[1]** `a.txt` — Title"  # too long to be worth the room: the file name


def test_discord_each_citation_shows_its_own_date():
    answer = Answer(
        "Berapa nilainya?",
        True,
        (
            cite(1, "new.txt", "Baru", "https://a.example/new", "a.example", "2025-10-02", "Nilainya Rp 5 triliun."),
            cite(2, "old.txt", "Lama", "https://b.example/old", "b.example", "2024-03-15", "Nilainya Rp 3 triliun."),
        ),
        lang="id",
    )
    lines = discord_sources(answer).splitlines()
    assert lines[0].endswith("— a.example, 2 Okt 2025") and lines[0].startswith("**[1]**")
    assert lines[1].endswith("— b.example, 15 Mar 2024") and lines[1].startswith("**[2]**")


def test_discord_embed_with_links_is_within_limits():
    citations = tuple(
        cite(n, f"{n:03d}.txt", "T" * 300, f"https://news.example/{n}/" + "p" * 550, "site", "2025-01-01")
        for n in range(1, 31)
    )
    embed = discord_render.answer_embed(Answer("q", True, citations))
    assert len(embed) <= 6000 and len(embed.fields) <= 25
    assert all(len(f.value) <= 1024 for f in embed.fields)
    for n, line in enumerate("\n".join(f.value for f in embed.fields).splitlines(), 1):
        ((_, target),) = discord_links(line)
        assert target.startswith(f"https://news.example/{n}/")


# ---------------------------------------------------------------- Slack


def test_slack_links_the_title_then_site_and_date():
    answer = Answer(
        "Siapa CTO Anthropic?",
        True,
        (
            cite(
                1, "003.txt", "Anthropic menunjuk CTO baru", "https://kompas.com/a?x=1&y=2", "kompas.com", "2025-10-02"
            ),
        ),
        lang="id",
    )
    (line,) = slack_sources(answer)
    assert line == "[1] <https://kompas.com/a?x=1&amp;y=2|Anthropic menunjuk CTO baru> — kompas.com, 2 Okt 2025"


@pytest.mark.parametrize(
    ("title", "url"),
    [
        ("Title | with <!channel> & <@U123> pings", "https://news.example/a"),
        ("A|B", "https://news.example/a?b=|c"),
        ("Sneaky>", "https://news.example/a>b<c|d"),
        ("<https://evil.example|click>", "https://news.example/a"),
    ],
)
def test_slack_links_escape_the_title_and_the_link(title, url):
    answer = Answer("q", True, (cite(1, "a.txt", title, url, "news.example", "2025-10-02"),))
    (line,) = slack_sources(answer)
    links = slack_links(line)
    assert len(links) == 1, line
    target, label = links[0]
    assert URL(target).host == "news.example" and URL(target).scheme == "https"
    assert target == safe_url(url).replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")
    assert "<!channel>" not in line and "<@U123>" not in line
    # the label shows the whole title: entities undone and the look-alike for `|` read back
    shown = label.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert shown == title.replace("|", slack_render.PIPE_LOOKALIKE)
    assert line.endswith("> — news.example, 2 Oct 2025")


def test_slack_does_not_link_what_is_not_http():
    answer = Answer("q", True, (cite(1, "evil.html", "Click", "javascript:alert(1)", "evil.example"),))
    (line,) = slack_sources(answer)
    assert line == "[1] `evil.html` — Click — evil.example"


def test_slack_each_citation_shows_its_own_date_and_long_ones_fit():
    answer = Answer(
        "How much?",
        True,
        (
            cite(1, "new.txt", "New", "https://a.example/new", "a.example", "2025-10-02", "It is worth $5bn."),
            cite(2, "old.txt", "Old", "https://b.example/old", "b.example", "2024-03-15", "It is worth $3bn."),
            cite(3, "big.txt", "&" * 5000, "https://c.example/" + "&" * 150, "s" * 500, "2023-01-01"),
        ),
    )
    lines = slack_sources(answer)
    assert lines[0].endswith("— a.example, 2 Oct 2025")
    assert lines[1].endswith("— b.example, 15 Mar 2024")
    assert len(lines[2]) <= slack_render.MAX_TEXT and len(slack_links(lines[2])) == 1
    assert lines[2].endswith(", 1 Jan 2023")


def test_discord_and_slack_reply_in_the_questions_language_with_metadata():
    answer = Answer(
        "Siapa?", True, (cite(1, "a.txt", "Judul", "https://a.example/", "a.example", "2025-08-17"),), lang="id"
    )
    out = discord_render.render_reply(Reply("answered", answer), max_question_chars=500)
    assert isinstance(out.embed, discord.Embed) and "17 Agu 2025" in out.embed.fields[0].value
    message = slack_render.render_reply(Reply("answered", answer), question="Siapa?", max_question_chars=500)
    assert any("17 Agu 2025" in t for t in slack_sources(answer)) and "blocks" in message
    assert reply_layer.source_meta(answer.passages[0], "en") == "a.example, 17 Aug 2025"
