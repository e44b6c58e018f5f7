"""Following RSS and Atom feeds: conditional requests, new entries added once, backoff, health, metrics."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.ingest.feeds import FeedPoller
from bot.ingest.fetch import Fetcher
from bot.serving.metrics import Metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


def samples(metrics: Metrics, name: str) -> dict:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for s in family.samples
        if s.name == name
    }


def seeds_snapshot(settings) -> dict:
    return {p: p.stat().st_mtime_ns for p in settings.seeds_dir.rglob("*")}


async def test_new_entries_are_added_then_a_quiet_poll_costs_one_conditional_request_per_feed(site, settings, tmp_path):
    site.feed_entries["rss.xml"] = ["en_cto", "id_startup"]
    site.feed_entries["atom.xml"] = ["fr_ia", "id_cto"]
    feeds = [site.url("/feeds/rss.xml"), site.url("/feeds/atom.xml")]
    metrics = Metrics()
    poller = FeedPoller(settings, tmp_path / "data" / "feeds.json", metrics=metrics)
    async with Fetcher(settings) as fetcher:
        first = await poller.poll_once(feeds, fetcher)
    assert [r.outcome for r in first.feeds] == ["new", "new"]
    assert len(first.added) == 4 and all((settings.seeds_dir / name).is_file() for name in first.added)

    again = FeedPoller(settings, tmp_path / "data" / "feeds.json", metrics=metrics)  # state read back from disk
    await again.poll_once(feeds)  # its own fetcher, as `newsbot serve` polls: robots.txt read once
    before, site.requests[:] = seeds_snapshot(settings), []
    quiet = await again.poll_once(feeds)
    assert [r.outcome for r in quiet.feeds] == ["not_modified", "not_modified"] and quiet.added == ()
    assert sorted(path for path, _ in site.requests) == ["/feeds/atom.xml", "/feeds/rss.xml"]  # nothing else
    headers = dict(site.requests)
    assert "If-None-Match" in headers["/feeds/rss.xml"] and "If-Modified-Since" in headers["/feeds/atom.xml"]
    assert seeds_snapshot(settings) == before  # nothing written: the index has nothing to do

    fetched = samples(metrics, "newsbot_feed_fetch_total")
    assert fetched[(("feed", feeds[0]), ("outcome", "new"))] == 1
    assert fetched[(("feed", feeds[1]), ("outcome", "not_modified"))] == 2
    assert samples(metrics, "newsbot_feed_articles_added_total")[(("feed", feeds[0]),)] == 2


async def test_only_entries_not_seen_before_are_fetched(site, settings, tmp_path):
    feed = site.url("/feeds/rss_plain.xml")  # ignores conditional requests: same body every time
    site.feed_entries["rss_plain.xml"] = ["en_chips"]
    poller = FeedPoller(settings, tmp_path / "feeds.json")
    async with Fetcher(settings) as fetcher:
        assert (await poller.poll_once([feed], fetcher)).feeds[0].outcome == "new"
        site.requests[:] = []
        unchanged = await poller.poll_once([feed], fetcher)
        site.feed_entries["rss_plain.xml"] = ["id_regulation", "en_chips"]
        newer = await poller.poll_once([feed], fetcher)
    assert unchanged.feeds[0].outcome == "unchanged" and unchanged.added == ()
    assert newer.feeds[0].outcome == "new" and len(newer.added) == 1
    assert [p for p, _ in site.requests if p.startswith("/news/")] == ["/news/id_regulation?utm_source=rss"]


async def test_a_failing_feed_backs_off_and_never_stops_the_others(site, settings, tmp_path):
    clock = Clock()
    broken, good = site.url("/feeds/broken.xml"), site.url("/feeds/atom.xml")
    site.feed_entries["atom.xml"] = ["en_model"]
    poller = FeedPoller(settings, tmp_path / "feeds.json", clock=clock)
    interval = settings.feed_interval * 60
    async with Fetcher(settings) as fetcher:
        first = await poller.poll_once([broken, good], fetcher)
        assert [r.outcome for r in first.feeds] == ["failed", "new"]
        assert "HTTP 500" in first.feeds[0].error and "\n" not in first.feeds[0].error
        health = poller.health()[broken]
        assert (health["ok"], health["failures"]) == (False, 1) and "HTTP 500" in health["last_error"]
        assert health["next_try"] is not None and poller.health()[good]["ok"] is True

        clock.now += interval / 2  # too soon: skipped without a request
        hits = site.hits("/feeds/broken.xml")
        skipped = await poller.poll_once([broken], fetcher)
        assert skipped.feeds[0].outcome == "backoff" and site.hits("/feeds/broken.xml") == hits

        clock.now += interval / 2  # due again: tried, fails again, waits twice as long
        assert (await poller.poll_once([broken], fetcher)).feeds[0].outcome == "failed"
        assert poller.health()[broken]["failures"] == 2
        clock.now += interval
        assert (await poller.poll_once([broken], fetcher)).feeds[0].outcome == "backoff"
        clock.now += interval
        assert (await poller.poll_once([broken], fetcher)).feeds[0].outcome == "failed"
    assert site.hits("/feeds/broken.xml") == 3


async def test_a_feed_that_recovers_is_healthy_again_and_not_a_feed_is_a_failure(site, settings, tmp_path):
    clock = Clock()
    poller = FeedPoller(settings, tmp_path / "feeds.json", clock=clock)
    async with Fetcher(settings) as fetcher:
        page = await poller.poll_once([site.url("/news/en_cto")], fetcher)  # an article, not a feed
        assert page.feeds[0].outcome == "failed"
        clock.now += 10 * settings.feed_interval * 60
        site.feed_entries["rss.xml"] = []
        ok = await poller.poll_once([site.url("/feeds/rss.xml")], fetcher)
    assert ok.feeds[0].outcome == "unchanged"
    assert poller.health()[site.url("/feeds/rss.xml")] == {
        "ok": True,
        "last_error": None,
        "failures": 0,
        "next_try": None,
        "last_ok": poller.health()[site.url("/feeds/rss.xml")]["last_ok"],
    }


async def test_a_damaged_state_file_starts_afresh(site, settings, tmp_path):
    state = tmp_path / "feeds.json"
    state.write_text("{not json", encoding="utf-8")
    site.feed_entries["rss.xml"] = ["fr_emploi"]
    report = await FeedPoller(settings, state).poll_once([site.url("/feeds/rss.xml")])  # its own fetcher
    assert report.feeds[0].outcome == "new" and len(report.added) == 1
    assert '"feeds"' in state.read_text(encoding="utf-8")
