"""`latest`: the newest articles, linked and dated, within each platform's limits, newest first as given."""

from __future__ import annotations

import re

import pytest
from slack_sdk.models.blocks import Block

from bot.core import messages
from bot.core.models import SourceInfo
from bot.platforms.discord import render as discord_render
from bot.platforms.reply import latest_text
from bot.platforms.slack import render as slack_render

ARTICLES = [
    SourceInfo(
        "techcrunch-anthropic.html",
        "Anthropic names Stripe's former CTO as its new CTO",
        "https://techcrunch.com/2025/10/02/anthropic-cto/",
        "techcrunch.com",
        "2025-10-02T09:00:00-07:00",
        "en",
    ),
    SourceInfo(
        "kompas-ai.md",
        "Startup AI [Indonesia] raih pendanaan",
        "https://kompas.com/ai?a=1&b=2",
        "kompas.com",
        "2025-08-17",
        "id",
    ),
    SourceInfo("003_f25e02178ca9b32d.txt", "Anthropic Merekrut CTO Baru", None, None, None, "id"),
    SourceInfo("evil.html", "Click <!channel> | me", "javascript:alert(1)", "evil.example", "2024-03-15", "en"),
]

AUGUST = {"en": "17 Aug 2025", "id": "17 Agu 2025"}


def many(count: int) -> list[SourceInfo]:
    return [
        SourceInfo(
            f"{n:04d}.html",
            f"Article {n} " + "word " * 60,
            f"https://news.example/{n}/" + "p" * 400,
            "s" * 90,
            "2025-01-01",
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("lang", "heading", "date"), [("en", "Newest articles", "2 Oct 2025"), ("id", "Artikel terbaru", "2 Okt 2025")]
)
def test_plain_text_lists_the_newest_first_with_links_and_dates(lang, heading, date):
    text = latest_text(ARTICLES, lang)
    lines = text.splitlines()
    assert lines[0] == heading + ":"
    assert lines[1] == f" 1. Anthropic names Stripe's former CTO as its new CTO — techcrunch.com, {date}"
    assert lines[2] == "      https://techcrunch.com/2025/10/02/anthropic-cto/"  # under the title, indented
    assert lines[3] == " 2. Startup AI [Indonesia] raih pendanaan — kompas.com, " + AUGUST[lang]
    assert lines[5] == " 3. 003_f25e02178ca9b32d.txt — Anthropic Merekrut CTO Baru"
    assert lines[6].startswith(" 4. evil.html — Click") and "javascript" not in text


@pytest.mark.parametrize("lang", ["en", "id"])
def test_an_empty_archive_says_so_everywhere(lang):
    empty = messages.say("LATEST_EMPTY", lang)
    assert latest_text([], lang) == empty
    out = discord_render.render_latest([], lang)
    assert out.content == empty and out.embed is None
    assert slack_render.render_latest([], lang) == {"text": empty}
    if lang == "id":
        assert empty != messages.LATEST_EMPTY


@pytest.mark.parametrize("lang", ["en", "id"])
def test_discord_lists_linked_titles_in_the_order_given(lang):
    embed = discord_render.render_latest(ARTICLES, lang).embed
    assert embed.title == messages.say("LATEST_HEADING", lang)
    lines = embed.description.splitlines()
    assert [int(line.split(".")[0]) for line in lines] == [1, 2, 3, 4]
    assert lines[0].startswith("1. [Anthropic names Stripe's former CTO as its new CTO](<https://techcrunch.com/")
    assert lines[1].startswith(
        "2. [Startup AI (Indonesia) raih pendanaan](<https://kompas.com/ai?a=1&b=2>) — kompas.com"
    )
    assert lines[2] == "3. `003_f25e02178ca9b32d.txt` — Anthropic Merekrut CTO Baru"
    assert lines[3].startswith("4. `evil.html`") and "javascript" not in embed.description
    assert embed.footer.text is None


def test_discord_keeps_a_long_list_within_its_limits_and_counts_the_rest():
    sources = many(300)
    embed = discord_render.render_latest(sources, "id").embed
    lines = embed.description.splitlines()
    assert len(embed.description) <= discord_render.DESCRIPTION_MAX and len(embed) <= discord_render.TOTAL_MAX
    assert 3 <= len(lines) < 300
    for n, line in enumerate(lines):  # the first ones, in order, each link whole
        assert line.startswith(f"{n + 1}. [Article {n} ") and f"(<https://news.example/{n}/{'p' * 400}>)" in line
    assert embed.footer.text == messages.INDONESIAN["LATEST_MORE"].format(count=300 - len(lines))


def slack_texts(message: dict) -> list[str]:
    out = []
    for block in message["blocks"]:
        out += [block["text"]["text"]] if block["type"] == "section" else [e["text"] for e in block["elements"]]
    return out


@pytest.mark.parametrize("lang", ["en", "id"])
def test_slack_lists_linked_titles_in_the_order_given(lang):
    message = slack_render.render_latest(ARTICLES, lang)
    heading, body = slack_texts(message)
    assert heading == f"*{messages.say('LATEST_HEADING', lang)}*" and message["text"] == messages.say(
        "LATEST_HEADING", lang
    )
    lines = body.splitlines()
    assert lines[0].startswith(
        "• <https://techcrunch.com/2025/10/02/anthropic-cto/|Anthropic names Stripe's former CTO"
    )
    assert (
        lines[1]
        == "• <https://kompas.com/ai?a=1&amp;b=2|Startup AI [Indonesia] raih pendanaan> — kompas.com, " + AUGUST[lang]
    )
    assert lines[2] == "• `003_f25e02178ca9b32d.txt` — Anthropic Merekrut CTO Baru"
    assert lines[3].startswith("• `evil.html` — Click &lt;!channel&gt; | me — evil.example")
    for block in message["blocks"]:
        Block.parse(block).validate_json()


def test_slack_keeps_a_long_list_within_its_limits_and_counts_the_rest():
    sources = many(2000)
    message = slack_render.render_latest(sources, "en")
    assert len(message["blocks"]) <= slack_render.MAX_BLOCKS
    texts = slack_texts(message)
    assert all(0 < len(t) <= slack_render.MAX_TEXT for t in texts)
    lines = [line for t in texts[1:-1] for line in t.splitlines()]
    assert 100 < len(lines) < 2000
    for n, line in enumerate(lines):
        assert re.match(rf"• <https://news\.example/{n}/p+\|Article {n} ", line), line[:80]
    assert texts[-1] == messages.LATEST_MORE.format(count=2000 - len(lines))
    for block in message["blocks"]:
        Block.parse(block).validate_json()
