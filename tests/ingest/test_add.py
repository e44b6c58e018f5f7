"""Adding links: saved with front matter under a stable name, once; each failure one line, nothing saved."""

from __future__ import annotations

from bot.ingest import header
from bot.ingest.add import add_links
from bot.ingest.fetch import Fetcher
from bot.ingest.naming import name_for


def saved_files(settings) -> list:
    return sorted(p for p in settings.seeds_dir.rglob("*") if p.is_file())


async def test_a_link_is_saved_with_its_metadata_and_not_twice(site, settings):
    link = site.url("/news/id_datacenter?utm_source=wa")
    async with Fetcher(settings) as fetcher:
        first = await add_links([link], settings, fetcher)
        again = await add_links([link], settings, fetcher)
    (added,) = first
    assert added.outcome == "added" and added.path in added.message
    canonical = "https://ekonomi.harianrakyat.example/bisnis/pusat-data-batam-rp-15-triliun"
    assert added.path == name_for(canonical)
    meta, body = header.read((settings.seeds_dir / added.path).read_text(encoding="utf-8"))
    assert meta == {
        "title": "Investor Singapura Bangun Pusat Data Rp 15 Triliun di Batam",
        "url": canonical,
        "site": "Harian Rakyat",
        "published": "2025-07-22",
        "lang": "id",
    }
    assert body.startswith("Perusahaan asal Singapura, Meridian Data") and "Terima semua" not in body
    assert again[0].outcome == "exists" and again[0].path == added.path
    assert len(saved_files(settings)) == 1


async def test_two_links_to_one_canonical_page_are_saved_once(site, settings):
    async with Fetcher(settings) as fetcher:
        results = await add_links(
            [site.url("/news/en_chips"), site.url("/moved"), site.url("/news/en_chips?ref=home")], settings, fetcher
        )
    assert sorted(r.outcome for r in results) == ["added", "exists", "exists"]
    assert len({r.path for r in results}) == 1 and len(saved_files(settings)) == 1


async def test_failures_are_one_line_each_and_the_rest_still_saved(site, settings, closed_port):
    links = [
        site.url("/missing"),
        site.url("/news/fr_emploi"),
        site.url("/news/home"),
        site.url("/huge"),
        site.url("/report.pdf"),
        site.url("/slow"),
        f"http://127.0.0.1:{closed_port}/a",
        "ftp://example.com/file",
        site.url("/private/x"),
    ]
    async with Fetcher(settings) as fetcher:
        results = await add_links(links, settings, fetcher)
    assert [r.url for r in results] == links
    assert [r.outcome for r in results].count("added") == 1 and results[1].outcome == "added"
    failed = [r for r in results if r.outcome == "failed"]
    assert len(failed) == 8
    for r in failed:
        assert r.path is None and "\n" not in r.message and r.message.startswith(r.url)
    assert "not an article" in results[2].message
    assert len(saved_files(settings)) == 1  # nothing half-written, no temporary files left
