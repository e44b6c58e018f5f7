"""Fetching against a local site: each way a link can fail is one clear line; politeness holds."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.ingest.fetch import Fetcher, FetchError


async def fetch_error(settings, url: str, **kwargs) -> FetchError:
    async with Fetcher(settings) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(url, **kwargs)
    error = caught.value
    assert "\n" not in str(error) and str(error).startswith(url)  # one line, naming the link
    return error


async def test_a_page_is_fetched_with_our_user_agent_after_robots(site, settings):
    async with Fetcher(settings) as fetcher:
        page = await fetcher.get(site.url("/news/id_cto"))
    assert page.status == 200 and not page.not_modified
    assert "Lumen Labs" in page.text and page.content_type.startswith("text/html")
    assert [path for path, _ in site.requests] == ["/robots.txt", "/news/id_cto"]
    assert all(h["User-Agent"] == settings.http_user_agent for _, h in site.requests)
    assert "newsbot/" in settings.http_user_agent


async def test_redirects_are_followed_and_reported(site, settings):
    async with Fetcher(settings) as fetcher:
        page = await fetcher.get(site.url("/moved"))
    assert page.url == site.url("/moved") and page.final_url == site.url("/news/en_chips")
    assert "Nordchip" in page.text


async def test_robots_txt_is_fetched_once_per_host_and_obeyed(site, settings):
    async with Fetcher(settings) as fetcher:
        await fetcher.get(site.url("/news/en_cto"))
        await fetcher.get(site.url("/news/fr_ia"))
        with pytest.raises(FetchError) as caught:
            await fetcher.get(site.url("/private/page"))
    assert caught.value.kind == "robots" and "robots.txt" in str(caught.value)
    assert site.hits("/robots.txt") == 1
    assert site.hits("/private/") == 0  # never asked for


@pytest.mark.parametrize(
    ("path", "kind", "words"),
    [
        ("/missing", "http", "HTTP 404"),
        ("/broken", "http", "HTTP 500"),
        ("/report.pdf", "not_html", "application/pdf"),
        ("/loop/a", "redirect_loop", "loop"),
        ("/huge", "too_large", "200,000 bytes"),
    ],
)
async def test_each_failure_is_one_line_naming_it(site, settings, path, kind, words):
    error = await fetch_error(settings, site.url(path))
    assert error.kind == kind
    assert words in str(error)


async def test_a_slow_page_times_out(site, settings):
    started = asyncio.get_running_loop().time()
    error = await fetch_error(settings, site.url("/slow"))
    assert error.kind == "timeout" and "0.5 s" in str(error) and "NEWSBOT_FETCH_TIMEOUT_SECONDS" in str(error)
    assert asyncio.get_running_loop().time() - started < 3


async def test_an_unreachable_host_and_a_bad_link(settings, closed_port):
    error = await fetch_error(settings, f"http://127.0.0.1:{closed_port}/news")
    assert error.kind == "unreachable" and "cannot reach 127.0.0.1" in str(error)
    for link in ("ftp://example.com/a", "javascript:alert(1)", "not a link"):
        assert (await fetch_error(settings, link)).kind == "bad_link"


async def test_a_feed_accepts_xml_but_not_a_pdf(site, settings):
    site.feed_entries["rss.xml"] = ["en_cto"]
    async with Fetcher(settings) as fetcher:
        feed = await fetcher.get(site.url("/feeds/rss.xml"), accept="feed")
        assert "<rss" in feed.text and feed.etag
        again = await fetcher.get(site.url("/feeds/rss.xml"), accept="feed", etag=feed.etag)
        with pytest.raises(FetchError) as caught:
            await fetcher.get(site.url("/report.pdf"), accept="feed")
    assert again.status == 304 and again.not_modified and again.text == ""
    assert site.requests[-2][1]["If-None-Match"] == feed.etag
    assert caught.value.kind == "not_feed"


async def test_one_request_per_host_at_a_time_with_a_pause_between(site, settings):
    delay = 0.1
    async with Fetcher(settings.model_copy(update={"fetch_host_delay_seconds": delay})) as fetcher:
        await asyncio.gather(*(fetcher.get(site.url(f"/paced/{n}")) for n in range(4)))
    assert site.max_in_flight == 1
    spans = sorted(site.spans)
    gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(spans)]
    assert len(gaps) == 3 and min(gaps) >= delay * 0.9


async def test_without_a_pause_different_requests_still_never_overlap(site, settings):
    async with Fetcher(settings) as fetcher:
        await asyncio.gather(*(fetcher.get(site.url(f"/paced/{n}")) for n in range(4)))
    assert site.max_in_flight == 1 and len(site.spans) == 4
