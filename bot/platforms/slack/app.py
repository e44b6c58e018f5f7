"""The Slack edge: a Bolt AsyncApp that turns /ask, mentions and DMs into dispatcher calls.

HTTP mode: `add_http_routes` puts POST /slack/events on the service's aiohttp app. The
signature (v0, HMAC-SHA256, 5-minute window) is checked before the body is parsed, so a
stranger's request costs a 401 and one log line; a signed body that is not a Slack
payload is a 400. Socket Mode: `start_socket_mode` connects with the aiohttp handler.

Each request is taken once: a Slack retry (same event_id) or a replayed request (same
signature) is acknowledged and not answered again. Everything slow happens after Slack
has been acknowledged: Bolt acks events before the listener runs, the slash command
listener calls `ack()` first, and the dispatcher runs the engine off the event loop.
Rendering (escaping, Block Kit limits) is in `render`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import Answer, Reply
from bot.platforms.conversation import (
    MODES,
    Conversation,
    FeedHealth,
    StoreUnavailable,
    answer_lang,
    looks_like_question,
    mode_text,
)
from bot.platforms.reply import feedback_ack
from bot.platforms.slack.render import (
    clean_question,
    context,
    escape,
    is_public,
    parse_vote,
    render_latest,
    render_reply,
    render_text,
    section,
)
from bot.serving.dispatch import Dispatcher
from bot.state.api import Store

log = logging.getLogger("newsbot.slack")

# slack_bolt and slack_sdk log under their own names, which the logging set-up keeps at
# WARNING unless NEWSBOT_LOG_LEVEL=DEBUG: their session and retry chatter is debugging detail.
BOLT_LOGGER = "slack_bolt.AsyncApp"
SOCKET_LOGGER = "slack_sdk.socket_mode.aiohttp"

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"


# ---------------------------------------------------------------- Web API client


def _retry_handlers() -> list:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def _api_url(settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"  # slack_sdk joins by concatenation


def _bolt_app(settings) -> AsyncApp:
    """Bolt with the bot token, its Web API client pointed at `slack_api_url`, with retries.

    Bolt gets the token rather than a client of ours: given a client while SLACK_BOT_TOKEN
    is in the environment, it warns at every start that the token will be unused.
    """
    app = AsyncApp(
        name="newsbot",
        token=settings.secret("slack_bot_token"),
        signing_secret=settings.secret("slack_signing_secret"),
        process_before_response=False,  # ack first, answer afterwards
        logger=logging.getLogger(BOLT_LOGGER),
    )
    app.client.base_url = _api_url(settings)
    app.client.retry_handlers = _retry_handlers()
    return app


# ---------------------------------------------------------------- once only


class FirstTime(Protocol):
    """What the edge needs from a de-duplication store: `SeenKeys`, or `StoreSeen` shared by replicas.
    `first_time` may return a bool or an awaitable of one."""

    def first_time(self, key: str): ...


class SeenKeys:
    """Keys already taken (event ids, request signatures), in memory, bounded in size and age.

    An hour covers Slack's retries (minutes apart) and a signature's life (the signing
    window either side of our clock); older keys are forgotten.
    """

    def __init__(self, max_size: int = 10_000, ttl: float = 3600.0, clock: Callable[[], float] = time.monotonic):
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, key: str) -> bool:
        now = self._clock()
        while self._seen and (len(self._seen) >= self.max_size or now - next(iter(self._seen.values())) > self.ttl):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class StoreSeen:
    """Keys taken by any replica, in the shared store: a retry landing on another replica is still
    answered once. If the store fails, this process's own memory decides (and the failure is logged)."""

    def __init__(self, store: Store, ttl: float = 3600.0):
        self.store = store
        self.ttl = ttl
        self._fallback = SeenKeys(ttl=ttl)

    async def first_time(self, key: str) -> bool:
        try:
            first = await asyncio.to_thread(self.store.first_time, key, self.ttl)
        except Exception:
            log.exception("the shared store could not check a Slack request; checking in this process")
            return self._fallback.first_time(key)
        self._fallback.first_time(key)
        return first


def _once_keys(req: AsyncBoltRequest, body: dict) -> list[tuple[str, str]]:
    """What makes a request one already taken: its signature (HTTP mode), its event id."""
    keys = []
    signature = req.headers.get("x-slack-signature", [""])[0]
    if req.mode == "http" and signature:
        keys.append(("a replayed request", "signature:" + signature))
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        keys.append((f"a retried event {event_id[:40]}", "event:" + event_id))
    return keys


def _once_only(seen: FirstTime):
    """Bolt middleware: a retried event or a replayed request is acknowledged, not answered again."""

    async def once_only(req: AsyncBoltRequest, body: dict, next_) -> BoltResponse | None:
        for what, key in _once_keys(req, body):
            first = seen.first_time(key)
            if inspect.isawaitable(first):
                first = await first
            if not first:
                log.info("skipped %s", what)
                return BoltResponse(status=200, body="")
        await next_()
        return None

    return once_only


# ---------------------------------------------------------------- answering


# Sends one message; returns where a follow-up to it would come from (a thread key) when that is
# only known once it is posted, else None.
Send = Callable[[dict, Reply], Awaitable[str | None]]


def thread_key(channel: str, thread_ts: str) -> str:
    return f"{channel}:{thread_ts}"


class _Answerer:
    """One question in, one message out, an apology if anything on the way fails.

    With a store, the question is searched with its thread's earlier questions, the answer gets
    👍 / 👎 buttons, and the turn is remembered for the thread's next question."""

    def __init__(self, settings, conversation: Conversation):
        self.settings = settings
        self.conversation = conversation

    async def __call__(
        self,
        user: str,
        question: str,
        send: Send,
        *,
        echo: bool,
        thread: str | None = None,
        history: tuple[str, ...] | None = None,
        quiet: bool = False,
    ) -> None:
        """`thread`: the key the answer's follow-ups will come with, if known before sending.
        `quiet`: nobody addressed the bot (a channel set to "all"), so only an answer is sent."""
        conversation = self.conversation
        try:
            if history is None:
                history = await conversation.history(thread)
            reply = await conversation.ask(user, question, history)
            if quiet and reply.kind != "answered":
                return
            answer_id = await conversation.answer_id(question, reply)
            message = self.render(reply, question, echo=echo, answer_id=answer_id)
        except Exception:
            log.exception("could not answer a Slack question")
            reply, message = Reply("error"), render_text(messages.APOLOGY)
        if thread:  # remembered first: once the answer shows, its thread can be followed up
            await conversation.remember(thread, question, reply)
        posted = await self.deliver(send, message, reply)
        if not thread:
            await conversation.remember(posted, question, reply)

    def render(self, reply: Reply, question: str, *, echo: bool = False, answer_id: str | None = None) -> dict:
        return render_reply(
            reply,
            question=question,
            max_question_chars=self.settings.max_question_chars,
            echo_question=echo,
            answer_id=answer_id,
        )

    async def deliver(self, send: Send, message: dict, reply: Reply) -> str | None:
        """Send the message; if that fails, try the apology once."""
        try:
            return await send(message, reply)
        except Exception:
            log.exception("could not deliver a Slack reply (%s)", reply.kind)
        if reply.kind != "error":
            try:
                await send(render_text(messages.say("APOLOGY", reply.lang)), Reply("error", lang=reply.lang))
            except Exception:
                log.exception("could not deliver the apology either")
        return None


def _to_response_url(url: str, *, always_ephemeral: bool) -> Send:
    """A slash command's reply: to the channel if worth it (is_public), else to the asker alone."""
    webhook = AsyncWebhookClient(url=url, retry_handlers=_retry_handlers())

    async def send(message: dict, reply: Reply) -> None:
        public = is_public(reply) and not always_ephemeral
        resp = await webhook.send_dict(dict(message, response_type="in_channel" if public else "ephemeral"))
        if resp.status_code != 200:
            raise RuntimeError(f"response_url answered {resp.status_code}: {resp.body[:200]}")

    return send


# chat.postMessage errors that mean "the bot cannot post here": the response_url still can.
_CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}


def _to_channel(client: AsyncWebClient, channel: str, fallback: Send) -> Send:
    """A slash command's public answer as the bot's own message, so that it opens a thread
    (its ts is the thread's key); where the bot cannot post, and for the rest, the response_url."""

    async def send(message: dict, reply: Reply) -> str | None:
        if is_public(reply):
            try:
                resp = await client.chat_postMessage(channel=channel, **message)
                return thread_key(channel, resp["ts"])
            except SlackApiError as exc:
                if exc.response.get("error") not in _CANNOT_POST:
                    raise
                log.info("cannot post in %s (%s); answering at the response_url", channel, exc.response["error"])
        return await fallback(message, reply)

    return send


def _to_conversation(client: AsyncWebClient, event: dict, thread_ts: str | None, *, direct: bool) -> Send:
    """A mention's or a DM's reply; in a channel, only the asker sees what is not an answer."""

    async def send(message: dict, reply: Reply) -> None:
        where = {"channel": event["channel"], "thread_ts": thread_ts}
        if direct or is_public(reply):
            await client.chat_postMessage(**where, **message)
        else:
            await client.chat_postEphemeral(**where, user=event["user"], **message)

    return send


# ---------------------------------------------------------------- listeners

_LATEST_WORDS = {"latest", "terbaru"}
_ADMIN = re.compile(r"(mode|status)(?:\s+(\S+))?", re.IGNORECASE)


def _listen_to_the_command(app: AsyncApp, settings, answer: _Answerer) -> None:
    """The slash command: acknowledged at once (with a usage hint if empty), answered at its
    response_url (or, with a store, in a message of the bot's own that opens a thread).
    `/ask latest`, `/ask status` and `/ask mode all|mention` (admins) are answered to the asker alone."""
    conversation = answer.conversation

    @app.command(settings.slack_command)
    async def on_command(ack, command: dict, client: AsyncWebClient) -> None:
        question = clean_question(command.get("text", ""))
        if not question:
            await ack(text=messages.USAGE_SLASH.format(command=settings.slack_command), response_type="ephemeral")
            return
        if question.casefold() in _LATEST_WORDS:
            lang = "id" if question.casefold() == "terbaru" else "en"
            await ack(response_type="ephemeral", **render_latest(conversation.dispatcher.latest(), lang))
            return
        if admin := _ADMIN.fullmatch(question):
            await ack()
            await _admin_command(settings, conversation, command, admin.group(1).lower(), admin.group(2))
            return
        await ack()
        url = command.get("response_url")
        if not url:
            log.error("slash command without a response_url; cannot answer")
            return
        send = _to_response_url(url, always_ephemeral=settings.slack_ephemeral)
        channel = command.get("channel_id")
        if conversation.remembers and channel and not settings.slack_ephemeral:
            send = _to_channel(client, channel, send)
        await answer(command.get("user_id", ""), question, send, echo=True)


async def _admin_command(settings, conversation: Conversation, command: dict, verb: str, arg: str | None) -> None:
    """`status` for anyone; `mode` shown to anyone, changed only by a user in NEWSBOT_SLACK_ADMINS."""
    lang, channel = "en", command.get("channel_id", "")
    lines: list[str] = []
    if verb == "mode" and arg is not None:
        if command.get("user_id") not in settings.slack_admins:
            lines = [messages.say("ADMIN_ONLY_SLACK", lang)]
        elif arg.lower() not in MODES:
            lines = [messages.say("SLACK_ADMIN_USAGE", lang).format(command=settings.slack_command)]
        elif not conversation.remembers:
            lines = [messages.say("NO_STORE", lang)]
        else:
            try:
                await conversation.set_mode(channel, arg.lower())
                lines = [mode_text(arg.lower(), lang, changed=True), *conversation.status_lines(lang)]
            except StoreUnavailable:
                lines = [messages.say("STATE_UNAVAILABLE", lang)]
    if not lines:
        if conversation.remembers:
            lines.append(mode_text(await conversation.mode(channel), lang))
        lines.extend(conversation.status_lines(lang))
    url = command.get("response_url")
    if url:
        send = _to_response_url(url, always_ephemeral=True)
        try:
            await send({"text": escape("\n".join(lines))}, Reply("error"))
        except Exception:
            log.exception("could not answer a Slack admin command")


def _listen_to_conversations(app: AsyncApp, answer: _Answerer) -> None:
    """Mentions in a channel (answered in their thread), direct messages to the bot, and, with a
    store, follow-ups in the bot's threads and questions in channels set to "all" (no mention needed)."""
    conversation = answer.conversation

    async def reply_to(
        client, event: dict, bot_user_id: str | None, thread_ts: str | None, *, direct: bool, **options
    ) -> None:
        question = clean_question(event.get("text", ""), bot_user_id)
        send = _to_conversation(client, event, thread_ts, direct=direct)
        if not question:
            empty = Reply("declined", Answer("", False, reason="empty"))
            await answer.deliver(send, answer.render(empty, ""), empty)
            return
        await answer(event.get("user", ""), question, send, echo=False, **options)

    @app.event("app_mention")
    async def on_mention(event: dict, context, client: AsyncWebClient) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return
        thread_ts = event.get("thread_ts") or event.get("ts")
        thread = thread_key(event["channel"], thread_ts) if thread_ts else None
        await reply_to(client, event, context.bot_user_id, thread_ts, direct=False, thread=thread)

    @app.event("message")
    async def on_message(event: dict, context, client: AsyncWebClient) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, bots (this one included)
        if not event.get("user") or event.get("user") == context.bot_user_id:
            return
        if event.get("channel_type") == "im":
            await reply_to(client, event, context.bot_user_id, event.get("thread_ts"), direct=True)
            return
        text = event.get("text", "")
        if not conversation.remembers or f"<@{context.bot_user_id}" in text:
            return  # a mention arrives as app_mention too, and is answered there
        question = clean_question(text, context.bot_user_id)
        if not looks_like_question(question):
            return
        channel, thread_ts = event.get("channel", ""), event.get("thread_ts")
        if thread_ts:  # a follow-up, if this is one of the bot's threads
            thread = thread_key(channel, thread_ts)
            history = await conversation.history(thread)
            if history:
                await reply_to(client, event, None, thread_ts, direct=False, thread=thread, history=history)
        elif await conversation.mode(channel) == "all":
            ts = event.get("ts", "")
            await reply_to(client, event, None, ts, direct=False, thread=thread_key(channel, ts), quiet=True)


def _listen_to_votes(app: AsyncApp, conversation: Conversation) -> None:
    """👍 / 👎 clicks: recorded once per user per answer (a second click changes the verdict),
    acknowledged to the clicker alone."""

    @app.action(re.compile(r"newsbot_vote_(up|down)"))
    async def on_vote(ack, body: dict, action: dict, respond, client: AsyncWebClient) -> None:
        await ack()
        parsed = parse_vote(action.get("action_id"), action.get("value"))
        user = (body.get("user") or {}).get("id", "")
        if parsed is None or not user:
            return
        verdict, answer_id = parsed
        lang = answer_lang(answer_id)
        try:
            known, changed = await conversation.vote(user, answer_id, verdict)
            text = feedback_ack(verdict, lang, changed=changed, known=known)
        except StoreUnavailable:
            text = messages.say("STATE_UNAVAILABLE", lang)
        try:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:
                channel = (body.get("channel") or {}).get("id")
                thread_ts = (body.get("message") or {}).get("thread_ts")
                await client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except Exception:
            log.exception("could not acknowledge a vote")


def _home_view(settings, conversation: Conversation) -> dict:
    """The App Home tab: how to ask, and what the archive holds, in both languages the bot speaks."""
    blocks: list[dict] = []
    for lang in ("en", "id"):
        if blocks:
            blocks.append({"type": "divider"})
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": messages.say("HOME_HEADING", lang)}})
        blocks.append(section(messages.say("HOME_HOW", lang).format(command=settings.slack_command)))
        blocks.append(context(*(escape(line) for line in conversation.status_lines(lang)[:10])))
    return {"type": "home", "blocks": blocks}


def _listen_to_home(app: AsyncApp, settings, conversation: Conversation) -> None:
    @app.event("app_home_opened")
    async def on_home(event: dict, client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        await client.views_publish(user_id=event["user"], view=_home_view(settings, conversation))


async def _log_listener_error(error: Exception) -> None:
    log.error("unhandled error in a Slack listener", exc_info=error)


def create_app(
    settings,
    dispatcher: Dispatcher,
    *,
    seen: FirstTime | None = None,
    store: Store | None = None,
    feed_health: FeedHealth | None = None,
) -> AsyncApp:
    """The Bolt app: its Web API client, the once-only middleware, and the listeners.

    With `store` (bot.state), threads, votes and channel modes are remembered and retries are
    recognised by every replica; `feed_health` (FeedPoller.health) adds the feeds to the status."""
    app = _bolt_app(settings)
    conversation = Conversation(PLATFORM, dispatcher, store, feed_health=feed_health)
    answer = _Answerer(settings, conversation)
    if seen is None:
        seen = StoreSeen(store) if store is not None else SeenKeys()
    app.middleware(_once_only(seen))
    _listen_to_the_command(app, settings, answer)
    _listen_to_conversations(app, answer)
    _listen_to_votes(app, conversation)
    _listen_to_home(app, settings, conversation)
    app.error(_log_listener_error)
    return app


# ---------------------------------------------------------------- HTTP mode


class _Refused(Exception):
    """A request turned away before Bolt sees it: the HTTP status, and the reason for the log."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _signed_text(raw: bytes, headers: Mapping[str, str], verifier: SignatureVerifier) -> str:
    """The body as text, if Slack signed it within the signing window; else _Refused."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise _Refused(401, "missing or non-numeric X-Slack-Request-Timestamp")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "body is not UTF-8") from None
    signature = headers.get("X-Slack-Signature", "")
    if not signature.isascii() or not verifier.is_valid(text, timestamp, signature):  # hmac compares ASCII only
        raise _Refused(401, "bad signature, or timestamp more than 5 minutes away")
    return text


def _bolt_request(text: str, request: web.Request) -> AsyncBoltRequest:
    """A signed body as Bolt's request; _Refused(400) if it is not a Slack payload."""
    try:
        bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=request.headers)
    except Exception as exc:  # Bolt parses JSON or a form, then reads fields: any failure is a bad body
        raise _Refused(400, f"body is not a Slack payload ({type(exc).__name__})") from None
    if not isinstance(bolt_request.body.get("event", {}), dict):
        raise _Refused(400, "body is not a Slack payload (event is not an object)")
    return bolt_request


def add_http_routes(web_app: web.Application, bolt_app: AsyncApp, signing_secret: str | None = None) -> None:
    """POST /slack/events on the service's aiohttp app.

    `signing_secret` defaults to the one the Bolt app was built with (Bolt keeps no public copy).
    """
    verifier = SignatureVerifier(signing_secret or bolt_app._signing_secret)

    async def slack_events(request: web.Request) -> web.Response:
        try:
            bolt_request = _bolt_request(_signed_text(await request.read(), request.headers, verifier), request)
        except _Refused as refused:
            log.warning("refused a request from %s: %s (HTTP %d)", request.remote, refused.reason, refused.status)
            return web.Response(status=refused.status, text=refused.reason)
        return await to_aiohttp_response(await bolt_app.async_dispatch(bolt_request))

    web_app.router.add_post(EVENTS_PATH, slack_events)


# ---------------------------------------------------------------- start-up and Socket Mode


# Web API errors that mean "this token is no good", as opposed to "try again later".
_AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
    "missing_scope",
}


async def _call(client: AsyncWebClient, setting: str, where: str, method: str, **kwargs):
    """One Web API call at start-up, its failure turned into a message naming the fix."""
    try:
        return await getattr(client, method)(**kwargs)
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error in _AUTH_ERRORS:
            raise ConfigError(messages.SLACK_TOKEN_REJECTED.format(setting=setting, error=error, where=where)) from None
        raise NewsbotError(messages.SLACK_UNREACHABLE.format(url=client.base_url, detail=error)) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise NewsbotError(
            messages.SLACK_UNREACHABLE.format(url=client.base_url, detail=str(exc) or type(exc).__name__)
        ) from None


async def check_slack_auth(bolt_app: AsyncApp) -> dict:
    """Ask Slack (auth.test) whether SLACK_BOT_TOKEN works; returns the bot's identity.

    Raises ConfigError naming SLACK_BOT_TOKEN if Slack rejects it, NewsbotError if Slack
    cannot be reached. Optional in HTTP mode (Bolt calls auth.test at the first request).
    """
    resp = await _call(bolt_app.client, "SLACK_BOT_TOKEN", "OAuth & Permissions, Bot User OAuth Token", "auth_test")
    return dict(resp.data)


async def start_socket_mode(bolt_app: AsyncApp, settings, *, connect_timeout: float = 30.0) -> AsyncSocketModeHandler:
    """Connect to Slack over Socket Mode; the caller awaits `handler.close_async()` at shutdown.

    Both tokens are checked first, so a bad one stops start-up with a message naming it
    instead of a reconnect loop; reconnecting after Slack's `disconnect` is the handler's.
    """
    app_token = settings.secret("slack_app_token")
    await check_slack_auth(bolt_app)
    handler = AsyncSocketModeHandler(
        bolt_app,
        app_token=app_token,
        logger=logging.getLogger(SOCKET_LOGGER),
        web_client=bolt_app.client,
    )
    try:
        opened = await _call(
            bolt_app.client,
            "SLACK_APP_TOKEN",
            "Basic Information, App-Level Tokens, scope connections:write",
            "apps_connections_open",
            app_token=app_token,
        )
        handler.client.wss_uri = opened["url"]
        try:
            await asyncio.wait_for(handler.connect_async(), connect_timeout)
        except asyncio.TimeoutError:
            raise NewsbotError(
                messages.SLACK_UNREACHABLE.format(
                    url=opened["url"].split("?")[0], detail=f"no websocket after {connect_timeout:g} s"
                )
            ) from None
    except BaseException:
        await handler.close_async()
        raise
    log.info("Slack Socket Mode connected")
    return handler


def is_connected(handler) -> bool:
    """For /readyz: HTTP mode (no handler) is always ready; Socket Mode needs an open session."""
    if handler is None:
        return True
    client = handler.client
    session = getattr(client, "current_session", None)
    if client.closed or getattr(client, "stale", False) or session is None or session.closed:
        return False
    last = getattr(client, "last_ping_pong_time", None)
    return last is None or time.time() - last < client.ping_interval * 4
