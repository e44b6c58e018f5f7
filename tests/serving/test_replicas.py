"""Two `newsbot serve` processes behind one Slack Request URL, sharing one real PostgreSQL.

A load balancer may send any request to any replica: the next turn of a thread, Slack's retry
of an event, a click on an answer's button. Each replica here is a real subprocess in Slack
HTTP mode on its own port; both read one index folder (built once, as one `newsbot index`
job on a shared volume would) and keep their state in the same PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from urllib.parse import urlencode

import aiohttp
import pytest
import pytest_asyncio

from bot.platforms.conversation import answer_lang
from bot.platforms.reply import feedback_ack
from bot.state.sql import open_store
from tests.platforms.slack_standin import BOT_USER_ID, SlackStandIn
from tests.platforms.test_conversation_slack import block_actions, channel_message
from tests.platforms.test_slack import all_text, event_payload, mention, signature_headers
from tests.serving.test_service import Bot, metric, start_bot, stop, wait_ready

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.timeout(120)]

FIRST = "Who leads Meta's superintelligence unit?"
FOLLOW = "How old is he?"  # names nobody: only the thread's first question makes it answerable
OTHER = "Who is Anthropic's new CTO?"


class Replicas:
    """Replica A and replica B, the Slack stand-in both talk to, and the database they share."""

    def __init__(self, a: Bot, b: Bot, slack: SlackStandIn, session: aiohttp.ClientSession, database_url: str):
        self.a, self.b, self.slack, self.session, self.database_url = a, b, slack, session, database_url
        self.signed_at = 0  # the timestamp the last event was signed with

    async def post(self, bot: Bot, body: str, content_type: str, headers: dict) -> int:
        async with self.session.post(
            bot.url + "/slack/events", data=body.encode(), headers={"Content-Type": content_type, **headers}
        ) as r:
            return r.status

    async def event(self, bot: Bot, event: dict, event_id: str | None = None) -> str:
        """Post an event to one replica; the body, for a retry of it."""
        body = json.dumps(event_payload(event, event_id))
        self.signed_at = int(time.time())
        assert await self.post(bot, body, "application/json", signature_headers(body, self.signed_at)) == 200
        return body

    async def thread_posts(self, thread_ts: str, count: int, timeout: float = 30) -> list:
        """The bot's messages in a thread, once there are `count` of them."""

        def found():
            posts = [c for c in self.slack.calls_to("chat.postMessage") if c.body.get("thread_ts") == thread_ts]
            return posts if len(posts) >= count else None

        return await self.slack.wait_for(found, timeout)

    async def questions(self, bot: Bot, outcome: str) -> float:
        _, text = await bot.get(self.session, "/metrics")
        return metric(text, "newsbot_questions_total", platform="slack", outcome=outcome) or 0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def replicas(tmp_path_factory, seeds_engine, postgres_server):
    root = tmp_path_factory.mktemp("replicas")
    shared = root / "shared"  # the volume both replicas mount: one seeds folder, one index
    shutil.copytree(seeds_engine.config.seeds_dir, shared / "seeds")
    shutil.copytree(seeds_engine.config.index_dir, shared / "index", symlinks=True)
    database_url = postgres_server.new_database()
    env = dict(
        NEWSBOT_SEEDS_DIR=str(shared / "seeds"),
        NEWSBOT_INDEX_DIR=str(shared / "index"),
        NEWSBOT_DATABASE_URL=database_url,
    )
    slack = await SlackStandIn().start()
    bots: list[Bot] = []
    try:
        async with aiohttp.ClientSession() as session:
            for name in ("a", "b"):  # each replica has its own folder for its log and its data
                (root / name).mkdir()
                bots.append(await start_bot(root / name, slack=slack, **env))
            await asyncio.gather(*(wait_ready(bot, session, timeout=60) for bot in bots))
            yield Replicas(*bots, slack, session, database_url)
            codes = await asyncio.gather(*(stop(bot) for bot in bots))
            assert codes == [0, 0], [bot.log[-2000:] for bot in bots]
    finally:
        for bot in bots:
            if bot.proc.returncode is None:
                await stop(bot)
        await slack.close()


async def test_the_follow_up_on_replica_b_is_searched_with_the_turn_replica_a_answered(replicas, seeds_engine):
    # alone, the follow-up names nobody, and the archive cannot answer it
    assert not seeds_engine.ask(FOLLOW).answered
    r = replicas
    asked_before = await r.questions(r.a, "answered"), await r.questions(r.b, "answered")

    await r.event(r.a, mention(f"<@{BOT_USER_ID}> {FIRST}", ts="1700001000.000100"))
    (first,) = await r.thread_posts("1700001000.000100", 1)
    cited = [s for s in seeds_engine.ask(FIRST).sources if s in all_text(first.body)]
    assert cited, all_text(first.body)[:500]

    # in A's answer thread, no mention: B finds the earlier question in PostgreSQL
    await r.event(r.b, channel_message(FOLLOW, "1700001001.000100", thread_ts="1700001000.000100"))
    _, second = await r.thread_posts("1700001000.000100", 2)
    paired = seeds_engine.ask(FOLLOW, (FIRST,))
    assert paired.answered and paired.short and "28" in paired.short  # the seed: "berusia 28 tahun"
    assert paired.short in all_text(second.body) and paired.sources[0] in all_text(second.body)

    assert await r.questions(r.a, "answered") == asked_before[0] + 1  # each replica answered one turn
    assert await r.questions(r.b, "answered") == asked_before[1] + 1
    store = open_store(r.database_url)
    try:
        turns = store.turns("slack", "C0NEWS:1700001000.000100")
    finally:
        store.close()
    assert [t.question for t in turns] == [FIRST, FOLLOW]


async def test_a_retried_event_landing_on_the_other_replica_is_answered_once(replicas):
    r = replicas
    before = [await r.questions(bot, "answered") + await r.questions(bot, "declined") for bot in (r.a, r.b)]
    body = await r.event(r.a, mention(f"<@{BOT_USER_ID}> {OTHER}", ts="1700002000.000100"), "Ev0CROSSREPLICA")

    # Slack gave up waiting and retried: a new signature, the same event_id, sent to B
    retry = signature_headers(body, timestamp=r.signed_at - 1)  # another second than the first: not a replay
    retry.update({"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert await r.post(r.b, body, "application/json", retry) == 200
    await r.b.wait_log(r"skipped a retried event Ev0CROSSREPLICA")
    await r.thread_posts("1700002000.000100", 1)

    # B's own log line says it stood down; the count of questions asked says A asked once and B never did
    after = [await r.questions(bot, "answered") + await r.questions(bot, "declined") for bot in (r.a, r.b)]
    assert after == [before[0] + 1, before[1]]
    assert len(await r.thread_posts("1700002000.000100", 1)) == 1


async def test_a_click_on_replica_b_counts_for_the_answer_replica_a_gave(replicas):
    r = replicas
    await r.event(r.a, mention(f"<@{BOT_USER_ID}> {FIRST}", ts="1700003000.000100"))
    (answer,) = await r.thread_posts("1700003000.000100", 1)
    message = dict(answer.body, ts="1700003000.000200")
    (feedback,) = [b for b in message["blocks"] if b.get("block_id") == "newsbot_feedback"]
    answer_id = feedback["elements"][0]["value"]

    payload = block_actions(message, "newsbot_vote_up", "UVOTER1", r.slack.response_url("vote-on-b"))
    body = urlencode({"payload": json.dumps(payload)})
    assert await r.post(r.b, body, "application/x-www-form-urlencoded", signature_headers(body)) == 200
    (ack,) = await r.slack.wait_for(lambda: [c for c in r.slack.calls_to("response") if c.path.endswith("vote-on-b")])
    # B knew the answer (an unknown one is thanked differently), in the language A answered in
    assert ack.body["text"] == feedback_ack("up", answer_lang(answer_id))

    store = open_store(r.database_url)
    try:
        totals, _ = store.feedback()
        (row,) = [row for row in store.feedback_rows() if row.answer_id == answer_id]
    finally:
        store.close()
    assert totals == {"up": 1, "down": 0, "answers": 1}
    assert (row.question, row.platform, row.up, row.down) == (FIRST, "slack", 1, 0)
    assert row.sources and row.sources[0] in all_text(answer.body)
