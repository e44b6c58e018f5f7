"""Polite HTTP fetching: a timeout, a size limit, our user agent, robots.txt, one request per host at a time.

Redirects are followed here rather than by httpx so that every hop is checked against robots.txt,
waits its turn for its host, and a loop is named as a loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from bot.core import messages
from bot.core.errors import NewsbotError
from bot.ingest.naming import normalise

MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512_000  # what RFC 9309 asks a crawler to read at least
ROBOTS_TTL_SECONDS = 24 * 3600  # RFC 9309: a cached robots.txt may be used for up to a day
HTML_TYPES = ("text/html", "application/xhtml+xml")
NOT_FEED_TYPES = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
_REDIRECTS = (301, 302, 303, 307, 308)
_CHARSET = re.compile(rb"""(?:<meta[^>]{0,200}?charset=["']?|<\?xml[^>]{0,99}?encoding=["'])([\w.:-]+)""", re.I)

Accept = Literal["html", "feed", "any"]


@dataclass(frozen=True)
class Fetched:
    url: str  # the link asked for
    final_url: str  # where the redirects ended
    status: int  # 200, or 304 when the conditional request found nothing new (then text is "")
    text: str
    content_type: str
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(NewsbotError):
    """One line naming the link and what went wrong; `kind` is a short code for metrics and tests."""

    def __init__(self, message: str, *, url: str, kind: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.kind = kind
        self.status = status


@dataclass
class _Host:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last: float = float("-inf")  # loop time the last request to this host ended


@dataclass
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes = b""


class Fetcher:
    """Usable as `async with Fetcher(settings) as fetcher:`.

    `robots_cache` (a dict) lets robots.txt outlive one fetcher, so a feed poller that opens a fetcher
    per poll does not ask every site for it again each time; `transport` lets tests mount a local app.
    """

    def __init__(
        self, settings, *, max_redirects: int = MAX_REDIRECTS, robots_cache: dict | None = None, transport=None
    ) -> None:
        self.timeout = settings.fetch_timeout_seconds
        self.max_bytes = settings.fetch_max_bytes
        self.delay = settings.fetch_host_delay_seconds
        self.max_redirects = max_redirects
        self.user_agent = settings.http_user_agent
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": self.user_agent},
            follow_redirects=False,
            transport=transport,
        )
        self._hosts: dict[str, _Host] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | FetchError | None]] = (
            robots_cache if robots_cache is not None else {}
        )
        self._robots_locks: dict[str, asyncio.Lock] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None, accept: Accept = "html"
    ) -> Fetched:
        headers = {"Accept": _ACCEPT[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        final, reply = await self._follow(url, headers, accept, self.max_bytes, robots=True)
        content_type = reply.headers.get("content-type", "")
        text = "" if reply.status == 304 else _decode(reply.body, content_type)
        return Fetched(
            url, final, reply.status, text, content_type, reply.headers.get("etag"), reply.headers.get("last-modified")
        )

    async def _follow(self, url: str, headers: dict, accept: Accept, limit: int, *, robots: bool) -> tuple[str, _Reply]:
        current, seen = url, set()
        for _ in range(self.max_redirects + 1):
            try:
                key = normalise(current)
            except ValueError:
                raise FetchError(messages.FETCH_BAD_LINK.format(url=url), url=url, kind="bad_link") from None
            if key in seen:
                raise FetchError(
                    messages.FETCH_REDIRECT_LOOP.format(url=url, target=current), url=url, kind="redirect_loop"
                )
            seen.add(key)
            if robots and not await self._allowed(current, url):
                raise FetchError(messages.FETCH_ROBOTS.format(url=url), url=url, kind="robots")
            reply = await self._exchange(current, headers, accept, limit, report=url)
            location = reply.headers.get("location")
            if reply.status in _REDIRECTS and location:
                current = urljoin(current, location)
                continue
            return current, reply
        raise FetchError(
            messages.FETCH_TOO_MANY_REDIRECTS.format(url=url, limit=self.max_redirects),
            url=url,
            kind="too_many_redirects",
        )

    async def _exchange(self, url: str, headers: dict, accept: Accept, limit: int, *, report: str) -> _Reply:
        """One request, in its host's turn, within the timeout as a whole (a slow trickle counts too)."""
        host = urlsplit(url).netloc.lower()
        async with self._turn(host):
            try:
                return await asyncio.wait_for(self._send(url, headers, accept, limit, report), self.timeout)
            except (asyncio.TimeoutError, httpx.TimeoutException):
                raise FetchError(
                    messages.FETCH_TIMEOUT.format(url=report, seconds=self.timeout), url=report, kind="timeout"
                ) from None
            except httpx.TransportError as exc:
                detail = str(exc) or type(exc).__name__
                raise FetchError(
                    messages.FETCH_UNREACHABLE.format(url=report, host=urlsplit(url).hostname, detail=detail),
                    url=report,
                    kind="unreachable",
                ) from None

    async def _send(self, url: str, headers: dict, accept: Accept, limit: int, report: str) -> _Reply:
        async with self._client.stream("GET", url, headers=headers) as response:
            reply = _Reply(response.status_code, response.headers)
            if response.status_code in _REDIRECTS or response.status_code == 304:
                return reply
            if response.status_code >= 400:
                raise FetchError(
                    messages.FETCH_HTTP_ERROR.format(
                        url=report, status=response.status_code, phrase=response.reason_phrase
                    ),
                    url=report,
                    kind="http",
                    status=response.status_code,
                )
            _check_type(response.headers.get("content-type", ""), accept, report)
            message = messages.FETCH_TOO_LARGE.format(url=report, limit=limit)
            too_large = FetchError(message, url=report, kind="too_large")
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise too_large
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise too_large
                chunks.append(chunk)
            reply.body = b"".join(chunks)
            return reply

    @asynccontextmanager
    async def _turn(self, host: str) -> AsyncIterator[None]:
        """One request per host at a time, and `fetch_host_delay_seconds` between the end of one and the next."""
        state = self._hosts.setdefault(host, _Host())
        loop = asyncio.get_running_loop()
        async with state.lock:
            wait = state.last + self.delay - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                state.last = loop.time()

    async def _allowed(self, url: str, report: str) -> bool:
        """robots.txt, fetched once per site and kept for this fetcher's life."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        async with self._robots_locks.setdefault(origin, asyncio.Lock()):
            cached = self._robots.get(origin)
            if cached is None or time.time() - cached[0] > ROBOTS_TTL_SECONDS:
                self._robots[origin] = (time.time(), await self._load_robots(origin, report))
        rules = self._robots[origin][1]
        if isinstance(rules, FetchError):
            raise rules
        return rules is None or rules.can_fetch(self.user_agent, url)

    async def _load_robots(self, origin: str, report: str) -> RobotFileParser | FetchError | None:
        """None (anything allowed) when the site has none; RFC 9309: 4xx means no rules, 5xx means keep off."""
        try:
            robots = origin + "/robots.txt"
            _, reply = await self._follow(robots, {"Accept": "text/plain"}, "any", ROBOTS_MAX_BYTES, robots=False)
        except FetchError as exc:
            if exc.kind == "http" and exc.status is not None and exc.status < 500:
                return None
            if exc.kind == "http":
                return FetchError(
                    messages.FETCH_ROBOTS_UNAVAILABLE.format(url=report, status=exc.status),
                    url=report,
                    kind="robots",
                )
            return FetchError(str(exc).replace(exc.url, report, 1), url=report, kind=exc.kind)
        rules = RobotFileParser()
        rules.parse(reply.body.decode("utf-8", "replace").splitlines())
        return rules


_ACCEPT = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1",
    "any": "*/*",
}


def _check_type(content_type: str, accept: Accept, url: str) -> None:
    kind = content_type.split(";")[0].strip().lower()
    if not kind or accept == "any":
        return
    if accept == "html" and kind not in HTML_TYPES:
        raise FetchError(messages.FETCH_NOT_HTML.format(url=url, content_type=kind), url=url, kind="not_html")
    if accept == "feed" and kind.startswith(NOT_FEED_TYPES):
        raise FetchError(messages.FETCH_NOT_FEED.format(url=url, content_type=kind), url=url, kind="not_feed")


def _decode(body: bytes, content_type: str) -> str:
    """The charset the server names, else the one the document declares, else UTF-8."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.I)
    name = match.group(1) if match else None
    if not name:
        declared = _CHARSET.search(body[:4096])
        name = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        return body.decode(name, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")
