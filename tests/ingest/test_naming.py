"""Stable file names from links."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.ingest.naming import name_for, normalise

SAFE = re.compile(r"^web/[a-z0-9.-]+/[a-z0-9.-]+-[0-9a-f]{8}\.md$")


def test_the_same_page_gets_the_same_name_however_the_link_is_written():
    names = {
        name_for(link)
        for link in (
            "https://www.Kabar.example/berita/ai-baru/",
            "https://www.kabar.example/berita/ai-baru?utm_source=rss&utm_medium=feed",
            "https://WWW.KABAR.EXAMPLE:443/berita/ai-baru#komentar",
            "https://www.kabar.example/berita/ai-baru?fbclid=abc",
        )
    }
    assert len(names) == 1
    (name,) = names
    assert SAFE.match(name) and name.startswith("web/kabar.example/ai-baru-")


def test_different_pages_get_different_names():
    links = [
        "https://kabar.example/berita/ai-baru",
        "https://kabar.example/berita/ai-baru?id=2",
        "http://kabar.example/berita/ai-baru",
        "https://kabar.example/lain/ai-baru",
        "https://kabar.example:8443/berita/ai-baru",
    ]
    assert len({name_for(link) for link in links}) == len(links)
    assert normalise("https://kabar.example/a?id=2&utm_campaign=x") == "https://kabar.example/a?id=2"


def test_accents_and_odd_characters_are_folded_to_safe_ones():
    assert name_for("https://presse.example/actualité/L'étude été 2025.html").startswith(
        "web/presse.example/l-etude-ete-2025-"
    )
    assert SAFE.match(name_for("https://bücher.example/%E4%BD%A0%E5%A5%BD"))


@given(st.text(max_size=300), st.text(max_size=100))
def test_any_link_gives_a_short_safe_name(path, query):
    name = name_for("https://news.example/" + path + "?" + query)
    assert SAFE.match(name) and len(name) <= 160
