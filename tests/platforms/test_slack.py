"""The Slack edge end to end: the real Bolt AsyncApp, the real engine, and a stand-in
for Slack's Web API, response_url and Socket Mode server on 127.0.0.1 (tests/slack_standin.py).

HTTP requests are signed the way Slack signs them (v0, HMAC-SHA256 over
`v0:{timestamp}:{body}` with the signing secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.settings import Settings
from bot.platforms.slack.app import (
    SeenEvents,
    add_http_routes,
    check_slack_auth,
    create_app,
    is_connected,
    start_socket_mode,
)
from bot.serving.dispatch import Dispatcher

try:  # tests/ as a package or as a plain folder on sys.path (pytest's default)
    from .slack_standin import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackStandIn
except ImportError:
    from slack_standin import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1-test-bot-token"
APP_TOKEN = "xapp-1-A0NEWSBOT-test-app-token"
CTO_QUESTION = "Who is Anthropic's new CTO?"
OUT_OF_SCOPE = "What is the weather in Jakarta today?"


# ---------------------------------------------------------------- helpers


def make_settings(standin: SlackStandIn, **overrides) -> Settings:
    values = dict(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        # no trailing slash on purpose: the adapter must add the one slack_sdk needs
        slack_api_url=standin.url + "/api",
        rate_limit_per_minute=0,
    )
    values.update(overrides)
    return Settings(**values)


def signature_headers(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def command_payload(text: str, response_url: str, user: str = "UASKER1", command: str = "/ask") -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": "test",
        "channel_id": "C0NEWS",
        "channel_name": "news",
        "user_id": user,
        "user_name": "asker",
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }


def event_payload(event: dict, event_id: str | None = None) -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention(text: str, ts: str = "1700000100.000200", thread_ts: str | None = None, user: str = "UASKER1") -> dict:
    event = {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": "C0NEWS",
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm(text: str, ts: str = "1700000200.000300", user: str = "UASKER1", **extra) -> dict:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": "D0ASKER",
        "event_ts": ts,
        "team": TEAM_ID,
    }
    event.update(extra)
    return event


def all_text(message: dict) -> str:
    """Every piece of text a person could see in a posted message."""
    return json.dumps(message, ensure_ascii=False)


class HttpBot:
    """The bolt app served over HTTP on 127.0.0.1, with a client that signs like Slack."""

    def __init__(self, url: str, standin: SlackStandIn, session: aiohttp.ClientSession):
        self.url = url
        self.standin = standin
        self.session = session

    async def post(self, body: str, content_type: str, headers: dict | None = None):
        started = time.monotonic()
        async with self.session.post(
            self.url + "/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **(headers if headers is not None else signature_headers(body))},
        ) as resp:
            return resp.status, await resp.text(), time.monotonic() - started

    async def command(self, text: str, **kw):
        response_url = kw.pop("response_url", None) or self.standin.response_url()
        body = urlencode(command_payload(text, response_url, **kw))
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, event: dict, event_id: str | None = None, retry_num: int | None = None):
        body = json.dumps(event_payload(event, event_id))
        headers = signature_headers(body)
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        return await self.post(body, "application/json", headers)


@asynccontextmanager
async def serve_http(settings: Settings, dispatcher: Dispatcher, standin: SlackStandIn):
    bolt_app = create_app(settings, dispatcher)
    web_app = web.Application()
    add_http_routes(web_app, bolt_app)

    async def healthz(_request):  # the service adds the real one; it must coexist
        return web.Response(text="ok")

    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            yield HttpBot(f"http://127.0.0.1:{port}", standin, session)
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------- fixtures


@pytest.fixture
async def standin():
    server = await SlackStandIn().start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def asked(engine, monkeypatch):
    """The questions that reached the real engine, in order."""
    questions: list[str] = []
    real_ask = engine.ask

    def recording_ask(question):
        questions.append(question)
        return real_ask(question)

    monkeypatch.setattr(engine, "ask", recording_ask)
    return questions


@pytest.fixture
async def http_bot(standin, engine, asked):
    settings = make_settings(standin)
    async with serve_http(settings, Dispatcher(engine), standin) as bot:
        yield bot


# ---------------------------------------------------------------- settings


def test_check_slack_settings_picks_the_mode(tmp_path):
    base = dict(_env_file=None, SLACK_BOT_TOKEN=BOT_TOKEN)
    assert Settings(**base, SLACK_APP_TOKEN=APP_TOKEN).slack_mode() == "socket"
    assert Settings(**base, SLACK_SIGNING_SECRET=SECRET).slack_mode() == "http"


@pytest.mark.parametrize(
    "values, names",
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET"),
    ],
)
def test_check_slack_settings_names_the_bad_setting(values, names):
    with pytest.raises(ConfigError) as err:
        Settings(_env_file=None, **values).slack_mode()
    assert names in str(err.value)
    assert "xoxp-user-token" not in str(err.value)  # never echo a whole secret


def test_web_client_gets_base_url_with_slash_and_retry_handlers(engine):
    settings = Settings(
        _env_file=None, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, slack_api_url="http://127.0.0.1:9/api"
    )
    app = create_app(settings, Dispatcher(engine))
    assert app.client.base_url == "http://127.0.0.1:9/api/"
    kinds = {type(h).__name__ for h in app.client.retry_handlers}
    assert {
        "AsyncRateLimitErrorRetryHandler",
        "AsyncServerErrorRetryHandler",
        "AsyncConnectionErrorRetryHandler",
    } <= kinds


def test_seen_events_is_bounded_and_forgets_old_ids():
    now = [0.0]
    seen = SeenEvents(max_size=3, ttl=60, clock=lambda: now[0])
    assert seen.first_time("Ev1") and not seen.first_time("Ev1")
    for i in range(2, 6):
        assert seen.first_time(f"Ev{i}")
    assert seen.first_time("Ev1")  # pushed out by size
    now[0] = 120
    assert seen.first_time("Ev5")  # expired


# ---------------------------------------------------------------- HTTP mode


async def test_slash_command_acked_at_once_then_answered_with_citations(http_bot, standin, engine, monkeypatch):
    gate = threading.Event()
    real_ask = engine.ask

    def slow_ask(question):  # the engine is busy until the ack is back
        gate.wait(10)
        return real_ask(question)

    monkeypatch.setattr(engine, "ask", slow_ask)
    try:
        status, _body, elapsed = await http_bot.command(CTO_QUESTION)
        assert status == 200 and elapsed < 3.0
        assert standin.calls_to("response") == []  # acked before the answer exists
    finally:
        gate.set()
    (call,) = await standin.wait_calls("response")
    answer = real_ask(CTO_QUESTION)
    message = call.body
    assert message["response_type"] == "in_channel"
    blocks = message["blocks"]
    sections = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert "Rahul Patil" in sections
    for citation in answer.passages:
        assert f"[{citation.rank}]" in sections
        line = next(t for t in contexts if f"`{citation.source}`" in t)
        assert f"[{citation.rank}]" in line and citation.title[:40] in line
    assert any(CTO_QUESTION in t for t in contexts)  # the question is echoed


async def test_slash_command_name_and_ephemeral_come_from_settings(standin, engine):
    settings = make_settings(standin, slack_ephemeral=True, slack_command="/news")
    async with serve_http(settings, Dispatcher(engine), standin) as bot:
        status, _, _ = await bot.command(CTO_QUESTION)  # /ask is not this app's command
        assert status == 404
        status, _, _ = await bot.command(CTO_QUESTION, command="/news")
        assert status == 200
        (call,) = await standin.wait_calls("response")
    assert call.body["response_type"] == "ephemeral"
    assert "[1]" in all_text(call.body)


async def test_empty_slash_command_gets_usage_only_for_the_asker(http_bot, standin, asked):
    status, body, _ = await http_bot.command("   ")
    assert status == 200
    reply = json.loads(body)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"] == messages.USAGE_SLASH.format(command="/ask")
    await asyncio.sleep(0.2)
    assert asked == [] and standin.calls_to("response") == []


async def test_out_of_scope_slash_command_declined_plainly(http_bot, standin):
    await http_bot.command(OUT_OF_SCOPE)
    (call,) = await standin.wait_calls("response")
    assert call.body["text"] == messages.NOT_COVERED
    assert "[1]" not in all_text(call.body) and messages.SOURCES_HEADING not in all_text(call.body)


async def test_bad_signature_is_401_and_nothing_runs(http_bot, standin, asked):
    body = urlencode(command_payload(CTO_QUESTION, standin.response_url()))
    status, _, _ = await http_bot.post(
        body, "application/x-www-form-urlencoded", signature_headers(body, secret="not-the-secret")
    )
    assert status == 401
    status, _, _ = await http_bot.post(body, "application/x-www-form-urlencoded", {})
    assert status == 401
    async with http_bot.session.get(http_bot.url + "/healthz") as resp:
        assert resp.status == 200  # the service's own routes live beside /slack/events
    await asyncio.sleep(0.2)
    assert asked == [] and standin.calls_to("response") == []


async def test_stale_timestamp_is_401(http_bot, standin, asked):
    body = urlencode(command_payload(CTO_QUESTION, standin.response_url()))
    six_minutes_ago = int(time.time()) - 6 * 60
    status, _, _ = await http_bot.post(
        body, "application/x-www-form-urlencoded", signature_headers(body, timestamp=six_minutes_ago)
    )
    assert status == 401
    four_minutes_ago = int(time.time()) - 4 * 60  # still inside Slack's window
    status, _, _ = await http_bot.post(
        body, "application/x-www-form-urlencoded", signature_headers(body, timestamp=four_minutes_ago)
    )
    assert status == 200
    await standin.wait_calls("response")
    assert asked == [CTO_QUESTION]


async def test_url_verification_returns_the_challenge(http_bot):
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    status, text, _ = await http_bot.post(body, "application/json")
    assert status == 200
    assert json.loads(text)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"


async def test_app_mention_answered_in_its_thread(http_bot, standin, asked):
    status, _, elapsed = await http_bot.event(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000100.000200"))
    assert status == 200 and elapsed < 3.0
    (post,) = await standin.wait_calls("chat.postMessage")
    assert post.body["channel"] == "C0NEWS"
    assert post.body["thread_ts"] == "1700000100.000200"
    assert "Rahul Patil" in all_text(post.body) and "[1]" in all_text(post.body)
    assert asked == [CTO_QUESTION]  # the mention of the bot is not part of the question
    assert post.headers["Authorization"] == f"Bearer {BOT_TOKEN}"

    # a mention inside a thread is answered in that thread, not a new one
    await http_bot.event(
        mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000300.000500", thread_ts="1700000099.000001")
    )
    posts = await standin.wait_calls("chat.postMessage", 2)
    assert posts[1].body["thread_ts"] == "1700000099.000001"


async def test_direct_message_answered_and_bots_ignored(http_bot, standin, asked):
    await http_bot.event(dm("hello from a bot", bot_id="B0OTHER", subtype="bot_message"))
    await http_bot.event(dm("I wrote this myself", user=BOT_USER_ID, bot_id=BOT_ID))
    await http_bot.event(dm("edited", subtype="message_changed"))
    await http_bot.event(dm(OUT_OF_SCOPE, channel_type="channel", channel="C0NEWS"))  # not a DM
    await http_bot.event(dm(CTO_QUESTION))
    (post,) = await standin.wait_calls("chat.postMessage")
    assert post.body["channel"] == "D0ASKER"
    assert "Rahul Patil" in all_text(post.body)
    await asyncio.sleep(0.3)
    assert len(standin.calls_to("chat.postMessage")) == 1
    assert asked == [CTO_QUESTION]


async def test_retried_event_is_answered_once(http_bot, standin, asked):
    first = mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000400.000100")
    assert (await http_bot.event(first, event_id="Ev0RETRIED"))[0] == 200
    assert (await http_bot.event(first, event_id="Ev0RETRIED", retry_num=1))[0] == 200
    assert (await http_bot.event(first, event_id="Ev0RETRIED", retry_num=2))[0] == 200
    other = mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000500.000100")
    await http_bot.event(other, event_id="Ev0OTHER")
    posts = await standin.wait_calls("chat.postMessage", 2)
    await asyncio.sleep(0.3)
    posts = standin.calls_to("chat.postMessage")
    assert sorted(p.body["thread_ts"] for p in posts) == ["1700000400.000100", "1700000500.000100"]
    assert len(asked) == 2


async def test_channel_ping_in_a_question_is_neutralised(http_bot, standin, asked):
    # As Slack sends it: special mentions as <!...> markup, the user's own & < > escaped.
    await http_bot.command("<!channel> <!here> <@U0ALICE|alice> who is Anthropic's new CTO &lt;b&gt; &amp; co?")
    (call,) = await standin.wait_calls("response")
    text = all_text(call.body)
    for ping in ("<!channel>", "<!here>", "<@U0ALICE"):
        assert ping not in text
    assert "&lt;b&gt; &amp; co" in text  # echoed, escaped as Slack requires
    assert asked == ["@channel @here @alice who is Anthropic's new CTO <b> & co?"]


async def test_rate_limited_chat_post_message_is_retried(http_bot, standin):
    standin.rate_limit_once("chat.postMessage")
    await http_bot.event(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}"))
    first, second = await standin.wait_calls("chat.postMessage", 2, timeout=15)
    assert (first.status, second.status) == (429, 200)
    assert first.body == second.body and "Rahul Patil" in all_text(second.body)


async def test_engine_failure_gets_one_apology_and_a_logged_traceback(http_bot, standin, engine, monkeypatch, caplog):
    def broken(question):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(engine, "ask", broken)
    with caplog.at_level(logging.ERROR):
        await http_bot.event(dm(CTO_QUESTION))
        (post,) = await standin.wait_calls("chat.postMessage")
    assert post.body["text"] == messages.APOLOGY and "index exploded" not in all_text(post.body)
    assert any(r.exc_info and "index exploded" in str(r.exc_info[1]) for r in caplog.records)
    await asyncio.sleep(0.2)
    assert len(standin.calls_to("chat.postMessage")) == 1


async def test_undeliverable_answer_gets_an_apology(http_bot, standin, monkeypatch, caplog):
    # chat.postMessage rate-limited beyond the retries: the answer is lost, the apology is not
    standin.retry_after = 0
    for _ in range(3):
        standin.rate_limit_once("chat.postMessage")
    with caplog.at_level(logging.ERROR):
        await http_bot.event(dm(CTO_QUESTION))
        posts = await standin.wait_calls("chat.postMessage", 4, timeout=15)
    assert [p.status for p in posts] == [429, 429, 429, 200]
    assert posts[-1].body["text"] == messages.APOLOGY
    assert any("could not deliver" in r.getMessage() for r in caplog.records)


async def test_rate_limit_answered_politely(standin, engine):
    settings = make_settings(standin, rate_limit_per_minute=1)
    async with serve_http(settings, Dispatcher(engine, rate_limit_per_minute=1), standin) as bot:
        await bot.event(dm(CTO_QUESTION, ts="1700000600.000001"))
        await standin.wait_calls("chat.postMessage")
        await bot.event(dm(CTO_QUESTION, ts="1700000600.000002"))
        first, second = await standin.wait_calls("chat.postMessage", 2)
    assert "Rahul Patil" in all_text(first.body)
    assert second.body["text"].startswith(messages.RATE_LIMITED.split("{")[0])
    assert "[1]" not in all_text(second.body)


async def test_empty_mention_gets_a_usage_hint(http_bot, standin, asked):
    await http_bot.event(mention(f"<@{BOT_USER_ID}>   "))
    (post,) = await standin.wait_calls("chat.postMessage")
    assert post.body["text"] == messages.EMPTY_QUESTION
    assert asked == []


# ---------------------------------------------------------------- Socket Mode


@asynccontextmanager
async def socket_bot(standin: SlackStandIn, engine):
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        slack_api_url=standin.base_url,
        rate_limit_per_minute=0,
    )
    assert settings.slack_mode() == "socket"
    handler = await start_socket_mode(create_app(settings, Dispatcher(engine)), settings)
    try:
        yield handler
    finally:
        await handler.close_async()


async def test_socket_mode_answers_slash_command_and_mention(standin, engine, asked):
    async with socket_bot(standin, engine) as handler:
        await standin.wait_connected()
        assert is_connected(handler)
        (opened,) = standin.calls_to("apps.connections.open")
        assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"

        started = time.monotonic()
        envelope = await standin.send_envelope("slash_commands", command_payload(CTO_QUESTION, standin.response_url()))
        ack = await standin.wait_ack(envelope, timeout=3)
        assert time.monotonic() - started < 3.0 and "payload" not in ack
        (call,) = await standin.wait_calls("response")
        assert call.body["response_type"] == "in_channel"
        assert "Rahul Patil" in all_text(call.body) and "[1]" in all_text(call.body)

        empty = await standin.send_envelope("slash_commands", command_payload("", standin.response_url()))
        assert (await standin.wait_ack(empty))["payload"]["text"] == messages.USAGE_SLASH.format(command="/ask")

        event = event_payload(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000700.000100"), "Ev0SOCKET")
        await standin.wait_ack(await standin.send_envelope("events_api", event))
        (post,) = await standin.wait_calls("chat.postMessage")
        assert post.body["thread_ts"] == "1700000700.000100"
        assert "Rahul Patil" in all_text(post.body)

        # Slack retries the same event in a new envelope: acked, not answered again
        await standin.wait_ack(
            await standin.send_envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
        )
        await asyncio.sleep(0.3)
        assert len(standin.calls_to("chat.postMessage")) == 1
        assert asked == [CTO_QUESTION, CTO_QUESTION]
    assert not is_connected(handler)


async def test_socket_mode_reconnects_after_disconnect(standin, engine):
    async with socket_bot(standin, engine) as handler:
        first = await standin.wait_connected()
        await standin.send_disconnect()
        second = await standin.wait_connected(2)
        assert second is not first
        assert len(standin.calls_to("apps.connections.open")) == 2  # a fresh URL for the new socket
        await standin.wait_for(lambda: first.closed, timeout=5)
        assert is_connected(handler)

        event = event_payload(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000800.000100"))
        await standin.wait_ack(await standin.send_envelope("events_api", event))
        (post,) = await standin.wait_calls("chat.postMessage")
        assert post.body["thread_ts"] == "1700000800.000100"


@pytest.mark.parametrize("rejected, setting", [(BOT_TOKEN, "SLACK_BOT_TOKEN"), (APP_TOKEN, "SLACK_APP_TOKEN")])
async def test_socket_mode_start_stops_on_a_rejected_token(standin, engine, rejected, setting):
    standin.rejected_tokens.add(rejected)
    started = time.monotonic()
    with pytest.raises(ConfigError) as err:
        async with socket_bot(standin, engine):
            pass
    assert setting in str(err.value) and "invalid_auth" in str(err.value)
    assert rejected not in str(err.value)
    assert time.monotonic() - started < 5 and standin.connections == 0


async def test_unreachable_slack_is_reported_not_hung(engine):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        slack_api_url=f"http://127.0.0.1:{port}/api/",
    )
    started = time.monotonic()
    with pytest.raises(NewsbotError) as err:
        await start_socket_mode(create_app(settings, Dispatcher(engine)), settings)
    assert f"127.0.0.1:{port}" in str(err.value)
    assert time.monotonic() - started < 15


async def test_check_slack_auth_returns_the_bot_identity(standin, engine):
    identity = await check_slack_auth(create_app(make_settings(standin), Dispatcher(engine)))
    assert identity["user_id"] == BOT_USER_ID and identity["bot_id"] == BOT_ID


# ---------------------------------------------------------------- the manifest


def test_manifest_matches_what_the_bot_listens_for():
    from pathlib import Path

    yaml = pytest.importorskip("yaml")
    manifest = yaml.safe_load((Path(__file__).parents[2] / "slack_manifest.yml").read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == Settings.model_fields["slack_command"].default
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "app_mentions:read",
        "im:history",
        "chat:write",
    }
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_mention", "message.im"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
