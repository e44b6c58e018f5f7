"""The Discord edge: `/ask`, mentions and DMs in, one `Dispatcher.ask` call, an embed out.

Everything slow (the engine) runs in the dispatcher, off the event loop; this module
only translates. The service runner calls `create_client`, `run_discord`,
`is_connected` and `invite_url`; see docs/discord.md for setting the bot up.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.utils import escape_markdown

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.models import Reply
from bot.core.settings import Settings
from bot.platforms.conversation import Conversation, StoreUnavailable, answer_lang, looks_like_question, mode_text
from bot.platforms.discord.render import CONTENT_MAX, Outgoing, buttons_view, parse_vote, render_latest, render_reply
from bot.platforms.reply import clip, feedback_ack
from bot.serving.dispatch import Dispatcher
from bot.state.api import Store

log = logging.getLogger("newsbot.discord")

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
# Only what answering needs: see the channels, send (also in threads), embed, read history for replies.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")
THREAD_NAME_MAX = 100
ANSWERED_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class _VoiceLibrariesMissing(logging.Filter):
    """discord.py warns at start-up that PyNaCl and davey (voice) are not installed. This
    bot has no voice, so those lines are DEBUG: seen only when DEBUG logging is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.levelno != logging.WARNING or "voice" not in text or "not installed" not in text:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        # the logger's level was checked for WARNING; check it again for what the record now is
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


VOICE_NOISE = _VoiceLibrariesMissing()


def intents(message_content: bool = False) -> discord.Intents:
    """Guilds (for the channel cache), guild and DM messages. Without Message Content (privileged),
    Discord still sends the content of messages that mention the bot, and of DMs; with it, the bot
    can also answer follow-ups in its threads and channels set to "all" without a mention."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = message_content
    return wanted


def _lang(interaction: discord.Interaction) -> str:
    """The clicker's Discord language, for what the bot says about no question in particular."""
    return "id" if str(interaction.locale).startswith("id") else "en"


@asynccontextmanager
async def _typing(channel) -> AsyncIterator[None]:
    """The typing indicator while a slow answer is built; no indicator is no reason not to answer."""
    indicator = channel.typing()
    try:
        await indicator.__aenter__()
    except (discord.HTTPException, aiohttp.ClientError, OSError):
        indicator = None
    try:
        yield
    finally:
        if indicator is not None:
            await indicator.__aexit__(None, None, None)


def _view(out: Outgoing) -> discord.ui.View | None:
    """The 👍 / 👎 buttons. Stopped before sending, so discord.py keeps no copy in memory: a click
    reaches `on_interaction` on any replica, also after a restart."""
    view = buttons_view(out.buttons)
    if view is not None:
        view.stop()
    return view


@dataclass(frozen=True)
class _Turn:
    """A message the bot will answer: the question, the thread it continues (if any), its history."""

    question: str
    thread: str | None = None  # the store's key for the conversation it continues
    history: tuple[str, ...] = ()
    in_thread: bool = False  # asked inside a Discord thread: answers stay there
    quiet: bool = False  # nobody addressed the bot (a channel set to "all"): only an answer is sent


class _Newsbot:
    """The behaviour, shared by the plain and the auto-sharded client."""

    def __init__(
        self, settings: Settings, dispatcher: Dispatcher, store: Store | None = None, feed_health=None, **options
    ) -> None:
        super().__init__(**options)  # type: ignore[call-arg]
        self.settings = settings
        self.dispatcher = dispatcher
        self.conversation = Conversation(PLATFORM, dispatcher, store, feed_health=feed_health)
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]

        @self.tree.command(name="ask", description=messages.DISCORD_ASK_DESCRIPTION)
        @app_commands.describe(question=messages.DISCORD_ASK_QUESTION, private=messages.DISCORD_PRIVATE_OPTION)
        async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None:
            await self.answer_interaction(interaction, question, private=private)

        @self.tree.command(name="latest", description=messages.DISCORD_LATEST_DESCRIPTION)
        async def latest(interaction: discord.Interaction) -> None:
            out = render_latest(self.dispatcher.latest(), _lang(interaction))
            await interaction.response.send_message(**_payload(out), ephemeral=True)

        admin = app_commands.Group(
            name="newsbot",
            description=messages.DISCORD_ADMIN_DESCRIPTION,
            default_permissions=discord.Permissions(manage_guild=True),
            guild_only=True,
        )

        @admin.command(name="mode", description=messages.DISCORD_MODE_DESCRIPTION)
        async def mode(interaction: discord.Interaction, mode: Literal["mention", "all"]) -> None:
            await self.admin_command(interaction, mode)

        @admin.command(name="status", description=messages.DISCORD_STATUS_DESCRIPTION)
        async def status(interaction: discord.Interaction) -> None:
            await self.admin_command(interaction, None)

        self.tree.add_command(admin)

    # start-up

    async def setup_hook(self) -> None:
        guild_id = self.settings.discord_guild_id
        if self.settings.discord_shard_ids and 0 not in self.settings.discord_shard_ids:
            log.info("commands are synced by the process that runs shard 0")  # once, not by every process
            return
        try:
            if guild_id:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d command(s) to guild %s", len(synced), guild_id)
            else:
                synced = await self.tree.sync()
                log.info("synced %d command(s) globally (may take up to an hour to appear)", len(synced))
        except discord.HTTPException as exc:
            where = f"in guild {guild_id}" if guild_id else "globally"
            log.error(messages.DISCORD_SYNC_FAILED.format(where=where, detail=exc))

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d server(s)", self.user, len(self.guilds))  # type: ignore[attr-defined]

    # mentions, DMs, follow-ups and channels set to "all"

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None if it is not addressed to the bot."""
        me = self.user  # type: ignore[attr-defined]
        if not self._answerable(message):
            return None
        # not `message.guild is None`: that is also true in a server missing from the cache
        is_dm = isinstance(message.channel, discord.DMChannel)
        if not is_dm and not any(user.id == me.id for user in message.mentions):
            return None
        return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()

    def _answerable(self, message: discord.Message) -> bool:
        me = self.user  # type: ignore[attr-defined]
        if me is None or message.author.bot or message.webhook_id or message.author.id == me.id:
            return False
        return message.type in ANSWERED_TYPES

    async def turn_in(self, message: discord.Message) -> _Turn | None:
        """What the bot answers in a message: a question addressed to it (a mention, a DM), a
        follow-up in one of its threads or to one of its answers, or a question in a channel set to "all"."""
        question = self.question_in(message)
        conversation = self.conversation
        if question is None and (not conversation.remembers or not self._answerable(message)):
            return None
        text = question if question is not None else message.content.strip()
        if question is None and not looks_like_question(text):
            return None
        reference = message.reference.message_id if message.reference else None
        for key, in_thread in ((str(message.channel.id), True), (str(reference) if reference else None, False)):
            history = await conversation.history(key)
            if history:
                return _Turn(text, key, history, in_thread=in_thread)
        if question is not None:
            return _Turn(question)  # in a thread not its own, follow-ups are replies to the answer
        if message.guild is not None and await conversation.mode(str(message.channel.id)) == "all":
            return _Turn(text, quiet=True)
        return None

    async def on_message(self, message: discord.Message) -> None:
        turn = await self.turn_in(message)
        if turn is None:
            return
        if turn.quiet:
            reply = await self.conversation.ask(str(message.author.id), turn.question)
            if reply.kind != "answered":
                return  # nobody asked the bot: stay quiet unless it has an answer
        else:
            async with _typing(message.channel):
                reply = await self.conversation.ask(str(message.author.id), turn.question, turn.history)
        sent = await self._reply_to(message, turn.question, reply)
        if turn.in_thread:
            await self.conversation.remember(turn.thread, turn.question, reply)
        elif sent is not None and reply.kind == "answered" and self.conversation.remembers:
            # remembered first: once the thread shows, it can be followed up
            await self.conversation.remember(str(sent.id), turn.question, reply, earlier=turn.history)
            await self._open_thread(sent, message.channel, turn.question)

    async def _reply_to(self, message: discord.Message, question: str, reply: Reply) -> discord.Message | None:
        try:
            answer_id = await self.conversation.answer_id(question, reply)
            out = self._render(reply, answer_id)
        except Exception:
            log.exception("could not render the answer")
            out = Outgoing(content=messages.say("APOLOGY", reply.lang))
        try:
            # NO_MENTIONS also keeps the reply from pinging the asker (replied_user=False)
            return await message.reply(**_payload(out))
        except discord.HTTPException:
            log.exception("could not send the answer to channel %s", message.channel.id)
            return None

    async def _open_thread(self, answer: discord.Message, channel, question: str) -> None:
        """A thread on the answer, for follow-ups, where the channel allows one; else follow-ups are
        replies to the answer. (A thread started on a message has the message's id: the same key.)"""
        if not isinstance(channel, discord.TextChannel):
            return
        try:
            await answer.create_thread(name=clip(" ".join(question.split()), THREAD_NAME_MAX) or "newsbot")
        except (discord.HTTPException, ValueError) as exc:
            log.info("could not open a thread on an answer in channel %s: %s", channel.id, exc)

    # /ask

    async def answer_interaction(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        # within Discord's 3 seconds, before any work
        await interaction.response.defer(thinking=True, ephemeral=private)
        reply = await self.dispatcher.ask(PLATFORM, str(interaction.user.id), question)
        answer_id = await self.conversation.answer_id(question, reply)
        out = self._render(reply, answer_id)
        if out.private and not private:
            await self._send_private(interaction, out.content or messages.say("APOLOGY", reply.lang))
            return
        sent = await interaction.followup.send(**_payload(out), ephemeral=private, wait=True)
        if not private and reply.kind == "answered" and self.conversation.remembers:
            await self.conversation.remember(str(sent.id), question, reply)
            await self._open_thread(sent, interaction.channel, question)

    async def _send_private(self, interaction: discord.Interaction, text: str) -> None:
        """An ephemeral follow-up. The first follow-up after a public defer would replace
        the public "thinking…" message (and be public), so that message goes first."""
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the deferred response", exc_info=True)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _on_command_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("a slash command failed", exc_info=error)
        try:
            if interaction.response.is_done():
                await self._send_private(interaction, messages.APOLOGY)
            else:
                await interaction.response.send_message(messages.APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.exception("could not send the apology")

    # /newsbot mode, /newsbot status

    async def admin_command(self, interaction: discord.Interaction, mode: str | None) -> None:
        """Checked here, not only by Discord's default permissions (a server can override those)."""
        lang = _lang(interaction)
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            text = messages.say("ADMIN_ONLY_DISCORD", lang)
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        conversation, channel = self.conversation, str(interaction.channel_id)
        lines = []
        if mode is not None:
            try:
                await conversation.set_mode(channel, mode)  # type: ignore[arg-type]
                lines.append(mode_text(mode, lang, changed=True))  # type: ignore[arg-type]
            except StoreUnavailable:
                lines.append(messages.say("STATE_UNAVAILABLE" if conversation.remembers else "NO_STORE", lang))
        elif conversation.remembers:
            lines.append(mode_text(await conversation.mode(channel), lang))
        lines.extend(escape_markdown(line) for line in conversation.status_lines(lang))  # feed links and errors
        text = clip("\n".join(lines), CONTENT_MAX)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # 👍 / 👎

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """A click on a vote button: recorded once per user per answer, thanked privately."""
        if interaction.type != discord.InteractionType.component:
            return
        parsed = parse_vote((interaction.data or {}).get("custom_id"))
        if parsed is None:
            return
        verdict, answer_id = parsed
        lang = answer_lang(answer_id)
        try:
            known, changed = await self.conversation.vote(str(interaction.user.id), answer_id, verdict)
            text = feedback_ack(verdict, lang, changed=changed, known=known)
        except StoreUnavailable:
            text = messages.say("STATE_UNAVAILABLE", lang)
        try:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.exception("could not acknowledge a vote")

    def _render(self, reply: Reply, answer_id: str | None = None) -> Outgoing:
        return render_reply(reply, max_question_chars=self.settings.max_question_chars, answer_id=answer_id)


def _payload(out: Outgoing) -> dict:
    """The keyword arguments that send an Outgoing (its text, embed and buttons), pinging no one."""
    kwargs: dict = {"allowed_mentions": NO_MENTIONS}
    if out.content:
        kwargs["content"] = out.content
    if out.embed:
        kwargs["embed"] = out.embed
    view = _view(out)
    if view is not None:
        kwargs["view"] = view
    return kwargs


class NewsbotClient(_Newsbot, discord.Client):
    """One gateway connection: enough for up to 2,500 servers."""


class ShardedNewsbotClient(_Newsbot, discord.AutoShardedClient):
    """Several shards in one process, for bots in many servers."""


def apply_addresses(settings: Settings) -> None:
    """Point discord.py at NEWSBOT_DISCORD_API_URL / NEWSBOT_DISCORD_GATEWAY_URL when set.
    discord.py keeps both on classes, so this is process-wide. (A plain client dials the
    gateway address directly, without asking `GET /gateway/bot`, so both must be set.)"""
    if settings.discord_api_url:
        Route.BASE = settings.discord_api_url.rstrip("/")
    if settings.discord_gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def create_client(
    settings: Settings, dispatcher: Dispatcher, store: Store | None = None, feed_health=None
) -> discord.Client:
    """A client ready for `run_discord`: auto-sharded when NEWSBOT_DISCORD_SHARD_COUNT is set, running
    only NEWSBOT_DISCORD_SHARD_IDS of them when that is set too (the other processes run the rest).

    With `store` (bot.state), threads, votes and channel modes are remembered and the client asks
    for Message Content (falling back without it, see `run_discord`); `feed_health`
    (FeedPoller.health) adds the feeds to `/newsbot status`."""
    apply_addresses(settings)
    logging.getLogger("discord.client").addFilter(VOICE_NOISE)  # once: a logger keeps one copy of a filter
    options = {"intents": intents(store is not None), "allowed_mentions": NO_MENTIONS, "max_messages": None}
    if settings.discord_shard_count:
        return ShardedNewsbotClient(
            settings,
            dispatcher,
            store,
            feed_health,
            shard_count=settings.discord_shard_count,
            shard_ids=settings.discord_shard_ids or None,  # the others run in other processes
            **options,
        )
    return NewsbotClient(settings, dispatcher, store, feed_health, **options)


def _token(settings: Settings) -> str:
    token = settings.secret("discord_token")
    if not token:
        raise ConfigError(messages.DISCORD_TOKEN_MISSING)
    return token


async def run_discord(client: discord.Client, settings: Settings) -> None:
    """Log in and stay connected (reconnecting and resuming as needed) until the client
    is closed. A token Discord rejects raises ConfigError (exit 2: a setting to fix); a
    Discord that cannot be reached raises NewsbotError (exit 1), both naming the fix."""
    token = _token(settings)
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            raise ConfigError(messages.DISCORD_TOKEN_INVALID) from None
        except (aiohttp.ClientConnectionError, OSError) as exc:
            raise NewsbotError(messages.DISCORD_UNREACHABLE.format(url=Route.BASE, detail=exc)) from None
        try:
            try:
                await client.connect(reconnect=True)
            except discord.PrivilegedIntentsRequired:
                if not client.intents.message_content:
                    raise
                log.warning(messages.DISCORD_NO_MESSAGE_CONTENT)
                # discord.py reads the intents for each IDENTIFY from its connection state
                client._connection._intents.message_content = False
                await client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise ConfigError(messages.DISCORD_GATEWAY_CLOSED.format(code=4014, detail="disallowed intents")) from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:  # authentication failed
                raise ConfigError(messages.DISCORD_TOKEN_INVALID) from None
            raise ConfigError(messages.DISCORD_GATEWAY_CLOSED.format(code=exc.code, detail=exc.reason)) from None
    finally:
        if not client.is_closed():
            await client.close()


async def fetch_application_id(settings: Settings) -> int:
    """The bot's application ID, asked of Discord with DISCORD_TOKEN (no gateway, no sync)."""
    token = _token(settings)
    apply_addresses(settings)
    http = HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(token)
        return int((await http.application_info())["id"])
    except discord.LoginFailure:
        raise ConfigError(messages.DISCORD_TOKEN_INVALID) from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise NewsbotError(messages.DISCORD_UNREACHABLE.format(url=Route.BASE, detail=exc)) from None
    finally:
        await http.close()


def lookup_application_id(settings: Settings) -> int:
    """`fetch_application_id` for synchronous callers (`newsbot discord invite`)."""
    return asyncio.run(fetch_application_id(settings))


def is_connected(client: discord.Client) -> bool:
    """True while the client is logged in and its gateway connection(s) are open."""
    if client.is_closed() or not client.is_ready():
        return False
    if isinstance(client, discord.AutoShardedClient):
        shards = client.shards
        return bool(shards) and not any(shard.is_closed() for shard in shards.values())
    ws = client.ws
    return ws is not None and ws.open


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot to a server with only the permissions it uses."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)
