"""`newsbot serve` as a subprocess, against the local Slack and Discord stand-ins."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import sys
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from bot.core import messages
from tests.platforms.discord_standin import DiscordStandin
from tests.platforms.slack_standin import SlackStandIn
from tests.platforms.test_slack import (
    APP_TOKEN,
    BOT_TOKEN,
    SECRET,
    command_payload,
    event_payload,
    mention,
    signature_headers,
)

DISCORD_TOKEN = "MTMwMDAwMDAwMDAwMDAwMDAw.GsTand.in-token-for-the-local-discord-0123"
NEW_ARTICLE = (
    "Kopi Luwak Robotics Raises Funding\n\n"
    "Kopi Luwak Robotics, a startup from Bandung, raised 12 million dollars to build coffee-harvesting robots. "
    "The round was led by Garuda Ventures and closed in October. "
    "The company plans to hire forty engineers next year.\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bot:
    """The service process and what it printed."""

    def __init__(self, proc, port: int, log_path):
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.log.splitlines() if line.startswith("{")]

    async def get(self, session, path):
        async with session.get(self.url + path) as r:
            return r.status, await r.text()

    async def wait_log(self, pattern: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log):
                return
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"{pattern!r} not logged; log:\n{self.log[-3000:]}")


@pytest.fixture
def workdir(tmp_path, seeds_engine):
    """The seeds and an index already built for them (copied from the session engine)."""
    shutil.copytree(seeds_engine.config.seeds_dir, tmp_path / "seeds")
    shutil.copytree(seeds_engine.config.index_dir, tmp_path / "index", symlinks=True)
    return tmp_path


@pytest.fixture
async def slack():
    standin = await SlackStandIn().start()
    yield standin
    await standin.close()


@pytest.fixture
async def discord_standin():
    standin = DiscordStandin(token=DISCORD_TOKEN)
    await standin.start()
    yield standin
    await standin.stop()


async def start_bot(workdir, *, slack=None, discord=None, **env) -> Bot:
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "SLACK_", "DISCORD_"))}
    environ.update(
        NEWSBOT_SEEDS_DIR=str(workdir / "seeds"),
        NEWSBOT_INDEX_DIR=str(workdir / "index"),
        NEWSBOT_HTTP_HOST="127.0.0.1",
        NEWSBOT_HTTP_PORT=str(port),
        NEWSBOT_LOG_FORMAT="json",
        NEWSBOT_RATE_LIMIT_PER_MINUTE="0",
        NEWSBOT_SHUTDOWN_GRACE_SECONDS="10",
        # slash answers go to each command's own response_url, where a test tells them apart (otherwise an
        # answer is a message of the bot's own that opens a thread: tests/platforms/test_conversation_slack.py)
        NEWSBOT_SLACK_EPHEMERAL="true",
        NEWSBOT_DATA_DIR=str(workdir / "data"),
    )
    if slack is not None:
        environ.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, NEWSBOT_SLACK_API_URL=slack.base_url)
    if discord is not None:
        environ.update(
            DISCORD_TOKEN=DISCORD_TOKEN,
            NEWSBOT_DISCORD_API_URL=discord.api_url,
            NEWSBOT_DISCORD_GATEWAY_URL=discord.gateway_url,
        )
    environ.update(env)
    log_path = workdir / "bot.log"
    log_file = open(log_path, "w")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        cwd=workdir,
        env=environ,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log_file,
        stderr=log_file,
    )
    log_file.close()
    return Bot(proc, port, log_path)


async def wait_ready(bot: Bot, session, timeout: float = 40) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if bot.proc.returncode is not None:
            raise AssertionError(f"serve exited {bot.proc.returncode}:\n{bot.log[-3000:]}")
        try:
            status, body = await bot.get(session, "/readyz")
            last = body
            if status == 200:
                return json.loads(body)
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"not ready in {timeout}s: {last}\n{bot.log[-3000:]}")


async def stop(bot: Bot, timeout: float = 30) -> int:
    if bot.proc.returncode is None:
        bot.proc.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(bot.proc.wait(), timeout)


async def slash(session, bot: Bot, text: str, response_url: str) -> int:
    body = urlencode(command_payload(text, response_url))
    headers = {**signature_headers(body), "Content-Type": "application/x-www-form-urlencoded"}
    async with session.post(bot.url + "/slack/events", data=body, headers=headers) as r:
        return r.status


def metric(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        named = name + "{" in line or line.startswith(name + " ")
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_serve_both_platforms_health_metrics_and_logs(workdir, slack, discord_standin):
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, discord=discord_standin)
        try:
            ready = await wait_ready(bot, session)
            assert ready == {"index": True, "discord": True, "slack": True, "accepting": True}
            status, body = await bot.get(session, "/healthz")
            assert status == 200 and json.loads(body) == {"status": "ok"}

            _, before = await bot.get(session, "/metrics")
            manifest = json.loads((workdir / "index" / "current" / "manifest.json").read_text())
            assert metric(before, "newsbot_index_passages") == manifest["passages"]
            assert metric(before, "newsbot_index_last_update_timestamp_seconds") > 1.7e9
            assert metric(before, "newsbot_questions_total", platform="slack", outcome="answered") is None

            # one Slack question, one Discord question, one declined
            assert await slash(session, bot, "Who is Anthropic's new CTO?", slack.response_url("a")) == 200
            await discord_standin.dispatch("MESSAGE_CREATE", discord_standin.mention("What does Scale AI do?"))
            assert await slash(session, bot, "How do I bake sourdough bread?", slack.response_url("b")) == 200
            await slack.wait_calls("response", 2)
            await discord_standin.wait_request("POST", r"/channels/\d+/messages")

            _, after = await bot.get(session, "/metrics")
            assert metric(after, "newsbot_questions_total", platform="slack", outcome="answered") == 1
            assert metric(after, "newsbot_questions_total", platform="slack", outcome="declined") == 1
            assert metric(after, "newsbot_questions_total", platform="discord", outcome="answered") == 1
            assert metric(after, "newsbot_answer_latency_seconds_count", platform="slack") == 2

            questions = [r for r in bot.log_records() if r["message"] == "question"]
            assert sorted((q["platform"], q["outcome"]) for q in questions) == [
                ("discord", "answered"),
                ("slack", "answered"),
                ("slack", "declined"),
            ]
            for q in questions:
                assert re.fullmatch(r"[0-9a-f]{12}", q["user"]) and q["latency_ms"] >= 0
            assert "003_f25e02178ca9b32d.txt" in next(q for q in questions if q["platform"] == "discord")["sources"]
            assert "UASKER1" not in bot.log and discord_standin.person["id"] not in bot.log
        finally:
            code = await stop(bot)
        assert code == 0, bot.log[-3000:]
        assert BOT_TOKEN not in bot.log and SECRET not in bot.log and DISCORD_TOKEN not in bot.log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_lets_the_question_in_flight_finish(workdir, slack, sig):
    """The answer is being delivered when the signal arrives: it is delivered, then exit 0."""
    arrived = asyncio.Event()
    release = asyncio.Event()
    delivered = []

    async def slow_response_url(request):
        delivered.append(await request.json())
        arrived.set()
        await release.wait()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hold", slow_response_url)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack)
        try:
            await wait_ready(bot, session)
            await slash(session, bot, "What does Scale AI do?", f"http://127.0.0.1:{port}/hold")
            await asyncio.wait_for(arrived.wait(), 15)
            bot.proc.send_signal(sig)
            await bot.wait_log(r"stopping: waiting up to 10s for 1 question")
            status, body = await bot.get(session, "/readyz")
            assert status == 503 and json.loads(body)["accepting"] is False
            # a later question, answered "restarting" while the first delivery is held, shows
            # the service is still draining (not merely slow to exit)
            assert await slash(session, bot, "Who is Anthropic's new CTO?", slack.response_url("late")) == 200
            (late,) = await slack.wait_calls("response", 1, timeout=15)
            assert late.body["text"] == messages.SHUTTING_DOWN
            assert bot.proc.returncode is None and len(delivered) == 1
            release.set()
            code = await asyncio.wait_for(bot.proc.wait(), 20)
        finally:
            release.set()
            await stop(bot)
            await runner.cleanup()
    assert code == 0, bot.log[-2000:]
    assert "Scale AI" in json.dumps(delivered[0]) and "[1]" in json.dumps(delivered[0])
    assert len(delivered) == 1 and len(slack.calls_to("response")) == 1  # the process is gone: final counts
    assert "stopped" in [r["message"] for r in bot.log_records()]


async def ask_until(session, bot, slack, question: str, source: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        name = f"poll{n}-{time.monotonic_ns()}"
        await slash(session, bot, question, slack.response_url(name))
        call = await slack.wait_for(lambda name=name: next((c for c in slack.calls if c.path.endswith(name)), None), 15)
        if source in json.dumps(call.body):
            return call.body
        await asyncio.sleep(0.5)
    raise AssertionError(f"{source} never cited; log:\n{bot.log[-3000:]}")


async def test_a_new_article_is_answerable_without_restart_by_watching(workdir, slack):
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, NEWSBOT_WATCH_SEEDS="true")
        try:
            await wait_ready(bot, session)
            (workdir / "seeds" / "900_new.txt").write_text(NEW_ARTICLE, encoding="utf-8")
            body = await ask_until(
                session, bot, slack, "Who led the funding round of Kopi Luwak Robotics?", "900_new.txt"
            )
            assert "Kopi Luwak Robotics" in json.dumps(body)
            await bot.wait_log("index updated: 1 added")
        finally:
            assert await stop(bot) == 0


async def test_sighup_reindexes_while_questions_are_answered(workdir, slack):
    # a long new article (about 20 passages) keeps the re-index busy for a second or more
    long_article = NEW_ARTICLE + "\n".join(
        f"In week {i} the robots picked {i * 37} kilograms of coffee cherries on the slopes near Lembang."
        for i in range(1, 80)
    )
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack)
        try:
            await wait_ready(bot, session)
            _, m0 = await bot.get(session, "/metrics")
            (workdir / "seeds" / "900_new.txt").write_text(long_article, encoding="utf-8")
            bot.proc.send_signal(signal.SIGHUP)
            await bot.wait_log(r"re-indexing \(SIGHUP\)")
            # answered from the old index while the new one is built
            await slash(session, bot, "Who is Anthropic's new CTO?", slack.response_url("during"))
            during = await slack.wait_for(lambda: next((c for c in slack.calls if c.path.endswith("during")), None), 15)
            assert "Rahul Patil" in json.dumps(during.body)
            await bot.wait_log("index updated: 1 added", timeout=90)
            # the log is in order: the question was answered after re-indexing began, before it ended
            messages = [r["message"] for r in bot.log_records()]
            began = messages.index("re-indexing (SIGHUP)")
            asked = next(i for i, m in enumerate(messages) if m == "question")
            ended = next(i for i, m in enumerate(messages) if m.startswith("index updated"))
            assert began < asked < ended
            _, m2 = await bot.get(session, "/metrics")
            assert metric(m2, "newsbot_index_passages") > metric(m0, "newsbot_index_passages")
            await ask_until(
                session, bot, slack, "Who led the funding round of Kopi Luwak Robotics?", "900_new.txt", timeout=20
            )
        finally:
            assert await stop(bot) == 0


async def test_serve_with_nothing_configured_says_what_to_set(workdir):
    bot = await start_bot(workdir)
    code = await asyncio.wait_for(bot.proc.wait(), 30)
    assert code == 2
    assert "DISCORD_TOKEN" in bot.log and "SLACK_BOT_TOKEN" in bot.log and "Traceback" not in bot.log


async def test_no_secret_in_logs_of_a_failing_api_call(workdir, slack):
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, NEWSBOT_LOG_LEVEL="DEBUG")
        try:
            await wait_ready(bot, session)
            await slash(session, bot, "What does Scale AI do?", slack.response_url("warm"))
            await slack.wait_calls("response", 1)  # Bolt has checked (and cached) the token
            slack.rejected_tokens.add(BOT_TOKEN)  # from now on Slack answers invalid_auth
            body = json.dumps(event_payload(mention("<@UNEWSBOT> What does Scale AI do?")))
            headers = {**signature_headers(body), "Content-Type": "application/json"}
            async with session.post(bot.url + "/slack/events", data=body, headers=headers) as r:
                assert r.status == 200
            await bot.wait_log("could not deliver the apology either")
        finally:
            assert await stop(bot) == 0
    failures = [r for r in bot.log_records() if r["level"] == "ERROR" and "traceback" in r]
    assert any("invalid_auth" in r["traceback"] for r in failures)  # the failure was logged in full
    assert BOT_TOKEN not in bot.log and SECRET not in bot.log


# ---------------------------------------------------------------- backpressure and shutdown

FLOOD = 120  # past the default bound of 32 questions waiting or running
QUESTIONS = (
    "Who is Anthropic's new CTO?",
    "Siapa CTO baru Anthropic?",
    "How old is Alexandr Wang?",
    "How do I bake sourdough bread?",
)


def reply_kind(body: dict) -> str:
    text = body.get("text", "")
    # the bot's words follow the question's language (the flood asks in English and Indonesian)
    if text in (messages.say("BUSY", "en"), messages.say("BUSY", "id")):
        return "busy"
    if text in (messages.say("SHUTTING_DOWN", "en"), messages.say("SHUTTING_DOWN", "id")):
        return "restarting"
    if text in (messages.say("NOT_COVERED", "en"), messages.say("NOT_COVERED", "id")):
        return "declined"
    if "[1]" in json.dumps(body, ensure_ascii=False):
        return "answered"
    return f"other: {text[:80]}"


def replies_by_name(slack) -> dict[str, list[dict]]:
    """Every response_url message the stand-in received, by the response_url's name."""
    out: dict[str, list[dict]] = defaultdict(list)
    for call in slack.calls_to("response"):
        out[call.path.rsplit("/", 1)[1]].append(call.body)
    return out


async def flood(session, bot: Bot, slack, count: int, prefix: str) -> list[str]:
    """`count` slash commands at once; the names of those acknowledged with a 200."""
    names = [f"{prefix}-{i}" for i in range(count)]
    statuses = await asyncio.gather(
        *(slash(session, bot, QUESTIONS[i % len(QUESTIONS)], slack.response_url(n)) for i, n in enumerate(names)),
        return_exceptions=True,
    )
    return [n for n, status in zip(names, statuses, strict=True) if status == 200]


def assert_one_reply_each(slack, acked: list[str], allowed: set[str]) -> Counter:
    replies = replies_by_name(slack)
    assert sorted(replies) == sorted(acked), "an acked command got no reply, or an unknown one got one"
    assert [n for n, r in replies.items() if len(r) != 1] == []
    kinds = Counter(reply_kind(r[0]) for r in replies.values())
    assert set(kinds) <= allowed, kinds
    return kinds


async def test_a_flood_of_slash_commands_is_bounded_and_each_gets_one_reply(workdir, slack):
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, NEWSBOT_MAX_PENDING_QUESTIONS="8")
        try:
            await wait_ready(bot, session)
            acked = await flood(session, bot, slack, FLOOD, "flood")
            assert len(acked) == FLOOD
            await slack.wait_calls("response", FLOOD, timeout=60)
            _, text = await bot.get(session, "/metrics")
        finally:
            code = await stop(bot)
    assert code == 0, bot.log[-3000:]
    # the process has exited: these counts are final
    kinds = assert_one_reply_each(slack, acked, {"answered", "declined", "busy"})
    assert kinds["busy"] > 0 and kinds["answered"] + kinds["declined"] > 0, kinds
    for outcome in ("busy", "answered", "declined"):
        assert (metric(text, "newsbot_questions_total", platform="slack", outcome=outcome) or 0) == kinds[outcome]
    busy = [r[0] for r in replies_by_name(slack).values() if reply_kind(r[0]) == "busy"]
    assert {r["response_type"] for r in busy} == {"ephemeral"}
    logged = Counter(r["outcome"] for r in bot.log_records() if r["message"] == "question")
    assert logged == Counter({k: v for k, v in kinds.items() if v})


async def test_sigterm_with_a_backlog_gives_every_acked_command_one_reply(workdir, slack):
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, NEWSBOT_SHUTDOWN_GRACE_SECONDS="0.2")
        try:
            await wait_ready(bot, session)
            acked = await flood(session, bot, slack, FLOOD, "backlog")
            bot.proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(bot.proc.wait(), 30)
        finally:
            await stop(bot)
    assert code == 0, bot.log[-3000:]
    kinds = assert_one_reply_each(slack, acked, {"answered", "declined", "busy", "restarting"})
    assert kinds["restarting"] > 0, kinds
    assert "told to ask again" in bot.log


class WatchedSlack(SlackStandIn):
    """The Slack stand-in, noting whether a websocket was open when each reply arrived, and
    able to refuse new websockets (Slack's Socket Mode endpoint down)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.socket_open_at_reply: list[bool] = []
        self.refuse_sockets = False

    async def _response_url(self, request):
        self.socket_open_at_reply.append(self.socket is not None)
        return await super()._response_url(request)

    async def _socket(self, request):
        if self.refuse_sockets:
            return web.Response(status=503, text="unavailable")
        return await super()._socket(request)


@pytest.fixture
async def watched_slack():
    standin = await WatchedSlack().start()
    yield standin
    await standin.close()


async def test_grace_running_out_answers_restarting_before_the_socket_closes(workdir, watched_slack):
    """Socket Mode, questions queued past a 0.2 s grace: each acked one gets its answer or
    "restarting", delivered while the connection to Slack is still open; then exit 0."""
    slack = watched_slack
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, SLACK_APP_TOKEN=APP_TOKEN, NEWSBOT_SHUTDOWN_GRACE_SECONDS="0.2")
        try:
            assert (await wait_ready(bot, session))["slack"] is True
            names = [f"socket-{i}" for i in range(40)]
            envelopes = [
                await slack.send_envelope(
                    "slash_commands", command_payload(QUESTIONS[i % len(QUESTIONS)], slack.response_url(name))
                )
                for i, name in enumerate(names)
            ]
            await asyncio.gather(*(slack.wait_ack(e, timeout=15) for e in envelopes))
            bot.proc.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(bot.proc.wait(), 30)
        finally:
            await stop(bot)
    assert code == 0, bot.log[-3000:]
    kinds = assert_one_reply_each(slack, names, {"answered", "declined", "busy", "restarting"})
    assert kinds["restarting"] > 0, kinds
    assert slack.socket_open_at_reply == [True] * len(names)
    warning = next(r for r in bot.log_records() if "told to ask again" in r["message"])
    assert warning["level"] == "WARNING"
    assert re.search(r"(\d+) told to ask again", warning["message"]).group(1) == str(kinds["restarting"])


async def test_readyz_turns_503_when_the_slack_socket_drops(workdir, watched_slack):
    slack = watched_slack
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(workdir, slack=slack, SLACK_APP_TOKEN=APP_TOKEN)
        try:
            assert await wait_ready(bot, session) == {"index": True, "slack": True, "accepting": True}
            slack.refuse_sockets = True  # Slack's end is down: reconnecting fails
            await slack.socket.close()
            deadline = time.monotonic() + 15
            while (status_body := await bot.get(session, "/readyz"))[0] != 503 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            status, body = status_body
            assert status == 503 and json.loads(body) == {"index": True, "slack": False, "accepting": True}
            status, _ = await bot.get(session, "/healthz")
            assert status == 200  # alive, just not ready
        finally:
            code = await stop(bot)
    assert code == 0, bot.log[-3000:]


async def test_unreachable_slack_exits_1_naming_the_address(workdir):
    port = free_port()  # nobody listens there
    bot = await start_bot(
        workdir,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        NEWSBOT_SLACK_API_URL=f"http://127.0.0.1:{port}/api/",
    )
    code = await asyncio.wait_for(bot.proc.wait(), 60)
    assert code == 1, bot.log[-3000:]
    assert f"127.0.0.1:{port}" in bot.log and "NEWSBOT_SLACK_API_URL" in bot.log
    assert "Traceback" not in bot.log and BOT_TOKEN not in bot.log and APP_TOKEN not in bot.log


FEED_ARTICLE = """<!doctype html><html lang="en"><head><title>Kopi Luwak Robotics raises $12 million | Harbor Tech</title>
<meta property="og:title" content="Kopi Luwak Robotics raises $12 million">
<meta property="og:site_name" content="Harbor Tech">
<meta property="article:published_time" content="2026-11-20T08:00:00Z">
<link rel="canonical" href="{base}/2026/11/kopi-luwak-robotics"></head>
<body><nav><a href="/">Home</a> <a href="/ai">AI</a></nav>
<article><h1>Kopi Luwak Robotics raises $12 million</h1>
<p>Kopi Luwak Robotics, a startup from Bandung, raised 12 million dollars to build coffee-harvesting robots.</p>
<p>The round was led by Garuda Ventures and closed in October, the company said on Thursday.</p>
<p>The company plans to hire forty engineers next year and to open a workshop in Surabaya.</p>
<p>Its first robot picks ripe cherries at night, when the beans are coolest, and sorts them by colour.</p>
</article><footer>© Harbor Tech. All rights reserved.</footer></body></html>"""

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Harbor Tech</title><link>{base}/</link>
<description>AI news</description><item><title>Kopi Luwak Robotics raises $12 million</title>
<link>{base}/2026/11/kopi-luwak-robotics</link><guid>{base}/2026/11/kopi-luwak-robotics</guid>
<pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>"""


class NewsSite:
    """A news site on 127.0.0.1: one article, a feed with ETag support, and a feed that always fails."""

    def __init__(self):
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)

    async def start(self) -> NewsSite:
        app = web.Application()
        app.router.add_get("/feed.xml", self.feed)
        app.router.add_get("/broken.xml", self.broken)
        app.router.add_get("/2026/11/kopi-luwak-robotics", self.article)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def feed(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, request.headers.get("If-None-Match")))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        body = FEED.format(base=self.base)
        return web.Response(text=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

    async def broken(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, None))
        return web.Response(status=500, text="upstream exploded")

    async def article(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, None))
        return web.Response(text=FEED_ARTICLE.format(base=self.base), content_type="text/html")


async def test_serve_follows_feeds_indexes_new_articles_and_reports_feed_health(workdir, slack):
    site = await NewsSite().start()
    good, bad = site.base + "/feed.xml", site.base + "/broken.xml"
    async with aiohttp.ClientSession() as session:
        bot = await start_bot(
            workdir,
            slack=slack,
            NEWSBOT_FEEDS=f"{good}, {bad}",
            NEWSBOT_FEED_INTERVAL="0.02",  # minutes: a poll every 1.2 s
            NEWSBOT_FETCH_HOST_DELAY_SECONDS="0",
            NEWSBOT_DATA_DIR=str(workdir / "data"),
        )
        try:
            await wait_ready(bot, session)
            body = await ask_until(
                session, bot, slack, "Who led the funding round of Kopi Luwak Robotics?", "kopi-luwak-robotics"
            )
            # the citation carries the article's title, link and date, not a file name
            text = json.dumps(body)
            assert f"{site.base}/2026/11/kopi-luwak-robotics" in text and "Harbor Tech" in text
            saved = list((workdir / "seeds").rglob("*kopi-luwak-robotics*"))
            assert len(saved) == 1
            await bot.wait_log("index updated: 1 added")
            # later polls are conditional and cost nothing: one 304 each
            deadline = time.monotonic() + 20
            while sum(1 for p, tag in site.requests if p == "/feed.xml" and tag == '"v1"') < 2:
                assert time.monotonic() < deadline, site.requests
                await asyncio.sleep(0.2)
            assert [p for p, _ in site.requests].count("/2026/11/kopi-luwak-robotics") == 1
            status, ready = await bot.get(session, "/readyz")
            ready = json.loads(ready)
            assert status == 200, ready  # a failing feed is a detail, not an outage
            assert ready["feeds"][good]["ok"] is True
            assert ready["feeds"][bad]["ok"] is False and ready["feeds"][bad]["failures"] >= 1
            assert "500" in ready["feeds"][bad]["last_error"]
            _, metrics = await bot.get(session, "/metrics")
            assert metric(metrics, "newsbot_feed_fetch_total", feed=good, outcome="new") == 1
            assert metric(metrics, "newsbot_feed_fetch_total", feed=good, outcome="not_modified") >= 1
            assert metric(metrics, "newsbot_feed_fetch_total", feed=bad, outcome="failed") >= 1
            assert metric(metrics, "newsbot_feed_articles_added_total", feed=good) == 1
        finally:
            assert await stop(bot) == 0
            await site.runner.cleanup()
