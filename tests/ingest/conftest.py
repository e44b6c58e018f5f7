"""A local news site on 127.0.0.1: article pages, feeds, and the ways real sites fail."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import make_settings

SITE = Path(__file__).parent / "site"
ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass
class Site:
    base: str = ""
    requests: list[tuple[str, dict]] = field(default_factory=list)  # (path, headers) in arrival order
    release: asyncio.Event = field(default_factory=asyncio.Event)  # lets the slow page answer
    in_flight: int = 0
    max_in_flight: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)  # (start, end) of /paced requests
    feed_entries: dict[str, list[str]] = field(default_factory=dict)  # feed name -> page names it lists

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, prefix: str) -> int:
        return sum(1 for path, _ in self.requests if path.startswith(prefix))


def rss(site: Site, names: list[str]) -> str:
    items = "".join(
        f"<item><title>{n}</title><link>{site.url('/news/' + n)}?utm_source=rss</link><guid>{n}</guid>"
        f"<pubDate>Thu, 02 Oct 2025 09:00:00 GMT</pubDate></item>"
        for n in names
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Local news</title>'
        f"<link>{site.base}/</link><description>Test feed</description>{items}</channel></rss>"
    )


def atom(site: Site, names: list[str]) -> str:
    entries = "".join(
        f'<entry><title>{n}</title><id>urn:local:{n}</id><link rel="alternate" href="/news/{n}"/>'
        f"<updated>2025-10-02T09:00:00Z</updated></entry>"
        for n in names
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Local atom</title>'
        f'<id>urn:local:atom</id><updated>2025-10-02T09:00:00Z</updated><link href="{site.base}/"/>{entries}</feed>'
    )


def make_app(site: Site) -> web.Application:
    routes = web.RouteTableDef()

    @web.middleware
    async def record(request, handler):
        site.requests.append((request.path_qs, dict(request.headers)))
        return await handler(request)

    @routes.get("/robots.txt")
    async def robots(request):
        return web.Response(text=ROBOTS, content_type="text/plain")

    @routes.get("/news/{name}")
    async def news(request):
        path = SITE / (request.match_info["name"] + ".html")
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(text=path.read_text(encoding="utf-8"), content_type="text/html", charset="utf-8")

    @routes.get("/private/{name}")
    async def private(request):
        return web.Response(text=(SITE / "en_cto.html").read_text(encoding="utf-8"), content_type="text/html")

    @routes.get("/broken")
    async def broken(request):
        raise web.HTTPInternalServerError()

    @routes.get("/slow")
    async def slow(request):
        await site.release.wait()
        return web.Response(text="<html><body>late</body></html>", content_type="text/html")

    @routes.get("/huge")
    async def huge(request):
        """Streamed without a Content-Length: the limit must hold while reading."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"<p>" + b"filler text " * 400 + b"</p>")
        await response.write_eof()
        return response

    @routes.get("/loop/{step}")
    async def loop(request):
        target = "/loop/b" if request.match_info["step"] == "a" else "/loop/a"
        raise web.HTTPFound(target)

    @routes.get("/moved")
    async def moved(request):
        raise web.HTTPMovedPermanently("/news/en_chips")

    @routes.get("/report.pdf")
    async def pdf(request):
        return web.Response(body=b"%PDF-1.4 not a page", content_type="application/pdf")

    @routes.get("/paced/{n}")
    async def paced(request):
        site.in_flight += 1
        site.max_in_flight = max(site.max_in_flight, site.in_flight)
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(0.02)  # long enough for an overlapping request to show
        site.in_flight -= 1
        site.spans.append((start, asyncio.get_running_loop().time()))
        return web.Response(text="<html><body><p>ok</p></body></html>", content_type="text/html")

    @routes.get("/feeds/{name}")
    async def feeds(request):
        name = request.match_info["name"]
        if name == "broken.xml":
            raise web.HTTPInternalServerError()
        names = site.feed_entries.get(name, [])
        body = rss(site, names) if name.startswith("rss") else atom(site, names)
        tag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        modified = f"Thu, 02 Oct 2025 {len(names):02d}:00:00 GMT"
        if name.startswith("rss") and request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        if name.startswith("atom") and request.headers.get("If-Modified-Since") == modified:
            return web.Response(status=304)
        headers = {"ETag": tag} if name.startswith("rss") else {"Last-Modified": modified}
        if name.endswith("plain.xml"):
            headers = {}  # a server that ignores conditional requests
        return web.Response(text=body, content_type="application/rss+xml", headers=headers)

    app = web.Application(middlewares=[record])
    app.add_routes(routes)
    return app


@pytest.fixture
async def site():
    state = Site()
    runner = web.AppRunner(make_app(state), handle_signals=False)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "seeds").mkdir()
    return make_settings(
        tmp_path,
        fetch_timeout_seconds=0.5,
        fetch_max_bytes=200_000,
        fetch_host_delay_seconds=0,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
