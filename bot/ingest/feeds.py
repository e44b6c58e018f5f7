"""Following RSS 2.0 and Atom feeds: one conditional request per feed per poll, new entries added as links.

The state file remembers, per feed, its ETag / Last-Modified, the entries already seen, and how
often it failed in a row. A failing feed waits `feed_interval` minutes after its first failure,
then twice, four times as long... (at most a day) before it is tried again; it never stops a poll.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin

import feedparser

from bot.core import messages
from bot.ingest.add import add_links
from bot.ingest.fetch import Fetcher, FetchError
from bot.ingest.naming import normalise

log = logging.getLogger(__name__)

STATE_VERSION = 1
MAX_SEEN = 2_000  # entry ids kept per feed; feeds list far fewer than this
MAX_NEW_PER_POLL = 30  # a feed seen for the first time adds its newest entries, not its whole history
MAX_BACKOFF_SECONDS = 24 * 3600
EARLY_GRACE = 0.1  # of the interval: a poll that comes a little early still retries a feed due then

FeedOutcome = Literal["new", "not_modified", "unchanged", "failed", "backoff"]


@dataclass(frozen=True)
class FeedResult:
    feed: str
    outcome: FeedOutcome
    added: tuple[str, ...] = ()  # seeds-relative file names saved by this poll
    error: str | None = None  # the feed's own failure, one line
    link_errors: tuple[str, ...] = ()  # entries that could not be added, one line each


@dataclass(frozen=True)
class PollReport:
    feeds: tuple[FeedResult, ...]

    @property
    def added(self) -> tuple[str, ...]:
        """Every file saved: when empty, the index has nothing to do."""
        return tuple(name for result in self.feeds for name in result.added)


class FeedPoller:
    def __init__(self, settings, state_path: Path, *, metrics=None, clock: Callable[[], float] = time.time) -> None:
        from bot.serving.metrics import Metrics

        self.settings = settings
        self.state_path = Path(state_path)
        self.metrics = metrics or Metrics()
        self.clock = clock
        self._state = self._load()
        self._robots: dict = {}  # robots.txt per site, kept across polls (a day at most, see fetch.py)

    async def poll_once(self, feeds: list[str] | None = None, fetcher: Fetcher | None = None) -> PollReport:
        """Poll each feed once; never raises for a feed's failure (see each FeedResult)."""
        feeds = list(dict.fromkeys(feeds if feeds is not None else self.settings.feeds))
        if fetcher is None:
            async with Fetcher(self.settings, robots_cache=self._robots) as own:
                return await self.poll_once(feeds, own)
        results = await asyncio.gather(*(self._poll_feed(feed, fetcher) for feed in feeds))
        self._save()
        return PollReport(tuple(results))

    def health(self) -> dict[str, dict]:
        """Per feed, for /readyz: ok, last_error, failures, next_try (ISO time or None), last_ok."""
        names = list(dict.fromkeys([*self.settings.feeds, *self._state["feeds"]]))
        out = {}
        for feed in names:
            entry = self._state["feeds"].get(feed, {})
            out[feed] = {
                "ok": not entry.get("failures"),
                "last_error": entry.get("last_error"),
                "failures": entry.get("failures", 0),
                "next_try": _iso(entry.get("next_try")),
                "last_ok": _iso(entry.get("last_ok")),
            }
        return out

    async def _poll_feed(self, feed: str, fetcher: Fetcher) -> FeedResult:
        entry = self._state["feeds"].setdefault(feed, {})
        now = self.clock()
        interval = self.settings.feed_interval * 60
        if entry.get("next_try") and now + EARLY_GRACE * interval < entry["next_try"]:
            return self._count(FeedResult(feed, "backoff", error=entry.get("last_error")))
        try:
            result = await self._fetch_and_add(feed, entry, fetcher)
        except FetchError as exc:
            result = FeedResult(feed, "failed", error=str(exc))
        except Exception as exc:  # a feed must never take the service down
            log.exception("polling the feed %s failed", feed)
            result = FeedResult(
                feed, "failed", error=messages.ADD_UNEXPECTED.format(url=feed, detail=type(exc).__name__)
            )
        if result.outcome == "failed":
            entry["failures"] = entry.get("failures", 0) + 1
            entry["last_error"] = result.error
            entry["next_try"] = now + min(interval * 2 ** (entry["failures"] - 1), MAX_BACKOFF_SECONDS)
        else:
            entry.update(failures=0, last_error=None, next_try=None, last_ok=now)
        return self._count(result)

    async def _fetch_and_add(self, feed: str, entry: dict, fetcher: Fetcher) -> FeedResult:
        page = await fetcher.get(feed, etag=entry.get("etag"), last_modified=entry.get("last_modified"), accept="feed")
        if page.not_modified:
            return FeedResult(feed, "not_modified")
        parsed = feedparser.parse(page.text)
        if not parsed.entries and (parsed.bozo or not parsed.version):
            detail = str(getattr(parsed, "bozo_exception", "")) or "no entries"
            return FeedResult(feed, "failed", error=messages.FEED_NOT_A_FEED.format(url=feed, detail=detail))
        entry["etag"], entry["last_modified"] = page.etag, page.last_modified
        seen = entry.setdefault("seen", [])
        known = set(seen)
        fresh = []  # (id, link), newest first as feeds list them
        for item in parsed.entries:
            link = _entry_link(item, page.final_url)
            key = item.get("id") or link
            if key and key not in known:
                known.add(key)
                fresh.append((key, link))
        if not fresh:
            return FeedResult(feed, "unchanged")
        links = [link for _, link in fresh[:MAX_NEW_PER_POLL] if link]
        results = await add_links(links, self.settings, fetcher) if links else []
        # every entry is remembered, failed ones too: a dead link must not cost a request on every poll
        entry["seen"] = ([key for key, _ in fresh] + seen)[:MAX_SEEN]
        added = tuple(r.path for r in results if r.outcome == "added" and r.path)
        errors = tuple(r.message for r in results if r.outcome == "failed")
        return FeedResult(feed, "new", added=added, link_errors=errors)

    def _count(self, result: FeedResult) -> FeedResult:
        self.metrics.feed_fetches.labels(result.feed, result.outcome).inc()
        if result.added:
            self.metrics.feed_articles_added.labels(result.feed).inc(len(result.added))
        return result

    def _load(self) -> dict:
        empty = {"version": STATE_VERSION, "feeds": {}}
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return empty
        except (OSError, ValueError) as exc:
            log.warning(messages.FEED_STATE_DAMAGED.format(path=self.state_path, detail=exc))
            return empty
        if not isinstance(data, dict) or not isinstance(data.get("feeds"), dict):
            log.warning(messages.FEED_STATE_DAMAGED.format(path=self.state_path, detail="unexpected layout"))
            return empty
        return data

    def _save(self) -> None:
        """Temporary file then rename, so a crash mid-write keeps the previous state."""
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.state_path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self._state, out, indent=1, ensure_ascii=False)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _entry_link(item, base: str) -> str | None:
    """The entry's article link: its `link`, else an alternate link, as an http(s) URL."""
    candidates = [item.get("link")] + [
        link.get("href") for link in item.get("links", []) if link.get("rel", "alternate") == "alternate"
    ]
    for candidate in candidates:
        if candidate:
            absolute = urljoin(base, candidate.strip())
            try:
                normalise(absolute)
            except ValueError:
                continue
            return absolute
    return None


def _iso(stamp: float | None) -> str | None:
    return dt.datetime.fromtimestamp(stamp, dt.timezone.utc).isoformat(timespec="seconds") if stamp else None
