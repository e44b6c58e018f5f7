"""The Slack edge end to end: the real Bolt AsyncApp, the real engine, and a stand-in
for Slack's Web API, response_url and Socket Mode server on 127.0.0.1 (tests/slack_standin.py).

HTTP requests are signed the way Slack signs them (v0, HMAC-SHA256 over
`v0:{timestamp}:{body}` with the signing secret).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
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
    SeenKeys,
    add_http_routes,
    check_slack_auth,
    create_app,
    is_connected,
    start_socket_mode,
)
from bot.serving.dispatch import Dispatcher
from bot.serving.logs import setup_logging

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


def posts_to(standin: SlackStandIn, channel: str, method: str = "chat.postMessage") -> list:
    return [c for c in standin.calls_to(method) if c.body.get("channel") == channel]


def all_text(message: dict) -> str:
    """Every piece of text a person could see in a posted message."""
    return json.dumps(message, ensure_ascii=False)


class HttpBot:
    """The bolt app served over HTTP on 127.0.0.1, with a client that signs like Slack."""

    def __init__(self, url: str, standin: SlackStandIn, session: aiohttp.ClientSession, dispatcher: Dispatcher):
        self.url = url
        self.standin = standin
        self.session = session
        self.dispatcher = dispatcher
        self._markers = 0

    async def settled(self, timeout: float = 10.0) -> None:
        """Wait until every question asked so far has its reply delivered."""
        assert await self.dispatcher.wait_delivered(timeout)

    async def post(self, body: str | bytes, content_type: str, headers: dict | None = None):
        started = time.monotonic()
        async with self.session.post(
            self.url + "/slack/events",
            data=body.encode() if isinstance(body, str) else body,
            headers={"Content-Type": content_type, **(headers if headers is not None else signature_headers(body))},
        ) as resp:
            return resp.status, await resp.text(), time.monotonic() - started

    async def command(self, text: str, **kw):
        response_url = kw.pop("response_url", None) or self.standin.response_url()
        body = urlencode(command_payload(text, response_url, **kw))
        return await self.post(body, "application/x-www-form-urlencoded")

    async def nothing_more(self) -> None:
        """Wait until everything sent before has been handled and every reply is out.

        A request's listener starts before its HTTP response. So once a last request (an
        empty DM: a hint, no question) has its reply, every earlier request has asked what
        it was going to ask; then wait for those replies.
        """
        self._markers += 1
        channel = f"D0MARKER{self._markers}"
        await self.event(dm("", user="UMARKER", channel=channel, ts=f"1700009999.{self._markers:06d}"))
        await self.standin.wait_for(lambda: any(c.body.get("channel") == channel for c in self.standin.calls))
        await self.settled()

    async def event(self, event: dict, event_id: str | None = None, retry_num: int | None = None):
        body = json.dumps(event_payload(event, event_id))
        headers = signature_headers(body)
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"})
        return await self.post(body, "application/json", headers)


@asynccontextmanager
async def serve_http(settings: Settings, dispatcher: Dispatcher, standin: SlackStandIn, **app_options):
    """Served the way the service serves it: the service's aiohttp app, no access log."""
    bolt_app = create_app(settings, dispatcher, **app_options)
    web_app = web.Application()
    add_http_routes(web_app, bolt_app)

    async def healthz(_request):  # the service adds the real one; it must coexist
        return web.Response(text="ok")

    web_app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(web_app, shutdown_timeout=1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            yield HttpBot(f"http://127.0.0.1:{port}", standin, session, dispatcher)
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


def test_seen_keys_is_bounded_and_forgets_old_keys():
    now = [0.0]
    seen = SeenKeys(max_size=3, ttl=60, clock=lambda: now[0])
    assert seen.first_time("Ev1") and not seen.first_time("Ev1")
    for i in range(2, 6):
        assert seen.first_time(f"Ev{i}")
    assert seen.first_time("Ev1")  # pushed out by size
    now[0] = 120
    assert seen.first_time("Ev5")  # expired


def test_seen_keys_remembers_a_key_for_exactly_its_ttl():
    now = [1000.0]
    seen = SeenKeys(ttl=600, clock=lambda: now[0])
    assert seen.first_time("signature:v0=abc")
    now[0] += 600
    assert not seen.first_time("signature:v0=abc")  # a replay at the end of the window
    now[0] += 0.001
    assert seen.first_time("signature:v0=abc")  # forgotten: its signature has long gone stale
    assert len(seen._seen) == 1


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
    await http_bot.nothing_more()
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
    await http_bot.nothing_more()
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


# ---------------------------------------------------------------- strangers, replays


def _signed(body: str) -> tuple[bytes, dict]:
    return body.encode(), signature_headers(body)


_ZEROS = "v0=" + "0" * 64
REFUSED = [
    # unsigned: refused before the body is read as JSON or a form
    ("unsigned malformed JSON", lambda: (b'{"type": "event_callback", ', {}), "application/json", 401),
    ("unsigned malformed form", lambda: (b"payload=%7Bnot-json&token=x", {}), "application/x-www-form-urlencoded", 401),
    (
        "forged signature",
        lambda: (b'{"type": "event_callback"', signature_headers('{"type": "event_callback"', secret="guess")),
        "application/json",
        401,
    ),
    *[
        (
            f"timestamp {stamp!r}",
            lambda stamp=stamp: (b'{"type": ', {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": _ZEROS}),
            "application/json",
            401,
        )
        for stamp in ("soon", "", "1e9", "-60", "\u0661\u0667\u0660\u0660", "17000000000000000000000000")
    ],
    (
        "non-ASCII signature",
        lambda: (b"{}", {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=\u00e9t\u00e9"}),
        "application/json",
        401,
    ),
    (
        "non-UTF-8 body",
        lambda: (b"\xff\xfe{", {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": _ZEROS}),
        "application/json",
        400,
    ),
    # signed by someone with the secret, but not a Slack payload
    ("signed malformed JSON", lambda: _signed('{"type": "event_callback", '), "application/json", 400),
    ("signed form, payload not JSON", lambda: _signed("payload=%7Bnot-json"), "application/x-www-form-urlencoded", 400),
    ("signed JSON array", lambda: _signed("[1, 2]"), "application/json", 400),
    ("signed JSON string", lambda: _signed('"event_callback"'), "application/json", 400),
    (
        "signed odd authorizations",
        lambda: _signed('{"authorizations": "x", "type": "event_callback"}'),
        "application/json",
        400,
    ),
    (
        "signed event that is not an object",
        lambda: _signed('{"type": "event_callback", "event_id": "Ev0ODD", "event": [1]}'),
        "application/json",
        400,
    ),
]


@pytest.mark.parametrize(
    "body_and_headers, content_type, status", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
async def test_unsigned_or_malformed_request_is_refused_with_one_short_log_line(
    http_bot, standin, asked, caplog, body_and_headers, content_type, status
):
    body, headers = body_and_headers()
    with caplog.at_level(logging.DEBUG):
        got, _, _ = await http_bot.post(body, content_type, headers)
    assert got == status
    noted = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(noted) == 1, [r.getMessage() for r in noted]
    line = noted[0].getMessage()
    assert "\n" not in line and len(line) < 200
    assert not any(r.exc_info for r in caplog.records)
    await http_bot.nothing_more()  # still serving; nothing was asked or answered
    assert asked == [] and standin.calls_to("response") == []


async def test_replayed_slash_command_is_acknowledged_but_answered_once(http_bot, standin, asked, caplog):
    body = urlencode(command_payload(CTO_QUESTION, standin.response_url("first")))
    headers = signature_headers(body)
    with caplog.at_level(logging.INFO, logger="newsbot.slack"):
        for _ in range(3):  # an attacker (or a proxy) sends the captured request again, within 5 minutes
            status, _, _ = await http_bot.post(body, "application/x-www-form-urlencoded", headers)
            assert status == 200
    assert sum("replayed request" in r.getMessage() for r in caplog.records) == 2
    # the same question asked again is a new request, with its own signature: answered
    await http_bot.command(CTO_QUESTION, response_url=standin.response_url("second"))
    await http_bot.nothing_more()
    assert sorted(c.path for c in standin.calls_to("response")) == ["/response/first", "/response/second"]
    assert asked == [CTO_QUESTION, CTO_QUESTION]


async def test_replays_and_retries_go_through_the_injected_store(standin, engine):
    class Recording:
        def __init__(self):
            self.keys: list[str] = []

        def first_time(self, key: str) -> bool:
            self.keys.append(key)
            return self.keys.count(key) == 1

    store = Recording()
    async with serve_http(make_settings(standin), Dispatcher(engine), standin, seen=store) as bot:
        body = json.dumps(event_payload(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}"), event_id="Ev0STORE"))
        signed_at = int(time.time())
        await bot.post(body, "application/json", signature_headers(body, timestamp=signed_at))
        await bot.post(body, "application/json", signature_headers(body, timestamp=signed_at - 1))  # a retry
        await bot.nothing_more()
    signatures = [k for k in store.keys if k.startswith("signature:v0=")]
    assert store.keys.count("event:Ev0STORE") == 2 and len(set(signatures)) == len(signatures) >= 2
    assert len(posts_to(standin, "C0NEWS")) == 1


async def test_busy_is_told_only_to_the_asker(standin, engine, monkeypatch):
    entered, gate = threading.Event(), threading.Event()
    real_ask = engine.ask

    def held_ask(question):  # the first question holds the only place in the queue
        entered.set()
        gate.wait(10)
        return real_ask(question)

    monkeypatch.setattr(engine, "ask", held_ask)
    async with serve_http(make_settings(standin), Dispatcher(engine, max_pending=1), standin) as bot:
        try:
            await bot.command(CTO_QUESTION, response_url=standin.response_url("held"))
            assert await asyncio.to_thread(entered.wait, 10)
            await bot.command(CTO_QUESTION, user="UOTHER", response_url=standin.response_url("busy"))
            await bot.event(mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700001000.000100", user="UOTHER"))
            (slash,) = await standin.wait_calls("response")
            (ephemeral,) = await standin.wait_calls("chat.postEphemeral")
        finally:
            gate.set()
        held = await standin.wait_for(lambda: [c for c in standin.calls_to("response") if c.path == "/response/held"])
        await bot.settled()
    assert slash.path == "/response/busy"
    assert (slash.body["text"], slash.body["response_type"]) == (messages.BUSY, "ephemeral")
    assert ephemeral.body["text"] == messages.BUSY
    assert (ephemeral.body["user"], ephemeral.body["thread_ts"]) == ("UOTHER", "1700001000.000100")
    assert posts_to(standin, "C0NEWS") == []  # nothing in the channel for everyone
    assert held[0].body["response_type"] == "in_channel" and "Rahul Patil" in all_text(held[0].body)


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
    await http_bot.nothing_more()
    assert len(posts_to(standin, "D0ASKER")) == 1 and posts_to(standin, "C0NEWS") == []
    assert asked == [CTO_QUESTION]


async def test_retried_event_is_answered_once(http_bot, standin, asked):
    first = mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000400.000100")
    assert (await http_bot.event(first, event_id="Ev0RETRIED"))[0] == 200
    assert (await http_bot.event(first, event_id="Ev0RETRIED", retry_num=1))[0] == 200
    assert (await http_bot.event(first, event_id="Ev0RETRIED", retry_num=2))[0] == 200
    other = mention(f"<@{BOT_USER_ID}> {CTO_QUESTION}", ts="1700000500.000100")
    await http_bot.event(other, event_id="Ev0OTHER")
    await http_bot.nothing_more()
    posts = posts_to(standin, "C0NEWS")
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
    await http_bot.nothing_more()
    assert len(posts_to(standin, "D0ASKER")) == 1


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


async def test_empty_mention_gets_a_usage_hint_only_the_asker_sees(http_bot, standin, asked):
    await http_bot.event(mention(f"<@{BOT_USER_ID}>   ", ts="1700000900.000100"))
    (post,) = await standin.wait_calls("chat.postEphemeral")
    assert post.body["text"] == messages.EMPTY_QUESTION
    assert (post.body["channel"], post.body["user"], post.body["thread_ts"]) == (
        "C0NEWS",
        "UASKER1",
        "1700000900.000100",
    )
    await http_bot.nothing_more()
    assert asked == [] and posts_to(standin, "C0NEWS") == []


# ---------------------------------------------------------------- Socket Mode


@asynccontextmanager
async def socket_bot(standin: SlackStandIn, dispatcher: Dispatcher):
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        slack_api_url=standin.base_url,
        rate_limit_per_minute=0,
    )
    assert settings.slack_mode() == "socket"
    handler = await start_socket_mode(create_app(settings, dispatcher), settings)
    try:
        yield handler
    finally:
        await handler.close_async()


async def test_socket_mode_answers_slash_command_and_mention(standin, engine, asked):
    dispatcher = Dispatcher(engine)
    async with socket_bot(standin, dispatcher) as handler:
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

        # Slack retries the same event in a new envelope: acked, not answered again. The ack
        # comes once the middleware has decided; an answer would then be in flight.
        await standin.wait_ack(
            await standin.send_envelope("events_api", event, retry_attempt=1, retry_reason="timeout")
        )
        assert await dispatcher.wait_delivered(10)
        assert len(standin.calls_to("chat.postMessage")) == 1
        assert asked == [CTO_QUESTION, CTO_QUESTION]
    assert not is_connected(handler)


async def test_socket_mode_reconnects_after_disconnect(standin, engine):
    async with socket_bot(standin, Dispatcher(engine)) as handler:
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
        async with socket_bot(standin, Dispatcher(engine)):
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


@pytest.fixture
def service_logging():
    """The service's logging set-up (bot/serving/logs.py) writing to a buffer; undone afterwards."""
    root = logging.getLogger()
    names = ("slack_bolt", "slack_sdk", "discord.http", "aiohttp.access", "bm25s", "faiss")
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names}
    stream = io.StringIO()

    def setup(level: str) -> io.StringIO:
        setup_logging(Settings(_env_file=None, log_level=level), stream=stream)
        return stream

    yield setup
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_start_up_chatter_from_bolt_and_slack_sdk_only_at_debug(
    standin, engine, monkeypatch, service_logging, level
):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)  # as deployed: Bolt reads it too
    out = service_logging(level)
    async with socket_bot(standin, Dispatcher(engine)):
        await standin.wait_connected()
        await standin.send_disconnect()  # the routine reconnect Slack asks for every few hours
        await standin.wait_connected(2)
    lines = out.getvalue().splitlines()
    chatter = [line for line in lines if " slack_bolt" in line or " slack_sdk" in line]
    if level == "INFO":
        assert chatter == [] and not any("WARNING" in line for line in lines)
        assert [line for line in lines if "newsbot.slack" in line] == [lines[0]] and "Socket Mode connected" in lines[0]
    else:  # there for whoever debugs: the sessions, never the "token will be unused" warning
        assert any("A new session" in line for line in chatter)
        assert not any("unused" in line or "WARNING" in line for line in lines)


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
        "channels:history",
        "groups:history",
    }
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "message.channels",
        "message.groups",
        "app_home_opened",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True  # the feedback buttons
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
