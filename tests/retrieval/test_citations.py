"""Citations people can follow: link, site and date on each, and the newer article first when figures differ."""

from __future__ import annotations

import pytest

from bot.retrieval.engine import Engine
from tests.conftest import make_settings


def _article(url: str, site: str, published: str, body: str) -> str:
    return f"---\nurl: {url}\nsite: {site}\npublished: {published}\n---\n{body}"


EN_A = (
    "Tidewater Rail Line Budget Set\n\n"
    "The Tidewater rail line between Norfolk and Hampton will cost $2.1 billion, the transit board said. "
    "Construction of the Tidewater line is planned to take four years.\n"
)
EN_B = (
    "Tidewater Line Costs Rise Again\n\n"
    "The transit board now expects the Tidewater rail line to cost $2.6 billion after steel prices rose. "
    "Board members blamed delays in land purchases.\n"
)
ID_A = (
    "Tarif Kereta Wisata Bromo Diumumkan\n\n"
    "Harga tiket kereta wisata Bromo ditetapkan Rp 150.000 per orang oleh pengelola. "
    "Kereta itu berangkat dua kali sehari dari Stasiun Malang.\n"
)
ID_B = (
    "Tiket Kereta Wisata Bromo Naik\n\n"
    "Pengelola menaikkan harga tiket kereta wisata Bromo menjadi Rp 175.000 per orang mulai bulan ini. "
    "Kenaikan itu disebut untuk menutup biaya perawatan gerbong.\n"
)
PLAIN = (
    "Harbour Ferry Adds A Night Crossing\n\n"
    "Harbour Ferry will add a night crossing to Vlieland, leaving at 23:00 from the main pier. "
    "The company said 40 passengers booked the first trip.\n"
)
DATES = ("2024-03-01", "2025-06-10")


def _engine(root, embedder, older_first: bool) -> Engine:
    """The same texts; which article is newer depends on `older_first`."""
    (root / "seeds").mkdir()
    a, b = DATES if older_first else DATES[::-1]
    files = {
        "tidewater_a.txt": _article("https://news.example/tidewater-a", "news.example", a, EN_A),
        "tidewater_b.txt": _article("https://rail.example/tidewater-b", "rail.example", b, EN_B),
        "bromo_a.txt": _article("https://berita.example/bromo-a", "berita.example", a, ID_A),
        "bromo_b.txt": _article("https://kabar.example/bromo-b", "kabar.example", b, ID_B),
        "ferry.txt": PLAIN,
    }
    for name, text in files.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return Engine.open(make_settings(root), embedder=embedder)


@pytest.fixture(scope="module")
def engines(tmp_path_factory, embedder) -> dict[bool, Engine]:
    return {flag: _engine(tmp_path_factory.mktemp(f"cite-{flag}"), embedder, flag) for flag in (True, False)}


@pytest.mark.parametrize(
    "question, figures",
    [
        ("How much will the Tidewater rail line cost?", {"a": "$2.1 billion", "b": "$2.6 billion"}),
        ("Berapa harga tiket kereta wisata Bromo?", {"a": "Rp 150.000", "b": "Rp 175.000"}),
    ],
)
def test_the_newer_article_comes_first_when_figures_differ(engines, question, figures):
    for older_first, engine in engines.items():
        answer = engine.ask(question)
        assert answer.answered and len(answer.passages) == 2, answer
        newer, older = answer.passages
        assert newer.published == "2025-06-10" and older.published == "2024-03-01"
        # the same texts with the dates swapped: the order follows the dates, not the wording
        expected = "b" if older_first else "a"
        assert newer.source.endswith(f"_{expected}.txt")
        assert answer.short is not None and figures[expected] in answer.short
        assert answer.short in newer.highlight


def test_citations_carry_link_site_and_date(engines):
    answer = engines[True].ask("How much will the Tidewater rail line cost?")
    by_source = {c.source: c for c in answer.passages}
    a = by_source["tidewater_a.txt"]
    assert (a.url, a.site, a.published) == ("https://news.example/tidewater-a", "news.example", "2024-03-01")
    row = answer.to_dict()["passages"][0]
    assert {"url", "site", "published"} <= row.keys()


def test_an_article_without_metadata_has_none(engines):
    answer = engines[True].ask("How many passengers booked the first night crossing of Harbour Ferry?")
    assert answer.answered and answer.passages[0].source == "ferry.txt"
    first = answer.passages[0]
    assert (first.url, first.site, first.published) == (None, None, None)
    assert len(answer.passages) == 1  # a one-fact question the articles agree on: one citation
