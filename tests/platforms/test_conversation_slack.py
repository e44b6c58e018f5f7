"""Conversations on Slack end to end: the real Bolt app served over HTTP, the real engine over
articles of our own, the real SQLite store in a temporary file, and the Slack stand-in.

Follow-ups in threads, 👍 / 👎 clicks (signed `block_actions` as Slack sends them), channel
modes and the admin command, `/ask latest`, App Home, and the store shared by two replicas.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from contextlib import AsyncExitStack
from urllib.parse import urlencode

import pytest

from bot.core import messages
from bot.platforms.reply import feedback_ack
from bot.retrieval.engine import Engine
from bot.serving.dispatch import Dispatcher, user_hash
from bot.state.sql import open_store
from tests.conftest import make_settings as engine_settings
from tests.platforms.slack_standin import APP_ID, BOT_USER_ID, TEAM_ID, SlackStandIn
from tests.platforms.test_slack import (
    all_text,
    command_payload,
    event_payload,
    make_settings,
    mention,
    posts_to,
    serve_http,
    signature_headers,
)
from tests.platforms.test_slack import standin as standin

pytestmark = pytest.mark.timeout(60)

ARTICLES = {
    "en_robotics.txt": (
        "Kopi Luwak Robotics Raises Funding\n\n"
        "Kopi Luwak Robotics, a startup from Bandung, raised 12 million dollars to build coffee-harvesting "
        "robots. The round was led by Garuda Ventures and closed in October. The company plans to hire forty "
        "engineers next year.\n\n"
        "Its founder is Sari Wijaya. Wijaya, 41, previously built warehouse robots in Singapore before "
        "moving back to West Java.\n"
    ),
    "en_chip.txt": (
        "Nordic Chipmaker Opens Helsinki Lab\n\n"
        "Aurora Silicon, a chip designer based in Oslo, opened a research lab in Helsinki with two hundred "
        "staff. The lab will design low-power processors for hearing aids.\n\n"
        "Chief executive Ingrid Halvorsen, 58, said the lab cost 80 million euros.\n"
    ),
    "id_drone.txt": (
        "Startup Surabaya Luncurkan Drone Pertanian\n\n"
        "PT Sawah Pintar, perusahaan rintisan asal Surabaya, meluncurkan drone penyemprot pupuk untuk petani "
        "padi. Drone itu mampu menyemprot satu hektar sawah dalam sepuluh menit.\n\n"
        "Direktur utamanya, Budi Santoso, yang berusia 47 tahun, mengatakan harga sewa drone hanya 150 ribu "
        "rupiah per hektar.\n"
    ),
}
FIRST_EN, FOLLOW_EN = "Who founded Kopi Luwak Robotics?", "How old is she?"
FIRST_ID, FOLLOW_ID = "Siapa direktur utama PT Sawah Pintar?", "Berapa umurnya?"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder) -> Engine:
    root = tmp_path_factory.mktemp("conversation-slack")
    (root / "seeds").mkdir()
    for name, text in ARTICLES.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return Engine.open(engine_settings(root), embedder=embedder)


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'state.sqlite3'}"


@pytest.fixture
def store(store_url):
    opened = open_store(store_url)
    yield opened
    opened.close()


def channel_message(text: str, ts: str, thread_ts: str | None = None, user: str = "UASKER1", channel="C0NEWS"):
    """A message in a channel the bot is in (message.channels), as Slack sends it."""
    event = {
        "type": "message",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = BOT_USER_ID
    return event


def block_actions(message: dict, action_id: str, user: str, response_url: str, channel: str = "C0NEWS") -> dict:
    """A click on a button of `message` (one the bot posted), as Slack posts it to the Request URL."""
    (feedback,) = [b for b in message["blocks"] if b.get("block_id") == "newsbot_feedback"]
    (button,) = [e for e in feedback["elements"] if e["action_id"] == action_id]
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message.get("ts", "1700000000.000001"), "channel_id": channel},
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "news"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "block_id": feedback["block_id"],
                "action_id": action_id,
                "value": button["value"],
                "text": button["text"],
                "action_ts": str(time.time()),
            }
        ],
    }


async def click(bot, message: dict, action_id: str, user: str, name: str) -> dict:
    body = urlencode({"payload": json.dumps(block_actions(message, action_id, user, bot.standin.response_url(name)))})
    status, _, _ = await bot.post(body, "application/x-www-form-urlencoded")
    assert status == 200
    (ack,) = await bot.standin.wait_for(lambda: [c for c in bot.standin.calls_to("response") if c.path.endswith(name)])
    return ack.body


async def command(bot, text: str, user: str = "UASKER1", name: str | None = None):
    """The slash command; its response_url is /response/<name>."""
    name = name or uuid.uuid4().hex
    body = urlencode(command_payload(text, bot.standin.response_url(name), user=user))
    status, text_, _ = await bot.post(body, "application/x-www-form-urlencoded")
    assert status == 200
    return name, text_


def thread_posts(standin: SlackStandIn, thread_ts: str) -> list:
    return [c for c in standin.calls_to("chat.postMessage") if c.body.get("thread_ts") == thread_ts]


async def test_follow_ups_in_the_answers_thread_are_searched_with_the_first_question(standin, engine, store):
    # alone, the follow-ups name nobody: the archive cannot answer them
    assert not engine.ask(FOLLOW_EN).answered and not engine.ask(FOLLOW_ID).answered
    async with serve_http(make_settings(standin), Dispatcher(engine), standin, store=store) as bot:
        await bot.event(mention(f"<@{BOT_USER_ID}> {FIRST_EN}", ts="1700000100.000100"))
        (first,) = await standin.wait_calls("chat.postMessage")
        assert first.body["thread_ts"] == "1700000100.000100" and "en_robotics.txt" in all_text(first.body)
        await bot.settled()

        # in the bot's thread, no mention needed; its earlier question makes "she" findable
        await bot.event(channel_message(FOLLOW_EN, "1700000101.000100", thread_ts="1700000100.000100"))
        second = (await standin.wait_calls("chat.postMessage", 2))[1]
        assert second.body["thread_ts"] == "1700000100.000100"
        shown = re.sub(r'"value": "[^"]*"', "", all_text(second.body))  # not the buttons' random answer id
        assert "41" in shown and "58" not in shown

        # /ask answers in a message of its own, whose thread carries the conversation (Indonesian)
        await command(bot, FIRST_ID)
        third = (await standin.wait_calls("chat.postMessage", 3))[2]
        assert third.body["channel"] == "C0NEWS" and "thread_ts" not in third.body
        assert "id_drone.txt" in all_text(third.body)
        await bot.settled()
        (answer_ts,) = [k.split(":")[1] for k in _thread_keys(store) if k != "C0NEWS:1700000100.000100"]
        await bot.event(channel_message(FOLLOW_ID, "1700000300.000100", thread_ts=answer_ts))
        fourth = (await standin.wait_calls("chat.postMessage", 4))[3]
        assert fourth.body["thread_ts"] == answer_ts and "47 tahun" in all_text(fourth.body)

        # not the bot's thread, or not a question: left alone
        await bot.event(channel_message(FOLLOW_EN, "1700000400.000100", thread_ts="1700000399.000001"))
        await bot.event(channel_message("thanks, that helps", "1700000400.000200", thread_ts="1700000100.000100"))
        await bot.nothing_more()
    assert len(posts_to(standin, "C0NEWS")) == 4
    turns = store.turns("slack", "C0NEWS:1700000100.000100")
    assert [t.question for t in turns] == [FIRST_EN, FOLLOW_EN]
    assert turns[1].sources == ("en_robotics.txt",)


def _thread_keys(store) -> list[str]:
    from sqlalchemy import select

    from bot.state.schema import threads

    with store.engine.connect() as conn:
        return [row.thread for row in conn.execute(select(threads.c.thread))]


async def test_a_vote_is_recorded_once_per_user_and_a_second_click_changes_it(standin, engine, store):
    async with serve_http(make_settings(standin), Dispatcher(engine), standin, store=store) as bot:
        await bot.event(mention(f"<@{BOT_USER_ID}> {FIRST_ID}", ts="1700000500.000100"))
        (post,) = await standin.wait_calls("chat.postMessage")
        answer = dict(post.body, ts="1700000500.000200")

        ack = await click(bot, answer, "newsbot_vote_up", "UASKER1", "v1")
        # the clicker alone is thanked, in the answer's language
        assert ack["response_type"] == "ephemeral" and ack.get("replace_original") is False
        assert ack["text"] == feedback_ack("up", "id")
        assert store.feedback()[0] == {"up": 1, "down": 0, "answers": 1}

        ack = await click(bot, answer, "newsbot_vote_up", "UASKER1", "v2")  # the same click again
        assert store.feedback()[0] == {"up": 1, "down": 0, "answers": 1}
        ack = await click(bot, answer, "newsbot_vote_down", "UASKER1", "v3")
        assert ack["text"] == feedback_ack("down", "id", changed=True)
        assert store.feedback()[0] == {"up": 0, "down": 1, "answers": 1}

        await click(bot, answer, "newsbot_vote_up", "UOTHER", "v4")  # another person's vote counts apart
        totals, worst = store.feedback()
        assert totals == {"up": 1, "down": 1, "answers": 1}
        (row,) = worst
        assert (row.question, row.platform, row.sources) == (FIRST_ID, "slack", ("id_drone.txt",))

        forged = json.loads(json.dumps(answer).replace(_answer_id(answer), "0123456789abcdef-en"))
        ack = await click(bot, forged, "newsbot_vote_up", "UASKER1", "v5")  # an answer the store never saw
        assert ack["text"] == feedback_ack("up", "en", known=False)
    assert store.feedback()[0]["answers"] == 1
    assert user_hash("slack", "UASKER1") not in all_text(post.body)


def _answer_id(message: dict) -> str:
    (feedback,) = [b for b in message["blocks"] if b.get("block_id") == "newsbot_feedback"]
    return feedback["elements"][0]["value"]


async def test_channel_modes_are_set_by_admins_only(standin, engine, store):
    settings = make_settings(standin, slack_admins=["UADMIN"])
    async with serve_http(settings, Dispatcher(engine), standin, store=store) as bot:
        # default "mention": a question nobody addressed to the bot is left alone
        await bot.event(channel_message(FIRST_EN, "1700000600.000100"))
        name, _ = await command(bot, "mode all", user="UASKER1")
        (refused,) = await standin.wait_for(lambda: [c for c in standin.calls_to("response") if name in c.path])
        assert refused.body["response_type"] == "ephemeral"
        assert refused.body["text"] == messages.ADMIN_ONLY_SLACK
        await bot.nothing_more()
        assert store.channel_mode("slack", "C0NEWS") == "mention" and posts_to(standin, "C0NEWS") == []

        name, _ = await command(bot, "mode all", user="UADMIN")
        (changed,) = await standin.wait_for(lambda: [c for c in standin.calls_to("response") if name in c.path])
        assert changed.body["response_type"] == "ephemeral"
        assert "`all`" in changed.body["text"] and "3 article(s), " in changed.body["text"]
        assert store.channel_mode("slack", "C0NEWS") == "all"

        # "all": questions are answered in their own thread; remarks and uncovered questions get silence
        await bot.event(channel_message("Berapa harga sewa drone PT Sawah Pintar per hektar?", "1700000700.000100"))
        await bot.event(channel_message("lunch is ready in the kitchen", "1700000700.000200"))
        await bot.event(channel_message("What is the weather in Jakarta today?", "1700000700.000300"))
        await bot.nothing_more()
        (answer,) = posts_to(standin, "C0NEWS")
        assert answer.body["thread_ts"] == "1700000700.000100" and "150 ribu" in all_text(answer.body)
        assert standin.calls_to("chat.postEphemeral") == []

        name, _ = await command(bot, "mode mention", user="UADMIN")
        await standin.wait_for(lambda: [c for c in standin.calls_to("response") if name in c.path])
        assert store.channel_mode("slack", "C0NEWS") == "mention"


async def test_latest_status_and_app_home(standin, engine, store):
    health = {"https://news.example/feed": {"ok": False, "failures": 3, "last_error": "HTTP 500"}}
    async with serve_http(
        make_settings(standin), Dispatcher(engine), standin, store=store, feed_health=lambda: health
    ) as bot:
        _, text = await command(bot, "latest")
        latest = json.loads(text)
        assert latest["response_type"] == "ephemeral"
        shown = all_text(latest)
        titles = ["Nordic Chipmaker Opens Helsinki Lab", "Kopi Luwak Robotics Raises Funding"]
        assert all(title in shown for title in titles)

        name, _ = await command(bot, "status", user="UASKER1")  # anyone may look
        (status,) = await standin.wait_for(lambda: [c for c in standin.calls_to("response") if name in c.path])
        assert "3 article(s)" in status.body["text"] and "https://news.example/feed: failing (3" in status.body["text"]

        home = {"type": "app_home_opened", "user": "UASKER1", "channel": "D0HOME", "tab": "home"}
        await bot.event(home)
        (published,) = await standin.wait_calls("views.publish")
    view = json.loads(published.body["view"]) if isinstance(published.body["view"], str) else published.body["view"]
    assert published.body["user_id"] == "UASKER1" and view["type"] == "home"
    text = all_text(view)
    assert "/ask" in text and "3 article(s)" in text and "3 artikel" in text  # both languages


async def test_two_replicas_share_retries_and_rate_limits(standin, engine, store_url):
    stores = [open_store(store_url), open_store(store_url)]
    try:
        async with AsyncExitStack() as stack:
            settings = make_settings(standin, rate_limit_per_minute=1)
            a, b = [
                await stack.enter_async_context(serve_http(settings, Dispatcher(engine, 1, store=s), standin, store=s))
                for s in stores
            ]
            event = mention(f"<@{BOT_USER_ID}> {FIRST_EN}", ts="1700000800.000100")
            body = json.dumps(event_payload(event, "Ev0REPLICA"))
            signed_at = int(time.time())
            await a.post(body, "application/json", signature_headers(body, signed_at))
            retry = signature_headers(body, timestamp=signed_at - 1)  # Slack's retry: a new signature
            retry.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
            assert (await b.post(body, "application/json", retry))[0] == 200
            await a.nothing_more()
            await b.nothing_more()
            (answer,) = posts_to(standin, "C0NEWS")
            assert "en_robotics.txt" in all_text(answer.body)

            # the same person's next question, on the other replica, counts against one limit
            await b.event(mention(f"<@{BOT_USER_ID}> {FIRST_ID}", ts="1700000900.000100"))
            (limited,) = await standin.wait_calls("chat.postEphemeral")
            assert limited.body["text"].startswith(messages.say("RATE_LIMITED", "id").split("{")[0])
    finally:
        for s in stores:
            s.close()
