"""The Discord edge: `/ask`, mentions and DMs in, one `Dispatcher.ask` call, an embed out.

Everything slow (the engine) runs in the dispatcher, off the event loop; this module
only translates. The service runner calls `create_client`, `run_discord`,
`is_connected` and `invite_url`; see docs/discord.md for setting the bot up.
"""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.settings import Settings
from bot.platforms.discord.render import Outgoing, render_reply
from bot.serving.dispatch import Dispatcher

log = logging.getLogger("newsbot.discord")

PLATFORM = "discord"
NO_MENTIONS = discord.AllowedMentions.none()
# Only what answering needs: see the channels, send (also in threads), embed, read history for replies.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")
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


def intents() -> discord.Intents:
    """Guilds (for the channel cache), guild and DM messages. No privileged intents:
    Discord still sends the content of messages that mention the bot, and of DMs."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    return wanted


class _Newsbot:
    """The behaviour, shared by the plain and the auto-sharded client."""

    def __init__(self, settings: Settings, dispatcher: Dispatcher, **options) -> None:
        super().__init__(**options)  # type: ignore[call-arg]
        self.settings = settings
        self.dispatcher = dispatcher
        self.tree = app_commands.CommandTree(self)  # type: ignore[arg-type]
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]

        @self.tree.command(name="ask", description=messages.DISCORD_ASK_DESCRIPTION)
        @app_commands.describe(question=messages.DISCORD_ASK_QUESTION)
        async def ask(interaction: discord.Interaction, question: str) -> None:
            await self.answer_interaction(interaction, question)

    # start-up

    async def setup_hook(self) -> None:
        guild_id = self.settings.discord_guild_id
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

    # mentions and DMs

    def question_in(self, message: discord.Message) -> str | None:
        """The question a message asks the bot, or None if it is not addressed to the bot."""
        me = self.user  # type: ignore[attr-defined]
        if me is None or message.author.bot or message.webhook_id or message.author.id == me.id:
            return None
        if message.type not in ANSWERED_TYPES:
            return None
        # not `message.guild is None`: that is also true in a server missing from the cache
        is_dm = isinstance(message.channel, discord.DMChannel)
        if not is_dm and not any(user.id == me.id for user in message.mentions):
            return None
        return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()

    async def on_message(self, message: discord.Message) -> None:
        question = self.question_in(message)
        if question is None:
            return
        try:
            await message.channel.typing()
        except discord.HTTPException:
            pass  # no typing indicator is no reason not to answer
        reply = await self.dispatcher.ask(PLATFORM, str(message.author.id), question)
        try:
            out = self._render(reply)
        except Exception:
            log.exception("could not render the answer")
            out = Outgoing(content=messages.APOLOGY)
        try:
            # NO_MENTIONS also keeps the reply from pinging the asker (replied_user=False)
            await message.reply(content=out.content, embed=out.embed, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.exception("could not send the answer to channel %s", message.channel.id)

    # /ask

    async def answer_interaction(self, interaction: discord.Interaction, question: str) -> None:
        await interaction.response.defer(thinking=True)  # within Discord's 3 seconds, before any work
        reply = await self.dispatcher.ask(PLATFORM, str(interaction.user.id), question)
        out = self._render(reply)
        if out.private:
            await self._send_private(interaction, out.content or messages.APOLOGY)
            return
        kwargs: dict = {"allowed_mentions": NO_MENTIONS}
        if out.content:
            kwargs["content"] = out.content
        if out.embed:
            kwargs["embed"] = out.embed
        await interaction.followup.send(**kwargs)

    async def _send_private(self, interaction: discord.Interaction, text: str) -> None:
        """An ephemeral follow-up. The first follow-up after a public defer would replace
        the public "thinking…" message (and be public), so that message goes first."""
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            log.debug("could not delete the deferred response", exc_info=True)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _on_command_error(self, interaction: discord.Interaction, error: Exception) -> None:
        log.error("/ask failed", exc_info=error)
        try:
            if interaction.response.is_done():
                await self._send_private(interaction, messages.APOLOGY)
            else:
                await interaction.response.send_message(messages.APOLOGY, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.exception("could not send the apology")

    def _render(self, reply) -> Outgoing:
        return render_reply(reply, max_question_chars=self.settings.max_question_chars)


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


def create_client(settings: Settings, dispatcher: Dispatcher) -> discord.Client:
    """A client ready for `run_discord`: auto-sharded when NEWSBOT_DISCORD_SHARD_COUNT is set."""
    apply_addresses(settings)
    logging.getLogger("discord.client").addFilter(VOICE_NOISE)  # once: a logger keeps one copy of a filter
    options = {"intents": intents(), "allowed_mentions": NO_MENTIONS, "max_messages": None}
    if settings.discord_shard_count:
        return ShardedNewsbotClient(settings, dispatcher, shard_count=settings.discord_shard_count, **options)
    return NewsbotClient(settings, dispatcher, **options)


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
            await client.connect(reconnect=True)
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
