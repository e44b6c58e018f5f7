"""👍 / 👎 on answers: the buttons each platform needs, reading a click back, and the thanks."""

from __future__ import annotations

import asyncio
import json

import discord
import pytest
from slack_sdk.models.blocks import Block

from bot.core import messages
from bot.core.models import Answer, Citation, Reply
from bot.platforms.discord import render as discord_render
from bot.platforms.reply import feedback_ack
from bot.platforms.slack import render as slack_render

ANSWER_ID = "4f1c2b9e-7d3a_x.1"
LONGEST_ID = "a" * 80


def answered(count: int = 1, lang: str = "en", padding: int = 0) -> Reply:
    facts = [f"Fact {n}." + "x" * padding for n in range(1, count + 1)]
    citations = tuple(Citation(n, f"{n}.txt", "T", fact, fact, 0.5) for n, fact in enumerate(facts, 1))
    return Reply("answered", Answer("Who?", True, citations, lang=lang), lang=lang)


DECLINES = [
    Reply("declined", Answer("weather?", False, reason="not_covered")),
    Reply("declined", Answer("", False, reason="empty")),
    Reply("busy"),
    Reply("error"),
]
MALFORMED_IDS = ["", "a:b", "a b", "a" * 81, "ünïcode", "x\n", "<!channel>", None, 7]


# ---------------------------------------------------------------- Slack


def slack(reply: Reply, answer_id: str | None) -> dict:
    return slack_render.render_reply(reply, question="Who?", max_question_chars=500, answer_id=answer_id)


@pytest.mark.parametrize(
    ("lang", "up", "down"), [("en", "Helpful", "Not helpful"), ("id", "Membantu", "Tidak membantu")]
)
def test_slack_answer_ends_in_two_vote_buttons(lang, up, down):
    message = slack(answered(lang=lang), ANSWER_ID)
    actions = message["blocks"][-1]
    assert actions == {
        "type": "actions",
        "block_id": "newsbot_feedback",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "👍", "emoji": True},
                "action_id": "newsbot_vote_up",
                "value": ANSWER_ID,
                "accessibility_label": up,
            },
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "👎", "emoji": True},
                "action_id": "newsbot_vote_down",
                "value": ANSWER_ID,
                "accessibility_label": down,
            },
        ],
    }
    # Slack's own Block Kit models accept every block and drop nothing from it
    for block in message["blocks"]:
        parsed = Block.parse(block)
        parsed.validate_json()
        assert parsed.to_dict() == block
    json.dumps(message)  # plain JSON, nothing else


def test_slack_no_buttons_without_an_id_or_an_answer():
    assert all(b["type"] != "actions" for b in slack(answered(), None)["blocks"])
    for reply in DECLINES:
        message = slack(reply, ANSWER_ID)
        assert all(b["type"] != "actions" for b in message.get("blocks", []))


def test_slack_buttons_keep_the_message_within_fifty_blocks():
    message = slack(answered(count=120, padding=1400), LONGEST_ID)
    blocks = message["blocks"]
    assert len(blocks) <= slack_render.MAX_BLOCKS
    assert blocks[-1]["block_id"] == "newsbot_feedback"
    assert blocks[-2]["type"] == "context" and "did not fit" in blocks[-2]["elements"][0]["text"]


@pytest.mark.parametrize("verdict", ["up", "down"])
def test_slack_a_click_reads_back(verdict):
    (button,) = [b for b in slack(answered(), LONGEST_ID)["blocks"][-1]["elements"] if b["action_id"].endswith(verdict)]
    assert slack_render.parse_vote(button["action_id"], button["value"]) == (verdict, LONGEST_ID)


@pytest.mark.parametrize(
    ("action_id", "value"),
    [("newsbot_vote_sideways", ANSWER_ID), ("vote_up", ANSWER_ID), (None, ANSWER_ID), (["newsbot_vote_up"], "x")]
    + [("newsbot_vote_up", bad) for bad in MALFORMED_IDS],
)
def test_slack_anything_else_is_not_a_vote(action_id, value):
    assert slack_render.parse_vote(action_id, value) is None


# ---------------------------------------------------------------- Discord


def test_discord_answer_describes_two_buttons_within_the_custom_id_limit():
    out = discord_render.render_reply(answered(), max_question_chars=500, answer_id=LONGEST_ID)
    assert out.buttons == ((f"newsbot:vote:up:{LONGEST_ID}", "👍"), (f"newsbot:vote:down:{LONGEST_ID}", "👎"))
    assert all(len(custom_id) <= 100 for custom_id, _ in out.buttons)
    assert discord_render.render_reply(answered(), max_question_chars=500).buttons == ()
    for reply in DECLINES:
        assert discord_render.render_reply(reply, max_question_chars=500, answer_id=ANSWER_ID).buttons == ()


def test_discord_feedback_view_is_persistent_and_sends_the_buttons():
    async def build() -> discord.ui.View:
        return discord_render.feedback_view(ANSWER_ID)

    view = asyncio.run(build())
    assert view.timeout is None and view.is_persistent()
    (row,) = view.to_components()
    assert row["type"] == 1  # an action row
    assert [(b["type"], b["custom_id"], b["emoji"]["name"]) for b in row["components"]] == [
        (2, f"newsbot:vote:up:{ANSWER_ID}", "👍"),
        (2, f"newsbot:vote:down:{ANSWER_ID}", "👎"),
    ]
    out = discord_render.render_reply(answered(), max_question_chars=500, answer_id=ANSWER_ID)
    same = asyncio.run(_view_of(out.buttons))
    assert same.to_components() == view.to_components()
    assert asyncio.run(_view_of(())) is None


async def _view_of(buttons):
    return discord_render.buttons_view(buttons)


@pytest.mark.parametrize("verdict", ["up", "down"])
def test_discord_a_click_reads_back(verdict):
    custom_id = discord_render.vote_custom_id(verdict, ANSWER_ID)
    assert discord_render.parse_vote(custom_id) == (verdict, ANSWER_ID)


@pytest.mark.parametrize(
    "custom_id",
    [
        "newsbot:vote:sideways:abc",
        "newsbot:vote:up:",
        "newsbot:vote:up",
        "other:vote:up:abc",
        "newsbot:vote:up:abc:extra",
        " newsbot:vote:up:abc",
        "NEWSBOT:VOTE:UP:abc",
        None,
        123,
    ]
    + [f"newsbot:vote:down:{bad}" for bad in MALFORMED_IDS if isinstance(bad, str)],
)
def test_discord_anything_else_is_not_a_vote(custom_id):
    assert discord_render.parse_vote(custom_id) is None


@pytest.mark.parametrize("bad", [b for b in MALFORMED_IDS if b is not None])
def test_an_id_no_button_can_carry_is_a_bug_not_a_silent_drop(bad):
    with pytest.raises(ValueError):
        discord_render.render_reply(answered(), max_question_chars=500, answer_id=bad)
    with pytest.raises(ValueError):
        slack(answered(), bad)


# ---------------------------------------------------------------- thanks, to the clicker alone


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_thanks_name_the_vote_in_the_clickers_language(lang):
    up, down = feedback_ack("up", lang), feedback_ack("down", lang)
    assert up.endswith("👍") and down.endswith("👎")
    assert up == messages.say("FEEDBACK_THANKS", lang).format(emoji="👍")
    changed = feedback_ack("down", lang, changed=True)
    assert changed.endswith("👎") and changed != down
    assert feedback_ack("up", lang, known=False) == messages.say("FEEDBACK_UNKNOWN", lang)
    assert feedback_ack("up", "en") == "Thanks — noted 👍"
    if lang == "id":
        assert up != feedback_ack("up", "en") and changed != feedback_ack("down", "en", changed=True)
