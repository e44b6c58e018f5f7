"""`newsbot add`, `feeds`, `latest` and `feedback` as a person runs them, against a news site on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bot.retrieval.evaluate import read_questions
from tests.test_cli import run

PAGE = """<!doctype html><html lang="{lang}"><head><title>{title} | Harbor Tech</title>
<meta property="og:title" content="{title}"><meta property="og:site_name" content="Harbor Tech">
<meta property="article:published_time" content="{date}T08:00:00Z"><link rel="canonical" href="{base}{path}">
</head><body><nav><a href="/">Home</a> <a href="/ai">AI</a> <a href="/login">Sign in</a></nav>
<div class="cookie">We use cookies. <button>Accept all</button></div>
<article><h1>{title}</h1>{paragraphs}</article>
<aside><h3>Related</h3><ul><li><a href="/x">Another story entirely</a></li></ul></aside>
<footer>© 2026 Harbor Tech</footer></body></html>"""

ARTICLES = {
    "/2026/11/kopi-robots": dict(
        lang="en",
        title="Kopi Luwak Robotics raises $12 million",
        date="2026-11-20",
        text=[
            "Kopi Luwak Robotics, a startup from Bandung, raised 12 million dollars to build coffee-harvesting robots.",
            "The round was led by Garuda Ventures and closed in October, the company said on Thursday.",
            "It plans to hire forty engineers next year and to open a workshop in Surabaya.",
            "Its first robot picks ripe cherries at night, when the beans are coolest, and sorts them by colour.",
        ],
    ),
    "/2026/10/armada-drone": dict(
        lang="id",
        title="Armada Drone Nusantara buka pabrik di Batam",
        date="2026-10-03",
        text=[
            "Armada Drone Nusantara membuka pabrik drone pertanian di Batam dengan 300 pekerja.",
            "Pabrik itu akan memproduksi 5.000 drone per tahun untuk petani sawit, kata direktur utama Sari Wulandari.",
            "Perusahaan berencana mengekspor drone ke Malaysia mulai tahun depan.",
            "Setiap drone dapat menyemprot pupuk di lahan seluas sepuluh hektare dalam satu jam penerbangan.",
        ],
    ),
}


class Site(BaseHTTPRequestHandler):
    base = ""
    log: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self):
        Site.log.append((self.path, self.headers.get("If-Modified-Since")))
        if self.path in ARTICLES:
            a = ARTICLES[self.path]
            paragraphs = "".join(f"<p>{p}</p>" for p in a["text"])
            body = PAGE.format(base=self.base, path=self.path, paragraphs=paragraphs, **a).encode()
            return self._send(200, "text/html; charset=utf-8", body)
        if self.path == "/feed.xml":
            stamp = formatdate(1_790_000_000, usegmt=True)
            if self.headers.get("If-Modified-Since") == stamp:
                return self._send(304, "application/rss+xml", b"", {"Last-Modified": stamp})
            items = "".join(
                f"<item><title>{a['title']}</title><link>{self.base}{path}</link><guid>{path}</guid></item>"
                for path, a in ARTICLES.items()
            )
            feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor</title>{items}</channel></rss>'
            return self._send(200, "application/rss+xml", feed.encode(), {"Last-Modified": stamp})
        if self.path == "/report.pdf":
            return self._send(200, "application/pdf", b"%PDF-1.4 not a page")
        return self._send(404, "text/html", b"<h1>Not found</h1>")

    def _send(self, status, content_type, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    Site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site.base
    server.shutdown()


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "old.txt").write_text(
        "Volcano Robotics Opens A Lab In Oslo\n\nVolcano Robotics opened a research lab in Oslo with 40 engineers. "
        "The lab will build walking robots for warehouses.\n",
        encoding="utf-8",
    )
    return tmp_path


ENV = {"NEWSBOT_FETCH_HOST_DELAY_SECONDS": "0", "NEWSBOT_FETCH_TIMEOUT_SECONDS": "5"}


def test_add_saves_good_links_names_each_bad_one_and_cites_title_link_and_date(workdir, site):
    Site.log.clear()
    good = site + "/2026/11/kopi-robots"
    out = run(workdir, "add", good, site + "/missing", site + "/report.pdf", "ftp://example.com/x", **ENV)
    assert out.returncode == 1, out.stderr  # some links failed; the good one still went in
    lines = out.stdout.splitlines()
    assert sum(1 for line in lines if "/missing" in line) == 1 and "404" in out.stdout
    assert sum(1 for line in lines if "report.pdf" in line) == 1
    assert sum(1 for line in lines if "ftp://example.com/x" in line) == 1
    saved = sorted(p.relative_to(workdir / "seeds").as_posix() for p in (workdir / "seeds").rglob("*.md"))
    assert len(saved) == 1 and saved[0].startswith("web/127.0.0.1") and "kopi-robots" in saved[0]
    assert "Added: 2" in out.stdout  # the index was built in the same command: old.txt and the new one

    asked = run(workdir, "ask", "--json", "Who led the funding round of Kopi Luwak Robotics?", **ENV)
    first = json.loads(asked.stdout)["passages"][0]
    assert (first["source"], first["url"], first["published"][:10]) == (saved[0], good, "2026-11-20")
    assert first["site"] and "Harbor" in first["site"]
    assert "We use cookies" not in first["text"] and "Another story" not in first["text"]

    text = run(workdir, "ask", "Who led the funding round of Kopi Luwak Robotics?", **ENV).stdout
    assert good in text and "20 Nov 2026" in text and saved[0] not in text  # a link, not the file name

    # the same link again: nothing fetched twice into a second file, nothing re-embedded
    again = run(workdir, "add", good + "?utm_source=newsletter", **ENV)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(list((workdir / "seeds").rglob("*.md"))) == 1
    assert "Added:" not in again.stdout


def test_feeds_once_adds_new_entries_then_costs_one_conditional_request(workdir, site):
    Site.log.clear()
    env = {**ENV, "NEWSBOT_FEEDS": site + "/feed.xml", "NEWSBOT_DATA_DIR": str(workdir / "data")}
    first = run(workdir, "feeds", "--once", **env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 article(s) added" in first.stdout and "Added: 3" in first.stdout  # the two and old.txt: no index yet
    Site.log.clear()
    second = run(workdir, "feeds", "--once", **env)
    assert second.returncode == 0 and "not_modified" in second.stdout
    # one conditional request for the feed (a new process asks for robots.txt again), no page fetched
    assert [(path, bool(since)) for path, since in Site.log if path != "/robots.txt"] == [("/feed.xml", True)]
    assert "Added:" not in second.stdout  # no index update, no embedding

    latest = run(workdir, "latest", **env).stdout
    newest, older = latest.index("Kopi Luwak Robotics"), latest.index("Armada Drone Nusantara")
    assert newest < older < latest.index("old.txt")  # newest first; the undated file last
    assert site + "/2026/10/armada-drone" in latest and "3 Oct 2026" in latest
    rows = [json.loads(line) for line in run(workdir, "latest", "--json", "-n", "2", **env).stdout.splitlines()]
    assert [r["published"][:10] for r in rows] == ["2026-11-20", "2026-10-03"]


def test_feeds_without_any_feed_names_the_setting(workdir):
    out = run(workdir, "feeds", "--once")
    assert out.returncode == 2 and "NEWSBOT_FEEDS" in out.stderr


def test_feedback_totals_and_export_for_eval(workdir):
    from bot.state.sql import open_store

    env = {"NEWSBOT_DATA_DIR": str(workdir / "data")}
    empty = run(workdir, "feedback", **env)
    assert empty.returncode == 0, empty.stderr
    store = open_store(f"sqlite:///{workdir / 'data' / 'newsbot.sqlite3'}")
    store.record_answer("a1", "slack", "Siapa CEO Armada Drone?", ("web/x.md",))
    store.record_answer("a2", "discord", "Where is the Volcano lab?", ("old.txt",))
    assert store.vote("a1", "u1", "down") and store.vote("a1", "u2", "down") and store.vote("a2", "u1", "up")
    store.close()
    out = run(workdir, "feedback", **env)
    assert "Siapa CEO Armada Drone?" in out.stdout
    exported = workdir / "feedback.jsonl"
    done = run(workdir, "feedback", "--export", str(exported), **env)
    assert done.returncode == 0 and "2" in done.stdout
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert {r["q"]: r["sources"] for r in rows} == {
        "Siapa CEO Armada Drone?": ["web/x.md"],
        "Where is the Volcano lab?": ["old.txt"],
    }
    # once a person fills in what the answers must contain, `newsbot eval` reads the file as it is
    for r in rows:
        r["expect"] = ["x"]
    exported.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert {q.q for q in read_questions(exported)} == {r["q"] for r in rows}
