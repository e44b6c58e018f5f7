"""A local stand-in for Discord, for tests: REST API and gateway on 127.0.0.1.

The real discord.py client logs in, syncs commands, connects to the gateway and sends
messages here exactly as it would to Discord (point `discord.http.Route.BASE` at
`api_url` and `DiscordWebSocket.DEFAULT_GATEWAY` at `gateway_url`). Every REST request
and every gateway frame the client sends is recorded for the test to inspect.

What it speaks, and the details discord.py depends on:
- REST: `GET /users/@me` (401 for a wrong token), `GET /oauth2/applications/@me`,
  `PUT` command sync (global and guild), `POST /channels/{id}/messages` and `/typing`,
  `POST /interactions/{id}/{token}/callback`, webhook follow-ups
  `POST /webhooks/{app}/{token}`, `PATCH`/`DELETE .../messages/@original`,
  `GET /gateway` and `/gateway/bot`, `POST /channels/{id}/messages/{id}/threads` (a thread
  on a message, with the message's id, announced by THREAD_CREATE). JSON responses carry
  `Content-Type` exactly `application/json` (discord.py ignores the body otherwise).
- Interactions as Discord sends them: slash commands (`command_interaction`, with the
  member's permissions) and button clicks (`component_interaction`, on a message the bot sent).
- `fail_next` answers the next matching request with an error once; a 429 carries the
  `Via` header and a JSON body, or discord.py takes it for a Cloudflare ban.
- Gateway: HELLO, heartbeat ACKs, IDENTIFY → READY + GUILD_CREATE, RESUME → replay of
  the missed events + RESUMED (or INVALID_SESSION for an unknown session), 4004 for a
  wrong token, 4014 for the Message Content intent when `refuse_message_content` is set (as
  Discord does when the intent is not enabled in the portal), `close_gateway(4000)` to drop
  the connection. Frames are JSON text, which discord.py reads whatever compression it asked for.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"
MESSAGE_CONTENT_INTENT = 1 << 15
EPHEMERAL = 1 << 6
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = 2248473465835073  # what an ordinary member may do (no Manage Server)


@dataclass
class Recorded:
    method: str
    path: str  # below the API base, e.g. /channels/123/messages
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    method: str
    pattern: str
    status: int
    body: dict
    headers: dict[str, str]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly "application/json": aiohttp's json_response would add "; charset=utf-8"
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class DiscordStandin:
    def __init__(self, *, token: str = "standin-token", heartbeat_interval: float = 0.5) -> None:
        self.token = token
        self.heartbeat_interval = heartbeat_interval
        ids = itertools.count(1_300_000_000_000_000_000)
        self._ids = ids
        self.app_id = next(ids)
        self.guild_id = next(ids)
        self.channel_id = next(ids)
        self.thread_id = next(ids)
        self.dm_channel_id = next(ids)
        self.command_id = next(ids)
        self.bot_user = self.user(self.app_id, "newsbot", bot=True)
        self.person = self.user(next(ids), "asker")
        self.other_person = self.user(next(ids), "bystander")
        self.other_bot = self.user(next(ids), "otherbot", bot=True)

        self.refuse_message_content = False
        self.sent: dict[str, dict] = {}  # every message the bot sent, by id
        self.threads: dict[str, dict] = {}  # threads the bot opened, by id
        self.requests: list[Recorded] = []
        self.frames: list[dict] = []  # every gateway frame the client sent
        self.connections: list[dict[str, str]] = []  # query string of every gateway connection
        self.session_id: str | None = None
        self.replayed = 0
        self._events: list[dict] = []  # dispatched events of the current session, with "s"
        self._seq = 0
        self._live: web.WebSocketResponse | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._failures: list[_Failure] = []
        self._changed = asyncio.Condition()
        self._send_lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001)
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # what tests use

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (checked on every request and frame)."""

        async def _wait():
            async with self._changed:
                while not (result := predicate()):
                    try:  # also look now and then, for changes on the client's side
                        await asyncio.wait_for(self._changed.wait(), 0.05)
                    except asyncio.TimeoutError:
                        pass
                return result

        return await asyncio.wait_for(_wait(), timeout)

    def find(self, method: str, pattern: str, status: int | None = 200) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.method == method and re.fullmatch(pattern, r.path) and (status is None or r.status == status)
        ]

    async def wait_request(
        self, method: str, pattern: str, *, count: int = 1, timeout: float = 5.0, status: int | None = 200
    ) -> list[Recorded]:
        return await self.wait_for(
            lambda: (found := self.find(method, pattern, status)) and len(found) >= count and found, timeout
        )

    def fail_next(self, method: str, pattern: str, status: int = 429, retry_after: float = 0.3) -> None:
        """Answer the next matching request with `status` (a 429 as Discord sends it)."""
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            headers = {"Via": "1.1 google", "Retry-After": str(max(1, round(retry_after)))}
        else:
            body, headers = {"message": f"{status}: stand-in failure", "code": 0}, {}
        self._failures.append(_Failure(method, pattern, status, body, headers))

    async def dispatch(self, event: str, data: dict) -> None:
        """Send an event on the live session; while disconnected it waits for a RESUME."""
        async with self._send_lock:
            frame = self._next_event(event, data)
            if self._live is not None:
                await self._live.send_str(json.dumps(frame))

    async def close_gateway(self, code: int = 4000) -> None:
        ws, self._live = self._live, None
        if ws is not None:
            await ws.close(code=code)

    @property
    def last_seq(self) -> int:
        """The sequence number of the last event of the session."""
        return self._seq

    def identifies(self) -> list[dict]:
        return [f["d"] for f in self.frames if f.get("op") == 2]

    def resumes(self) -> list[dict]:
        return [f["d"] for f in self.frames if f.get("op") == 6]

    def heartbeats(self) -> list[dict]:
        return [f for f in self.frames if f.get("op") == 1]

    # payload builders

    def snowflake(self) -> int:
        return next(self._ids)

    @staticmethod
    def user(user_id: int, name: str, bot: bool = False) -> dict:
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": name,
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def member(self, user: dict, permissions: str | None = None) -> dict:
        data = {
            "user": user,
            "roles": [],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "pending": False,
        }
        if permissions is not None:
            data["permissions"] = permissions
        return data

    def message(
        self,
        content: str,
        *,
        author: dict | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        mentions: list[dict] = (),
        reply_to: dict | None = None,
    ) -> dict:
        """A MESSAGE_CREATE payload; `mentions` as Discord computes them from the content;
        `reply_to`: the message it replies to (Discord then mentions that message's author)."""
        author = author or self.person
        data = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id or (self.dm_channel_id if dm else self.channel_id)),
            "author": author,
            "content": content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in content,
            "mentions": list(mentions),
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 19 if reply_to else 0,
            "flags": 0,
        }
        if reply_to:
            data["message_reference"] = {"message_id": reply_to["id"], "channel_id": reply_to["channel_id"]}
            data["referenced_message"] = reply_to
            data["mentions"] = [*data["mentions"], reply_to["author"]]
        if not dm:
            data["guild_id"] = str(self.guild_id)
            data["member"] = {k: v for k, v in self.member(author).items() if k != "user"}
        return data

    def mention(self, question: str, **kwargs) -> dict:
        """A message that @mentions the bot, as Discord delivers it."""
        return self.message(f"<@{self.app_id}> {question}", mentions=[self.bot_user], **kwargs)

    def ask_interaction(self, question: str, *, user: dict | None = None, private: bool | None = None) -> dict:
        """INTERACTION_CREATE for `/ask question:<question>` in the guild's text channel."""
        options = [{"name": "question", "type": 3, "value": question}]
        if private is not None:
            options.append({"name": "private", "type": 5, "value": private})
        return self.command_interaction("ask", options, user=user)

    def command_interaction(
        self,
        name: str,
        options: list[dict] = (),
        *,
        user: dict | None = None,
        permissions: int = MEMBER_PERMISSIONS,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> dict:
        """INTERACTION_CREATE for a slash command; `permissions`: the member's, as Discord resolves them."""
        return {
            **self._interaction(2, user, permissions, channel_id, locale),
            "data": {
                "id": str(self.command_id),
                "name": name,
                "type": 1,
                "guild_id": str(self.guild_id),
                "options": list(options),
            },
        }

    def component_interaction(self, custom_id: str, message: dict, *, user: dict | None = None) -> dict:
        """INTERACTION_CREATE for a click on a button of `message` (one the bot sent)."""
        return {
            **self._interaction(3, user, MEMBER_PERMISSIONS, int(message["channel_id"]), "en-US"),
            "message": message,
            "data": {"custom_id": custom_id, "component_type": 2},
        }

    def _interaction(self, kind: int, user, permissions: int, channel_id: int | None, locale: str) -> dict:
        channel = {**self._text_channel(), "permissions": str(permissions)}
        if channel_id and str(channel_id) in self.threads:
            channel = {**self.threads[str(channel_id)], "permissions": str(permissions)}
        return {
            "id": str(self.snowflake()),
            "application_id": str(self.app_id),
            "type": kind,
            "token": f"interaction-token-{self.snowflake()}",
            "version": 1,
            "guild_id": str(self.guild_id),
            "channel_id": channel["id"],
            "channel": channel,
            "member": self.member(user or self.person, permissions=str(permissions)),
            "app_permissions": str(MEMBER_PERMISSIONS),
            "locale": locale,
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    # the gateway

    def _next_event(self, event: str, data: dict) -> dict:
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(frame)
        return frame

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        self.connections.append(dict(request.query))
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                await self._note(lambda frame=frame: self.frames.append(frame))
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._identify(ws, frame["d"])
                elif op == 6:
                    await self._resume(ws, frame["d"])
        finally:
            self._sockets.discard(ws)
            if self._live is ws:
                self._live = None
        return ws

    async def _identify(self, ws: web.WebSocketResponse, d: dict) -> None:
        if d.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if self.refuse_message_content and d.get("intents", 0) & MESSAGE_CONTENT_INTENT:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        async with self._send_lock:
            self.session_id = f"session-{self.snowflake()}"
            self._events, self._seq = [], 0
            ready = {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                "session_id": self.session_id,
                "resume_gateway_url": self.gateway_url,
                "shard": d.get("shard", [0, 1]),
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "user_settings": {},
            }
            for frame in (self._next_event("READY", ready), self._next_event("GUILD_CREATE", self._guild())):
                await ws.send_str(json.dumps(frame))
            self._live = ws
        await self._note(lambda: None)

    async def _resume(self, ws: web.WebSocketResponse, d: dict) -> None:
        if d.get("token") != self.token or d.get("session_id") != self.session_id:
            await ws.send_str(json.dumps({"op": 9, "d": False}))
            return
        async with self._send_lock:
            for frame in self._events:
                if frame["s"] > (d.get("seq") or 0):
                    self.replayed += 1
                    await ws.send_str(json.dumps(frame))
            self._seq += 1
            await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}}))
            self._live = ws
        await self._note(lambda: None)

    def _text_channel(self) -> dict:
        return {
            "id": str(self.channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": "general",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _guild(self) -> dict:
        thread = {
            "id": str(self.thread_id),
            "type": 11,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.channel_id),
            "owner_id": self.person["id"],
            "name": "a thread",
            "message_count": 1,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }
        everyone = {
            "id": str(self.guild_id),
            "name": "@everyone",
            "permissions": "2248473465835073",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": str(self.guild_id),
            "name": "Stand-in Server",
            "unavailable": False,
            "owner_id": self.person["id"],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "joined_at": TIMESTAMP,
            "large": False,
            "member_count": 3,
            "voice_states": [],
            "members": [self.member(self.bot_user)],
            "channels": [self._text_channel()],
            "threads": [thread],
            "presences": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # REST

    async def _note(self, change: Callable[[], Any]) -> None:
        async with self._changed:
            change()
            self._changed.notify_all()

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await request.read()
        try:
            payload = json.loads(body) if body and request.content_type == "application/json" else None
        except ValueError:
            payload = None
        rec = Recorded(request.method, path, dict(request.query), payload, dict(request.headers))
        response = self._respond(rec)
        rec.status = response.status
        await self._note(lambda: self.requests.append(rec))
        return response

    def _respond(self, rec: Recorded) -> web.Response:
        needs_token = not rec.path.startswith(("/webhooks/", "/interactions/"))
        if needs_token and rec.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        for failure in self._failures:
            if failure.method == rec.method and re.fullmatch(failure.pattern, rec.path):
                self._failures.remove(failure)
                return _json(failure.body, failure.status, failure.headers)
        for method, pattern, handler in self._routes():
            if method == rec.method and (match := re.fullmatch(pattern, rec.path)):
                return handler(rec, *match.groups())
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def _routes(self):
        app, token = r"(\d+)", r"([^/]+)"
        return [
            ("GET", r"/users/@me", lambda rec: _json(self.bot_user)),
            ("GET", r"/oauth2/applications/@me", lambda rec: _json(self._application())),
            ("GET", r"/gateway", lambda rec: _json({"url": self.gateway_url})),
            (
                "GET",
                r"/gateway/bot",
                lambda rec: _json(
                    {
                        "url": self.gateway_url,
                        "shards": 1,
                        "session_start_limit": {
                            "total": 1000,
                            "remaining": 1000,
                            "reset_after": 0,
                            "max_concurrency": 1,
                        },
                    }
                ),
            ),
            ("PUT", rf"/applications/{app}/commands", lambda rec, a: self._commands(rec, None)),
            ("PUT", rf"/applications/{app}/guilds/{app}/commands", lambda rec, a, g: self._commands(rec, g)),
            ("POST", rf"/channels/{app}/typing", lambda rec, c: web.Response(status=204)),
            ("POST", rf"/channels/{app}/messages", lambda rec, c: _json(self._sent_message(rec, c))),
            ("POST", rf"/channels/{app}/messages/{app}/threads", self._start_thread),
            ("POST", rf"/interactions/{app}/{token}/callback", self._callback),
            ("POST", rf"/webhooks/{app}/{token}", lambda rec, a, t: _json(self._sent_message(rec, None, a))),
            (
                "PATCH",
                rf"/webhooks/{app}/{token}/messages/@original",
                lambda rec, a, t: _json(self._sent_message(rec, None, a)),
            ),
            ("DELETE", rf"/webhooks/{app}/{token}/messages/@original", lambda rec, a, t: web.Response(status=204)),
        ]

    def _application(self) -> dict:
        return {
            "id": str(self.app_id),
            "name": "newsbot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.person,
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "rpc_origins": [],
            "interactions_endpoint_url": None,
        }

    def _commands(self, rec: Recorded, guild_id: str | None) -> web.Response:
        out = []
        for command in rec.json or []:
            item = {
                "id": str(self.command_id),
                "application_id": str(self.app_id),
                "version": "1",
                "type": 1,
                "default_member_permissions": None,
                "nsfw": False,
                **command,
            }
            if guild_id:
                item["guild_id"] = guild_id
            out.append(item)
        return _json(out)

    def _sent_message(self, rec: Recorded, channel_id: str | None, webhook_id: str | None = None) -> dict:
        body = rec.json or {}
        data = {
            "id": str(self.snowflake()),
            "channel_id": channel_id or str(self.channel_id),
            "author": self.bot_user,
            "content": body.get("content") or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "pinned": False,
            "type": 19 if body.get("message_reference") else 0,
            "flags": body.get("flags") or 0,
        }
        if webhook_id:
            data["webhook_id"] = webhook_id
            data["application_id"] = webhook_id
        if body.get("components"):
            data["components"] = body["components"]
        self.sent[data["id"]] = data
        return data

    def _start_thread(self, rec: Recorded, channel_id: str, message_id: str) -> web.Response:
        """A public thread on a message: its id is the message's; THREAD_CREATE follows, as from Discord."""
        thread = {
            "id": message_id,
            "type": 11,
            "guild_id": str(self.guild_id),
            "parent_id": channel_id,
            "owner_id": str(self.app_id),
            "name": (rec.json or {}).get("name", ""),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": (rec.json or {}).get("auto_archive_duration", 1440),
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
        }
        self.threads[message_id] = thread
        asyncio.get_running_loop().create_task(self.dispatch("THREAD_CREATE", {**thread, "newly_created": True}))
        return _json(thread, 201)

    def _callback(self, rec: Recorded, interaction_id: str, token: str) -> web.Response:
        body = rec.json or {}
        flags = (body.get("data") or {}).get("flags") or 0
        return _json(
            {
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_id": str(self.snowflake()),
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(flags & EPHEMERAL),
                }
            }
        )
