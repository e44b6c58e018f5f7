"""The Discord adapter end to end: the real discord.py client, the real engine, and a
local stand-in for Discord (tests/discord_standin.py) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
import time
from contextlib import asynccontextmanager

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.voice_client import VoiceClient

from bot.core import messages
from bot.core.errors import ConfigError, NewsbotError
from bot.core.settings import Settings
from bot.platforms.discord.app import create_client, invite_url, is_connected, lookup_application_id, run_discord
from bot.serving.dispatch import Dispatcher
from bot.serving.service import Service
from tests.platforms.discord_standin import EPHEMERAL, MESSAGE_CONTENT_INTENT, DiscordStandin

pytestmark = pytest.mark.timeout(60)

CTO_QUESTION = "Who is Anthropic's new CTO?"
CTO_SOURCES = ("000_bed8d2b4576aa9ed.txt", "001_ca3102186ee2e08c.txt")
NO_PINGS = {"parse": []}
MESSAGES = r"/channels/\d+/messages"


@pytest.fixture(autouse=True)
def _restore_discord_addresses(monkeypatch):
    """create_client sets these process-wide; put Discord's own back after each test."""
    monkeypatch.setattr(Route, "BASE", Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def standin():
    server = DiscordStandin()
    await server.start()
    yield server
    await server.stop()


def settings_for(standin: DiscordStandin, **overrides) -> Settings:
    values = {
        "DISCORD_TOKEN": standin.token,
        "discord_api_url": standin.api_url,
        "discord_gateway_url": standin.gateway_url,
        "discord_guild_id": standin.guild_id,
        "rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def eventually(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)
    return result


@asynccontextmanager
async def running_bot(standin: DiscordStandin, engine, store=None, max_pending: int = 32, **overrides):
    settings = settings_for(standin, **overrides)
    dispatcher = Dispatcher(engine, settings.rate_limit_per_minute, max_pending=max_pending)
    client = create_client(settings, dispatcher, store=store)
    task = asyncio.create_task(run_discord(client, settings))
    try:
        await eventually(lambda: task.done() or client.get_guild(standin.guild_id) is not None, 10)
        if task.done():
            task.result()
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)


def only_sent(standin: DiscordStandin) -> list:
    """Every message the bot posted, with the safety every one of them must carry."""
    sent = standin.find("POST", MESSAGES, status=None) + standin.find("POST", r"/webhooks/\d+/[^/]+", status=None)
    for rec in sent:
        assert rec.json["allowed_mentions"] == NO_PINGS, rec.json
    return sent


def assert_cites_cto(payload: dict) -> None:
    (embed,) = payload["embeds"]
    assert "Rahul Patil" in embed["description"]
    assert "[1]" in embed["description"]
    sources = "\n".join(field["value"] for field in embed["fields"])
    assert any(source in sources for source in CTO_SOURCES)
    assert "[1]" in sources


async def test_startup_syncs_to_the_guild_without_privileged_intents(standin, engine):
    async with running_bot(standin, engine) as client:
        (sync,) = standin.find("PUT", rf"/applications/{standin.app_id}/guilds/{standin.guild_id}/commands")
        commands = {c["name"]: c for c in sync.json}
        assert set(commands) == {"ask", "latest", "newsbot"}
        options = [(o["name"], o["type"], o["required"]) for o in commands["ask"]["options"]]
        assert options == [("question", 3, True), ("private", 5, False)]
        # the settings command is offered to Manage Server only (and checked again when used)
        assert int(commands["newsbot"]["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
        assert {o["name"] for o in commands["newsbot"]["options"]} == {"mode", "status"}
        assert not standin.find("PUT", r"/applications/\d+/commands")

        (identify,) = standin.identifies()
        assert identify["token"] == standin.token
        assert not identify["intents"] & MESSAGE_CONTENT_INTENT
        assert identify["intents"] & (1 << 9) and identify["intents"] & (1 << 12)  # guild and DM messages

        await eventually(lambda: len(standin.heartbeats()) >= 2, 5)  # interval 0.5 s, each ACKed
        await eventually(lambda: is_connected(client), 5)  # on_ready comes ~2 s after READY
    assert not is_connected(client)


async def test_mention_gets_a_cited_reply_to_the_question(standin, engine):
    async with running_bot(standin, engine):
        question = standin.mention(CTO_QUESTION + " @everyone <@&42>")
        await standin.dispatch("MESSAGE_CREATE", question)
        (reply,) = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", timeout=20)
        assert reply.json["message_reference"]["message_id"] == int(question["id"])
        assert reply.json["allowed_mentions"] == NO_PINGS
        assert_cites_cto(reply.json)
        assert standin.find("POST", rf"/channels/{standin.channel_id}/typing", status=204)


async def test_mention_in_a_thread_is_answered_in_the_thread(standin, engine):
    async with running_bot(standin, engine):
        question = standin.mention(CTO_QUESTION, channel_id=standin.thread_id)
        await standin.dispatch("MESSAGE_CREATE", question)
        (reply,) = await standin.wait_request("POST", rf"/channels/{standin.thread_id}/messages", timeout=20)
        assert reply.json["message_reference"]["message_id"] == int(question["id"])
        assert_cites_cto(reply.json)
        assert not standin.find("POST", rf"/channels/{standin.channel_id}/messages", status=None)


async def test_dms_are_answered_declines_are_plain(standin, engine):
    async with running_bot(standin, engine):
        await standin.dispatch("MESSAGE_CREATE", standin.message("What is the weather in Jakarta?", dm=True))
        (decline,) = await standin.wait_request("POST", rf"/channels/{standin.dm_channel_id}/messages", timeout=20)
        assert decline.json["content"] == messages.NOT_COVERED
        assert not decline.json.get("embeds")

        await standin.dispatch("MESSAGE_CREATE", standin.message("x " * 400, dm=True))
        replies = await standin.wait_request("POST", rf"/channels/{standin.dm_channel_id}/messages", count=2)
        assert replies[1].json["content"] == messages.QUESTION_TOO_LONG.format(length=799, limit=500)

        await standin.dispatch("MESSAGE_CREATE", standin.message(CTO_QUESTION, dm=True))
        replies = await standin.wait_request(
            "POST", rf"/channels/{standin.dm_channel_id}/messages", count=3, timeout=20
        )
        assert_cites_cto(replies[2].json)
        only_sent(standin)


async def test_bots_and_messages_not_addressed_to_it_are_ignored(standin, engine):
    async with running_bot(standin, engine):
        ignored = [
            standin.mention(CTO_QUESTION, author=standin.other_bot),  # a bot mentioning it
            standin.message(CTO_QUESTION),  # not addressed to it
            standin.message(f"<@{standin.other_person['id']}> {CTO_QUESTION}", mentions=[standin.other_person]),
            standin.message(f"@everyone {CTO_QUESTION}"),  # @everyone is not a mention of the bot
            standin.mention(CTO_QUESTION, author=standin.bot_user),  # its own message
            {**standin.message(""), "guild_id": str(standin.snowflake())},  # a server not in the cache
        ]
        for message in ignored:
            await standin.dispatch("MESSAGE_CREATE", message)
        question = standin.mention(CTO_QUESTION)
        await standin.dispatch("MESSAGE_CREATE", question)
        await standin.wait_request("POST", MESSAGES, timeout=20)
        await asyncio.sleep(0.3)
        (reply,) = only_sent(standin)
        assert reply.json["message_reference"]["message_id"] == int(question["id"])


async def test_slash_ask_defers_at_once_then_follows_up(standin, engine, monkeypatch):
    answer_now = threading.Event()
    real_ask = engine.ask

    def slow_ask(question):  # the engine only answers once Discord has had its callback
        answer_now.wait(10)
        return real_ask(question)

    monkeypatch.setattr(engine, "ask", slow_ask)
    async with running_bot(standin, engine):
        interaction = standin.ask_interaction(CTO_QUESTION + " @everyone")
        sent_at = time.monotonic()
        await standin.dispatch("INTERACTION_CREATE", interaction)
        callback_path = rf"/interactions/{interaction['id']}/{interaction['token']}/callback"
        (callback,) = await standin.wait_request("POST", callback_path, timeout=3)
        assert callback.at - sent_at < 3
        assert callback.json["type"] == 5  # deferred: "newsbot is thinking…"
        assert not (callback.json.get("data") or {}).get("flags", 0) & EPHEMERAL
        assert not standin.find("POST", r"/webhooks/.*", status=None)
        answer_now.set()

        followup_path = rf"/webhooks/{standin.app_id}/{interaction['token']}"
        (followup,) = await standin.wait_request("POST", followup_path, timeout=20)
        assert followup.json["allowed_mentions"] == NO_PINGS
        assert not followup.json.get("flags", 0) & EPHEMERAL
        assert_cites_cto(followup.json)
        assert "@everyone" in followup.json["embeds"][0]["title"]  # shown, pinging no one


async def test_gateway_closed_with_4000_resumes_and_still_answers(standin, engine):
    async with running_bot(standin, engine):
        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        await standin.wait_request("POST", MESSAGES, timeout=20)
        seq_before = standin.last_seq

        await standin.close_gateway(4000)
        question = standin.mention(CTO_QUESTION)
        await standin.dispatch("MESSAGE_CREATE", question)  # sent while it is disconnected
        await standin.wait_for(lambda: standin.resumes(), 10)
        (resume,) = standin.resumes()
        assert resume["session_id"] == standin.session_id
        assert resume["seq"] == seq_before
        assert resume["token"] == standin.token
        assert len(standin.identifies()) == 1  # resumed, not a new session

        replies = await standin.wait_request("POST", MESSAGES, count=2, timeout=20)
        assert standin.replayed == 1
        assert replies[1].json["message_reference"]["message_id"] == int(question["id"])
        assert_cites_cto(replies[1].json)
        assert len(standin.connections) == 2


async def test_429_on_first_send_is_waited_out_and_sent_once(standin, engine):
    async with running_bot(standin, engine):
        standin.fail_next("POST", MESSAGES, status=429, retry_after=0.5)
        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        (sent,) = await standin.wait_request("POST", MESSAGES, timeout=20)
        (limited,) = standin.find("POST", MESSAGES, status=429)
        assert sent.at - limited.at >= 0.45
        assert limited.json == sent.json
        await asyncio.sleep(0.2)
        assert len(standin.find("POST", MESSAGES, status=None)) == 2  # one refused, one sent


async def test_rate_limit_replies_politely(standin, engine):
    async with running_bot(standin, engine, rate_limit_per_minute=1):
        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        await standin.wait_request("POST", MESSAGES, timeout=20)
        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        replies = await standin.wait_request("POST", MESSAGES, count=2)
        assert replies[1].json["content"].startswith("You're asking faster than I can answer")
        assert not replies[1].json.get("embeds")

        interaction = standin.ask_interaction(CTO_QUESTION)
        await standin.dispatch("INTERACTION_CREATE", interaction)
        (followup,) = await standin.wait_request("POST", rf"/webhooks/{standin.app_id}/{interaction['token']}")
        assert followup.json["content"].startswith("You're asking faster than I can answer")
        assert followup.json["flags"] & EPHEMERAL
        # the public "thinking…" message is removed so the refusal can be private
        assert standin.find(
            "DELETE", rf"/webhooks/{standin.app_id}/{interaction['token']}/messages/@original", status=204
        )
        only_sent(standin)


async def test_engine_error_gets_an_apology_and_a_logged_traceback(standin, engine, monkeypatch, caplog):
    def broken(question):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(engine, "ask", broken)
    async with running_bot(standin, engine):
        interaction = standin.ask_interaction(CTO_QUESTION)
        await standin.dispatch("INTERACTION_CREATE", interaction)
        (followup,) = await standin.wait_request("POST", rf"/webhooks/{standin.app_id}/{interaction['token']}")
        assert followup.json["content"] == messages.APOLOGY
        assert followup.json["flags"] & EPHEMERAL
        assert standin.find(
            "DELETE", rf"/webhooks/{standin.app_id}/{interaction['token']}/messages/@original", status=204
        )

        question = standin.mention(CTO_QUESTION)
        await standin.dispatch("MESSAGE_CREATE", question)
        (reply,) = await standin.wait_request("POST", MESSAGES)
        assert reply.json["content"] == messages.APOLOGY
        assert reply.json["message_reference"]["message_id"] == int(question["id"])
        only_sent(standin)
    failures = [r for r in caplog.records if r.exc_info and "index exploded" in str(r.exc_info[1])]
    assert len(failures) == 2
    assert not any(messages.APOLOGY in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


async def test_failure_while_answering_slash_ask_still_apologises(standin, engine):
    async with running_bot(standin, engine):
        interaction = standin.ask_interaction(CTO_QUESTION)
        followup_path = rf"/webhooks/{standin.app_id}/{interaction['token']}"
        standin.fail_next("POST", followup_path, status=400)  # Discord refuses the answer
        await standin.dispatch("INTERACTION_CREATE", interaction)
        (apology,) = await standin.wait_request("POST", followup_path, timeout=20)
        assert apology.json["content"] == messages.APOLOGY
        assert apology.json["flags"] & EPHEMERAL


async def test_bad_token_is_a_config_error_naming_the_setting(standin, engine):
    settings = settings_for(standin, DISCORD_TOKEN="not-the-token")
    client = create_client(settings, Dispatcher(engine))
    with pytest.raises(ConfigError, match="DISCORD_TOKEN") as caught:
        await asyncio.wait_for(run_discord(client, settings), 10)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert client.is_closed()
    (login,) = standin.find("GET", "/users/@me", status=401)
    assert login.headers["Authorization"] == "Bot not-the-token"
    assert not standin.connections

    unset = settings_for(standin, DISCORD_TOKEN="")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        await run_discord(create_client(unset, Dispatcher(engine)), unset)


async def test_sharded_client_syncs_globally_and_answers(standin, engine):
    async with running_bot(standin, engine, discord_guild_id=None, discord_shard_count=1) as client:
        assert isinstance(client, discord.AutoShardedClient)
        (sync,) = standin.find("PUT", rf"/applications/{standin.app_id}/commands")
        assert sorted(c["name"] for c in sync.json) == ["ask", "latest", "newsbot"]
        (identify,) = standin.identifies()
        assert identify["shard"] == [0, 1]

        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        (reply,) = await standin.wait_request("POST", MESSAGES, timeout=20)
        assert_cites_cto(reply.json)
        await eventually(lambda: is_connected(client), 5)


async def test_a_process_runs_only_its_shards_and_leaves_the_commands_to_shard_0(standin, engine):
    """Shards split across processes: this one is shard 1 of 2 (another process runs shard 0)."""
    async with running_bot(
        standin, engine, discord_guild_id=None, discord_shard_count=2, discord_shard_ids="1"
    ) as client:
        (identify,) = standin.identifies()
        assert identify["shard"] == [1, 2]  # Discord routes the guilds of shard 1 to this connection
        assert list(client.shards) == [1]
        assert not standin.find("PUT", rf"/applications/{standin.app_id}/commands")  # shard 0's process syncs

        await standin.dispatch("MESSAGE_CREATE", standin.mention(CTO_QUESTION))
        (reply,) = await standin.wait_request("POST", MESSAGES, timeout=20)
        assert_cites_cto(reply.json)


def test_invite_url_asks_only_for_what_the_bot_uses():
    url = invite_url(1234)
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=1234&")
    assert "scope=bot+applications.commands" in url
    # View Channels, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links,
    # Read Message History
    assert f"permissions={1024 + 2048 + 274877906944 + 34359738368 + 16384 + 65536}" in url


async def test_invite_looks_up_the_application_id_with_the_token(standin):
    settings = settings_for(standin)
    assert await asyncio.to_thread(lookup_application_id, settings) == standin.app_id
    assert not standin.find("PUT", r"/applications/.*", status=None)  # no command sync, no gateway
    assert not standin.connections

    wrong = settings_for(standin, DISCORD_TOKEN="not-the-token")
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await asyncio.to_thread(lookup_application_id, wrong)


async def test_when_busy_slash_ask_is_told_privately_and_a_mention_plainly(standin, engine, monkeypatch):
    release = threading.Event()
    real_ask = engine.ask

    def held_ask(question):  # the first question holds the only place until the test lets it go
        release.wait(10)
        return real_ask(question)

    monkeypatch.setattr(engine, "ask", held_ask)
    async with running_bot(standin, engine, max_pending=1) as client:
        try:
            first = standin.mention(CTO_QUESTION)
            await standin.dispatch("MESSAGE_CREATE", first)
            await eventually(lambda: client.dispatcher.pending == 1)

            interaction = standin.ask_interaction(CTO_QUESTION)
            await standin.dispatch("INTERACTION_CREATE", interaction)
            (followup,) = await standin.wait_request("POST", rf"/webhooks/{standin.app_id}/{interaction['token']}")
            assert followup.json["content"] == messages.BUSY
            assert followup.json["flags"] & EPHEMERAL
            assert not followup.json.get("embeds")
            # the public "thinking…" message goes first, so the notice is the asker's alone
            (deleted,) = standin.find(
                "DELETE", rf"/webhooks/{standin.app_id}/{interaction['token']}/messages/@original", status=204
            )
            assert deleted.at <= followup.at

            second = standin.mention(CTO_QUESTION)
            await standin.dispatch("MESSAGE_CREATE", second)
            (busy,) = await standin.wait_request("POST", MESSAGES)
            assert busy.json["content"] == messages.BUSY
            assert busy.json["message_reference"]["message_id"] == int(second["id"])
        finally:
            release.set()
        replies = await standin.wait_request("POST", MESSAGES, count=2, timeout=20)
        assert replies[1].json["message_reference"]["message_id"] == int(first["id"])
        assert_cites_cto(replies[1].json)
        only_sent(standin)


def closed_port_url() -> str:
    """An address on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v10"


async def test_unreachable_discord_is_an_error_but_not_a_settings_error(standin, engine):
    settings = settings_for(standin, discord_api_url=closed_port_url())
    client = create_client(settings, Dispatcher(engine))
    with pytest.raises(NewsbotError, match=r"Cannot reach Discord at http://127\.0\.0\.1") as caught:
        await asyncio.wait_for(run_discord(client, settings), 10)
    assert not isinstance(caught.value, ConfigError)
    assert "NEWSBOT_DISCORD_API_URL" in str(caught.value)
    assert client.is_closed()


@pytest.mark.parametrize(
    ("problem", "exit_code"),
    [("unreachable", 1), ("rejected token", 2)],
)
async def test_newsbot_discord_exit_code(standin, engine, problem, exit_code, capsys):
    """`newsbot discord` returns Service.run's code: 2 means a setting to fix, 1 anything else."""
    overrides = {"unreachable": {"discord_api_url": closed_port_url()}, "rejected token": {"DISCORD_TOKEN": "nope"}}
    settings = settings_for(standin, http_host="127.0.0.1", http_port=0, **overrides[problem])
    code = await asyncio.wait_for(Service(settings, engine, ["discord"], None).run(), 20)
    assert code == exit_code
    expected = messages.DISCORD_TOKEN_INVALID if exit_code == 2 else "Cannot reach Discord"
    assert expected in capsys.readouterr().err


@pytest.mark.parametrize(("problem", "exit_code"), [("unreachable", 1), ("rejected token", 2)])
async def test_newsbot_discord_invite_exit_code(standin, tmp_path, problem, exit_code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") and k != "DISCORD_TOKEN"}
    env["DISCORD_TOKEN"] = "nope" if problem == "rejected token" else standin.token
    env["NEWSBOT_DISCORD_API_URL"] = closed_port_url() if problem == "unreachable" else standin.api_url
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "discord", "invite",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == exit_code, err
    assert (b"DISCORD_TOKEN" if exit_code == 2 else b"Cannot reach Discord") in err


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_missing_voice_libraries_are_debug_not_warning(engine, monkeypatch, caplog, level):
    """discord.py warns once a process that PyNaCl and davey are missing; this bot has no voice."""
    monkeypatch.setattr(VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(VoiceClient, "warn_dave", True)
    caplog.set_level(level)
    create_client(Settings(_env_file=None, DISCORD_TOKEN="x.y.z"), Dispatcher(engine))
    voice = [r for r in caplog.records if "voice will NOT be supported" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    if level == logging.DEBUG:  # still there for whoever debugs
        assert [(r.name, r.levelname) for r in voice] == [("discord.client", "DEBUG")] * 2
    else:
        assert not voice
