"""The Slack edge: a Bolt AsyncApp that turns /ask, mentions and DMs into dispatcher calls.

HTTP mode: `add_http_routes` puts POST /slack/events on the service's aiohttp app; Bolt
checks the signature (v0, HMAC-SHA256, 5-minute window) before any listener runs.
Socket Mode: `start_socket_mode` connects with the aiohttp-based handler.

Everything slow happens after Slack has been acknowledged: Bolt acks events before the
listener runs, the slash command listener calls `ack()` first, and the dispatcher runs
the engine in a thread. Rendering (escaping, Block Kit limits) is in `slack_render`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import Reply
from bot.platforms.slack.render import clean_question, is_public, render_reply, render_text
from bot.serving.dispatch import Dispatcher

log = logging.getLogger("newsbot.slack")

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
DEFAULT_API_URL = "https://slack.com/api/"


# ---------------------------------------------------------------- settings


def _retry_handlers() -> list:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def _api_url(settings) -> str:
    url = settings.slack_api_url or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"  # slack_sdk joins by concatenation


# ---------------------------------------------------------------- de-duplication


class SeenEvents:
    """Event ids already taken, so a Slack retry (X-Slack-Retry-Num) is not answered twice.

    Bounded and time-limited: Slack retries within minutes, never hours.
    """

    def __init__(self, max_size: int = 5000, ttl: float = 3600.0, clock=time.monotonic):
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, event_id: str) -> bool:
        now = self._clock()
        while self._seen and (len(self._seen) >= self.max_size or now - next(iter(self._seen.values())) > self.ttl):
            self._seen.popitem(last=False)
        if event_id in self._seen:
            return False
        self._seen[event_id] = now
        return True


# ---------------------------------------------------------------- the app


Send = Callable[[dict, Reply], Awaitable[None]]


class _Answerer:
    """One question in, one message out, an apology if anything on the way fails."""

    def __init__(self, settings, dispatcher: Dispatcher):
        self.settings = settings
        self.dispatcher = dispatcher

    async def __call__(self, user: str, question: str, send: Send, *, echo: bool) -> None:
        try:
            reply = await self.dispatcher.ask(PLATFORM, user, question)
            message = render_reply(
                reply,
                question=question,
                max_question_chars=self.settings.max_question_chars,
                echo_question=echo,
            )
        except Exception:
            log.exception("could not answer a Slack question")
            reply, message = Reply("error"), render_text(messages.APOLOGY)
        try:
            await send(message, reply)
            return
        except Exception:
            log.exception("could not deliver a Slack reply (%s)", reply.kind)
        if reply.kind != "error":
            try:
                await send(render_text(messages.APOLOGY), Reply("error"))
            except Exception:
                log.exception("could not deliver the apology either")


def create_app(settings, dispatcher: Dispatcher) -> AsyncApp:
    """The Bolt app with its listeners; its WebClient talks to `slack_api_url`."""
    client = AsyncWebClient(
        token=settings.secret("slack_bot_token"),
        base_url=_api_url(settings),
        retry_handlers=_retry_handlers(),
        logger=logging.getLogger("newsbot.slack.web"),
    )
    app = AsyncApp(
        name="newsbot",
        client=client,
        signing_secret=settings.secret("slack_signing_secret"),
        process_before_response=False,  # ack first, answer afterwards
        logger=logging.getLogger("newsbot.slack.bolt"),
    )
    answer = _Answerer(settings, dispatcher)
    seen = SeenEvents()

    @app.middleware
    async def skip_retried_events(body: dict, next, logger) -> BoltResponse | None:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and not seen.first_time(event_id):
            logger.info("skipping a retried Slack event %s", event_id)
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.command(settings.slack_command)
    async def on_command(ack, command: dict) -> None:
        question = clean_question(command.get("text", ""))
        if not question:
            await ack(text=messages.USAGE_SLASH.format(command=settings.slack_command), response_type="ephemeral")
            return
        await ack()
        url = command.get("response_url")
        if not url:
            log.error("slash command without a response_url; cannot answer")
            return
        webhook = AsyncWebhookClient(
            url=url, retry_handlers=_retry_handlers(), logger=logging.getLogger("newsbot.slack.web")
        )

        async def send(message: dict, reply: Reply) -> None:
            public = is_public(reply) and not settings.slack_ephemeral
            body = dict(message, response_type="in_channel" if public else "ephemeral")
            resp = await webhook.send_dict(body)
            if resp.status_code != 200:
                raise RuntimeError(f"response_url answered {resp.status_code}: {resp.body[:200]}")

        await answer(command.get("user_id", ""), question, send, echo=True)

    async def reply_in(client: AsyncWebClient, event: dict, question: str, thread_ts: str | None) -> None:
        async def send(message: dict, reply: Reply) -> None:
            await client.chat_postMessage(channel=event["channel"], thread_ts=thread_ts, **message)

        if not question:
            try:
                await send(render_text(messages.EMPTY_QUESTION), Reply("declined"))
            except Exception:
                log.exception("could not deliver a Slack usage hint")
            return
        await answer(event.get("user", ""), question, send, echo=False)

    @app.event("app_mention")
    async def on_mention(event: dict, context, client: AsyncWebClient) -> None:
        if event.get("bot_id") or event.get("subtype"):
            return
        question = clean_question(event.get("text", ""), context.bot_user_id)
        await reply_in(client, event, question, event.get("thread_ts") or event.get("ts"))

    @app.event("message")
    async def on_message(event: dict, context, client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im":
            return  # channel messages arrive as app_mention
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, bots (this one included)
        if not event.get("user") or event.get("user") == context.bot_user_id:
            return
        question = clean_question(event.get("text", ""), context.bot_user_id)
        await reply_in(client, event, question, event.get("thread_ts"))

    @app.error
    async def on_error(error, body, logger) -> None:
        logger.error("unhandled error in a Slack listener", exc_info=error)

    return app


# ---------------------------------------------------------------- transports


def add_http_routes(web_app: web.Application, bolt_app: AsyncApp) -> None:
    """POST /slack/events on the service's aiohttp app (signature checked by Bolt)."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    web_app.router.add_post(EVENTS_PATH, slack_events)


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
        logger=logging.getLogger("newsbot.slack.socket"),
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
