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
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from tests.platforms.discord_standin import DiscordStandin
from tests.platforms.slack_standin import SlackStandIn
from tests.platforms.test_slack import BOT_TOKEN, SECRET, command_payload, event_payload, mention, signature_headers

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
    shutil.copytree(seeds_engine.settings.seeds_dir, tmp_path / "seeds")
    shutil.copytree(seeds_engine.settings.index_dir, tmp_path / "index", symlinks=True)
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
            await discord_standin.dispatch("MESSAGE_CREATE", discord_standin.mention("How old is Alexandr Wang?"))
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


async def test_sigterm_lets_the_question_in_flight_finish(workdir, slack):
    """The answer is being delivered when SIGTERM arrives: it is delivered, then exit 0."""
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
            bot.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)
            assert bot.proc.returncode is None  # still waiting for the delivery
            status, body = await bot.get(session, "/readyz")
            assert status == 503 and json.loads(body)["accepting"] is False
            release.set()
            code = await asyncio.wait_for(bot.proc.wait(), 20)
        finally:
            release.set()
            await stop(bot)
            await runner.cleanup()
    assert code == 0, bot.log[-2000:]
    assert "Scale AI" in json.dumps(delivered[0]) and "[1]" in json.dumps(delivered[0])


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
    # a long new article keeps the re-index busy for a while
    long_article = NEW_ARTICLE + "\n".join(
        f"In week {i} the robots picked {i * 37} kilograms of coffee cherries on the slopes near Lembang."
        for i in range(1, 200)
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
