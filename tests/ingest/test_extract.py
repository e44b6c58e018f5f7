"""Article extraction on pages shaped like real news sites (tests/ingest/site), in three languages."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from bot.ingest.extract import NotAnArticle, extract_page

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__file__).parent / "site"


def bench():
    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_at_least_nine_pages_in_ten_are_fully_right():
    result = bench().run()
    assert result["pages"] >= 10
    assert result["fully_right"] * 10 >= result["pages"] * 9, [r for r in result["rows"] if not r["ok"]]


@pytest.mark.parametrize("name", ["id_cto.html", "en_model.html", "fr_satellite.html"])
def test_body_lines_and_metadata(name):
    expected = json.loads((SITE / "expectations.json").read_text(encoding="utf-8"))[name]
    page = extract_page((SITE / name).read_text(encoding="utf-8"), expected["given_url"])
    lines = page.text.splitlines()
    assert lines[0] == expected["body"][0]  # the headline is not repeated as the first paragraph
    assert expected["body"][-1] in lines  # paragraphs stay lines
    assert (page.title, page.published, page.lang, page.site) == (
        expected["title"],
        expected["published"],
        expected["lang"],
        expected["site"],
    )
    assert "utm_source" not in page.url


def test_without_a_canonical_link_the_given_one_is_kept_and_the_host_names_the_site():
    html = (SITE / "en_funding.html").read_text(encoding="utf-8").replace('og:site_name" content="Venture Notes"', "x")
    page = extract_page(html, "https://www.venturenotes.example/q?id=4")
    assert page.url == "https://www.venturenotes.example/q?id=4"
    assert page.site == "venturenotes.example"


def test_the_json_ld_date_is_used_when_the_page_shows_none():
    paragraphs = "".join(
        f"<p>Paragraf {i}: Badan Pusat Statistik mencatat ekspor perangkat elektronik naik pada kuartal ketiga.</p>"
        for i in range(6)
    )
    html = (
        '<html lang="id"><head><title>Ekspor naik</title><script type="application/ld+json">'
        '{"@graph": [{"@type": "NewsArticle", "datePublished": "2024-11-05T10:00:00+07:00"}]}</script></head>'
        f"<body><article><h1>Ekspor naik</h1>{paragraphs}</article></body></html>"
    )
    assert extract_page(html, "https://kabar.example/ekspor").published == "2024-11-05"


@pytest.mark.parametrize("name", ["home.html", "login.html"])
def test_pages_without_an_article_are_refused_with_a_reason(name):
    with pytest.raises(NotAnArticle) as caught:
        extract_page((SITE / name).read_text(encoding="utf-8"), "https://kabar.example/")
    assert caught.value.reason and "\n" not in caught.value.reason


def test_an_empty_page_is_not_an_article():
    with pytest.raises(NotAnArticle):
        extract_page("<html><body></body></html>")


@pytest.mark.parametrize(
    ("head", "lang"),
    [
        ('<html lang="pt_BR"><head>', "pt"),
        ('<html lang="x"><head><meta property="og:locale" content="es_ES">', "es"),  # a bad tag is passed over
        ('<html><head><meta http-equiv="Content-Language" content="id-ID">', "id"),
        ("<html><head>", None),
    ],
)
def test_the_page_language_is_the_first_usable_tag(head, lang):
    paragraphs = "".join(
        f"<p>Paragraf {i}: ekspor perangkat elektronik naik pada kuartal ketiga tahun ini.</p>" for i in range(6)
    )
    html = f"{head}<title>Ekspor naik</title></head><body><article><h1>Ekspor naik</h1>{paragraphs}</article></body></html>"
    assert extract_page(html, "https://kabar.example/ekspor").lang == lang
