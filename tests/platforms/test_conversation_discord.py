"""Conversations on Discord end to end: the real discord.py client, the real engine over articles
of our own, the real SQLite store in a temporary file, and the Discord stand-in.

Threads opened on answers and follow-ups in them, 👍 / 👎 button clicks, `/newsbot mode` for
Manage Server only, channels set to "all", `/latest`, `/ask private`, and a portal without the
Message Content intent.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.core import messages
from bot.platforms.reply import feedback_ack
from bot.state.sql import open_store
from tests.platforms.discord_standin import EPHEMERAL, MANAGE_GUILD, MEMBER_PERMISSIONS, DiscordStandin
from tests.platforms.test_conversation_slack import ARTICLES, FIRST_EN, FIRST_ID, FOLLOW_EN, FOLLOW_ID
from tests.platforms.test_conversation_slack import engine as engine
from tests.platforms.test_discord import _restore_discord_addresses as _restore  # noqa: F401
from tests.platforms.test_discord import eventually, running_bot

pytestmark = pytest.mark.timeout(60)
assert ARTICLES  # the same articles as the Slack conversation tests


@pytest.fixture
async def standin():
    server = DiscordStandin()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def store(tmp_path):
    opened = open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    yield opened
    opened.close()


def posted(standin: DiscordStandin, channel_id) -> list:
    return standin.find("POST", rf"/channels/{channel_id}/messages")


async def settle(standin: DiscordStandin, client) -> None:
    """Wait until every message sent before has been handled: a DM sent last has its reply, and
    every question taken meanwhile has its answer delivered."""
    before = len(posted(standin, standin.dm_channel_id))
    await standin.dispatch("MESSAGE_CREATE", standin.message("What is the weather in Jakarta today?", dm=True))
    await standin.wait_request("POST", rf"/channels/{standin.dm_channel_id}/messages", count=before + 1, timeout=20)
    assert await client.dispatcher.wait_delivered(10)


def text_of(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def button_ids(payload: dict) -> list[str]:
    return [c["custom_id"] for row in payload.get("components", []) for c in row["components"]]


async def test_an_answer_opens_a_thread_where_follow_ups_need_no_mention(standin, engine, store):
    assert not engine.ask(FOLLOW_EN).answered  # alone, the follow-up names nobody
    async with running_bot(standin, engine, store) as client:
        question = standin.mention(FIRST_EN)
        await standin.dispatch("MESSAGE_CREATE", question)
        (first,) = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", timeout=20)
        assert "en_robotics.txt" in text_of(first.json)
        assert first.json["message_reference"]["message_id"] == int(question["id"])
        (answer_id,) = standin.sent
        (opened,) = await standin.wait_request(
            "POST", rf"/channels/{standin.channel_id}/messages/{answer_id}/threads", status=201
        )
        assert FIRST_EN.startswith(opened.json["name"].rstrip("…"))
        await eventually(lambda: client.get_channel(int(answer_id)) is not None)  # THREAD_CREATE arrived

        # in the bot's thread, no mention: searched with the thread's first question
        await standin.dispatch("MESSAGE_CREATE", standin.message(FOLLOW_EN, channel_id=int(answer_id)))
        (second,) = await standin.wait_request("POST", rf"/channels/{answer_id}/messages", timeout=20)
        assert "41" in second.json["embeds"][0]["description"]
        assert standin.find("POST", rf"/channels/{answer_id}/typing", status=204)
        await client.dispatcher.wait_delivered(10)
        assert [t.question for t in store.turns("discord", answer_id)] == [FIRST_EN, FOLLOW_EN]

        # where no thread can be opened, a reply to the answer carries the conversation (Indonesian)
        standin.fail_next("POST", r"/channels/\d+/messages/\d+/threads", status=403)
        await standin.dispatch("MESSAGE_CREATE", standin.mention(FIRST_ID))
        third = (await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", count=2))[1]
        await client.dispatcher.wait_delivered(10)
        answer = next(m for m in standin.sent.values() if "id_drone.txt" in text_of(m))
        assert "id_drone.txt" in text_of(third.json)
        await standin.dispatch("MESSAGE_CREATE", standin.message(FOLLOW_ID, reply_to=answer))
        fourth = (await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", count=3))[2]
        assert "47 tahun" in fourth.json["embeds"][0]["description"]

        # a question in the channel, not addressed to the bot and not in its thread: left alone
        await standin.dispatch("MESSAGE_CREATE", standin.message(FOLLOW_EN))
        await settle(standin, client)
        assert len(posted(standin, standin.channel_id)) == 3


async def test_votes_are_recorded_once_per_user_and_acknowledged_privately(standin, engine, store):
    async with running_bot(standin, engine, store):
        await standin.dispatch("MESSAGE_CREATE", standin.mention(FIRST_ID))
        (reply,) = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", timeout=20)
        up, down = button_ids(reply.json)
        assert up.startswith("newsbot:vote:up:") and down.startswith("newsbot:vote:down:")
        (answer,) = standin.sent.values()

        async def click(custom_id: str, user: dict) -> dict:
            interaction = standin.component_interaction(custom_id, answer, user=user)
            await standin.dispatch("INTERACTION_CREATE", interaction)
            (callback,) = await standin.wait_request("POST", rf"/interactions/{interaction['id']}/.*/callback")
            assert callback.json["type"] == 4 and callback.json["data"]["flags"] & EPHEMERAL
            return callback.json["data"]

        assert (await click(up, standin.person))["content"] == feedback_ack("up", "id")
        assert store.feedback()[0] == {"up": 1, "down": 0, "answers": 1}
        await click(up, standin.person)
        assert store.feedback()[0] == {"up": 1, "down": 0, "answers": 1}
        assert (await click(down, standin.person))["content"] == feedback_ack("down", "id", changed=True)
        assert store.feedback()[0] == {"up": 0, "down": 1, "answers": 1}
        await click(up, standin.other_person)
        totals, (row,) = store.feedback()
        assert totals == {"up": 1, "down": 1, "answers": 1}
        assert (row.question, row.platform, row.sources) == (FIRST_ID, "discord", ("id_drone.txt",))


def mode_command(standin: DiscordStandin, mode: str, permissions: int) -> dict:
    sub = {"name": "mode", "type": 1, "options": [{"name": "mode", "type": 3, "value": mode}]}
    return standin.command_interaction("newsbot", [sub], permissions=permissions)


async def test_channel_mode_is_for_manage_server_only_and_all_answers_without_mention(standin, engine, store):
    async with running_bot(standin, engine, store) as client:
        refused = mode_command(standin, "all", MEMBER_PERMISSIONS)
        await standin.dispatch("INTERACTION_CREATE", refused)
        (callback,) = await standin.wait_request("POST", rf"/interactions/{refused['id']}/.*/callback")
        assert callback.json["data"]["content"] == messages.ADMIN_ONLY_DISCORD
        assert callback.json["data"]["flags"] & EPHEMERAL
        assert store.channel_mode("discord", str(standin.channel_id)) == "mention"

        allowed = mode_command(standin, "all", MEMBER_PERMISSIONS | MANAGE_GUILD)
        await standin.dispatch("INTERACTION_CREATE", allowed)
        (followup,) = await standin.wait_request("POST", rf"/webhooks/{standin.app_id}/{allowed['token']}")
        assert followup.json["flags"] & EPHEMERAL
        assert "`all`" in followup.json["content"] and "3 article(s)" in followup.json["content"]
        assert store.channel_mode("discord", str(standin.channel_id)) == "all"

        await standin.dispatch("MESSAGE_CREATE", standin.message("the coffee machine is broken again"))
        await standin.dispatch("MESSAGE_CREATE", standin.message("What is the weather in Jakarta today?"))
        question = standin.message("Berapa harga sewa drone PT Sawah Pintar per hektar?")
        await standin.dispatch("MESSAGE_CREATE", question)
        (reply,) = await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", timeout=20)
        assert reply.json["message_reference"]["message_id"] == int(question["id"])
        assert "150 ribu" in reply.json["embeds"][0]["description"]
        await settle(standin, client)  # the remark and the uncovered question get silence
        assert len(posted(standin, standin.channel_id)) == 1


async def test_latest_and_a_private_answer(standin, engine, store):
    async with running_bot(standin, engine, store):
        latest = standin.command_interaction("latest", locale="id")
        await standin.dispatch("INTERACTION_CREATE", latest)
        (callback,) = await standin.wait_request("POST", rf"/interactions/{latest['id']}/.*/callback")
        assert callback.json["type"] == 4 and callback.json["data"]["flags"] & EPHEMERAL
        (embed,) = callback.json["data"]["embeds"]
        assert embed["title"] == messages.say("LATEST_HEADING", "id")
        assert "Kopi Luwak Robotics Raises Funding" in embed["description"]

        private = standin.ask_interaction(FIRST_EN, private=True)
        await standin.dispatch("INTERACTION_CREATE", private)
        (deferred,) = await standin.wait_request("POST", rf"/interactions/{private['id']}/.*/callback")
        assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
        (followup,) = await standin.wait_request("POST", rf"/webhooks/{standin.app_id}/{private['token']}", timeout=20)
        assert followup.json["flags"] & EPHEMERAL and "en_robotics.txt" in text_of(followup.json)
        assert not standin.find("POST", r"/channels/\d+/messages/\d+/threads")  # a private answer opens none


async def test_without_the_message_content_intent_it_connects_and_still_answers_mentions(
    standin, engine, store, caplog
):
    standin.refuse_message_content = True
    with caplog.at_level(logging.WARNING, logger="newsbot.discord"):
        async with running_bot(standin, engine, store):
            await standin.dispatch("MESSAGE_CREATE", standin.mention(FIRST_EN))
            await standin.wait_request("POST", rf"/channels/{standin.channel_id}/messages", timeout=20)
    first, second = standin.identifies()
    assert first["intents"] & (1 << 15) and not second["intents"] & (1 << 15)
    assert any(messages.DISCORD_NO_MESSAGE_CONTENT in r.getMessage() for r in caplog.records)
