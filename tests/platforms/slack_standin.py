"""A stand-in for Slack, served on 127.0.0.1, for tests of the Slack edge.

It plays the few parts of Slack the bot talks to:

- the Web API at `{base_url}{method}`: `auth.test`, `chat.postMessage`,
  `chat.postEphemeral`, `views.publish` and `apps.connections.open` (checking for the
  right kind of token, as Slack does; `not_in_channel` for a channel in `outside`), and
  `ok: false, error: unknown_method` for anything else;
- `response_url`s at `/response/{name}`;
- the Socket Mode websocket handed out by `apps.connections.open`, speaking the
  envelope protocol: a `hello` on connect, envelopes with an `envelope_id` sent by the
  test, acks recorded, and a `disconnect` message on demand.

Every request is recorded. Tokens in `rejected_tokens` get `invalid_auth`.
`rate_limit_once(method)` makes the next call of a method
answer 429 with `Retry-After`, as Slack does. Waits are bounded: they raise
`TimeoutError` instead of hanging a test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBOT0NEWS"
BOT_ID = "BBOT0NEWS"
TEAM_ID = "T0TEAM"
APP_ID = "A0NEWSBOT"


@dataclass
class Call:
    """One request the stand-in received."""

    path: str
    method: str  # Web API method, "response" for a response_url, "ws" for a websocket
    body: dict
    headers: dict
    status: int = 200


@dataclass
class SlackStandIn:
    host: str = "127.0.0.1"
    calls: list[Call] = field(default_factory=list)
    acks: list[dict] = field(default_factory=list)
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    connections: int = 0  # websocket connections ever accepted
    retry_after: int = 1
    rejected_tokens: set[str] = field(default_factory=set)  # answered with invalid_auth
    outside: set[str] = field(default_factory=set)  # channels the bot is not in: chat.postMessage fails

    def __post_init__(self) -> None:
        self._rate_limited: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._ts = itertools.count(1)
        self.port = 0

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> SlackStandIn:
        app = web.Application()
        app.router.add_post("/api/{method}", self._web_api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What NEWSBOT_SLACK_API_URL points at (with the trailing slash slack_sdk needs)."""
        return f"{self.url}/api/"

    def response_url(self, name: str = "") -> str:
        return f"{self.url}/response/{name or uuid.uuid4().hex}"

    # ------------------------------------------------------------ queries

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def rate_limit_once(self, method: str) -> None:
        """The next call of `method` answers 429 with Retry-After, like Slack's rate limiter."""
        self._rate_limited[method] = self._rate_limited.get(method, 0) + 1

    async def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until `predicate()` is truthy and return its value; TimeoutError after `timeout`."""

        async def until():
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

        return await asyncio.wait_for(until(), timeout)

    async def wait_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        return await self.wait_for(
            lambda: self.calls_to(method) if len(self.calls_to(method)) >= count else None, timeout
        )

    async def _record(self, call: Call | None = None) -> None:
        async with self._changed:
            if call is not None:
                self.calls.append(call)
            self._changed.notify_all()

    # ------------------------------------------------------------ Web API

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        body = json.loads(raw) if request.content_type == "application/json" and raw else dict(parse_qsl(raw))
        body.update({k: v for k, v in request.query.items() if k not in body})
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth else body.get("token", "")
        call = Call(request.path, method, body, dict(request.headers))

        if self._rate_limited.get(method):
            self._rate_limited[method] -= 1
            call.status = 429
            await self._record(call)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        await self._record(call)

        if token in self.rejected_tokens:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            if not token.startswith("xoxb-"):
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response(
                {
                    "ok": True,
                    "url": "https://newsbot-test.slack.com/",
                    "team": "Test",
                    "user": "newsbot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "is_enterprise_install": False,
                }
            )
        if method == "chat.postMessage":
            if not token.startswith("xoxb-"):
                return web.json_response({"ok": False, "error": "not_authed"})
            if body.get("channel") in self.outside:
                return web.json_response({"ok": False, "error": "not_in_channel"})
            ts = f"1700000000.{next(self._ts):06d}"
            message = {k: v for k, v in body.items() if k != "channel"}
            return web.json_response(
                {
                    "ok": True,
                    "channel": body.get("channel"),
                    "ts": ts,
                    "message": dict(message, type="message", ts=ts, bot_id=BOT_ID),
                }
            )
        if method == "chat.postEphemeral":
            if not token.startswith("xoxb-"):
                return web.json_response({"ok": False, "error": "not_authed"})
            if not body.get("user"):
                return web.json_response({"ok": False, "error": "user_not_in_channel"})
            return web.json_response({"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"})
        if method == "views.publish":
            if not token.startswith("xoxb-"):
                return web.json_response({"ok": False, "error": "not_authed"})
            view = json.loads(body["view"]) if isinstance(body.get("view"), str) else body.get("view")
            if not body.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
                return web.json_response({"ok": False, "error": "invalid_arguments"})
            return web.json_response({"ok": True, "view": dict(view, id="V0HOME")})
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            return web.json_response(
                {"ok": True, "url": f"ws://{self.host}:{self.port}/link/?ticket={uuid.uuid4().hex}"}
            )
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        await self._record(Call(request.path, "response", body, dict(request.headers)))
        return web.Response(text="ok")

    # ------------------------------------------------------------ Socket Mode

    @property
    def socket(self) -> web.WebSocketResponse | None:
        """The newest open websocket."""
        open_ = [ws for ws in self.sockets if not ws.closed]
        return open_[-1] if open_ else None

    async def wait_connected(self, connections: int = 1, timeout: float = 10.0) -> web.WebSocketResponse:
        """Wait until `connections` websockets were ever accepted and one is open."""
        return await self.wait_for(lambda: self.socket if self.connections >= connections else None, timeout)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections += 1
        self.sockets.append(ws)
        await self._record(Call(request.path_qs, "ws", {}, dict(request.headers)))
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "standin", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    async with self._changed:
                        self.acks.append(data)
                        self._changed.notify_all()
        finally:
            await self._record()
        return ws

    async def send_envelope(
        self,
        type_: str,
        payload: dict,
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
    ) -> str:
        """Send one envelope (`slash_commands`, `events_api`, `interactive`); return its id."""
        ws = self.socket
        if ws is None:
            raise RuntimeError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": (type_ != "events_api")
            if accepts_response_payload is None
            else accepts_response_payload,
        }
        if type_ == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        await ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> dict:
        return await self.wait_for(
            lambda: next((a for a in self.acks if a.get("envelope_id") == envelope_id), None), timeout
        )

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours."""
        ws = self.socket
        if ws is None:
            raise RuntimeError("no Socket Mode connection is open")
        await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})
