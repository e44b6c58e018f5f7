"""The dispatcher on a real engine over articles of our own (English and Indonesian).

To hold questions in the engine, the tests keep the model busy the way an indexing batch
does: by holding its real lock from another thread. Nothing of ours is faked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from contextlib import contextmanager

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core.models import Reply
from bot.retrieval.engine import Engine
from bot.serving.dispatch import Dispatcher, Drained, user_hash
from tests.conftest import make_settings

ARTICLES = {
    "en_robotics.txt": (
        "Kopi Luwak Robotics Raises Funding\n\n"
        "Kopi Luwak Robotics, a startup from Bandung, raised 12 million dollars to build coffee-harvesting "
        "robots. The round was led by Garuda Ventures and closed in October. The company plans to hire forty "
        "engineers next year.\n\nIts founder, Sari Wijaya, previously built warehouse robots in Singapore.\n"
    ),
    "id_drone.txt": (
        "Startup Surabaya Luncurkan Drone Pertanian\n\n"
        "PT Sawah Pintar, perusahaan rintisan asal Surabaya, meluncurkan drone penyemprot pupuk untuk petani "
        "padi. Drone itu mampu menyemprot satu hektar sawah dalam sepuluh menit. Direktur utamanya, Budi "
        "Santoso, mengatakan harga sewa drone hanya 150 ribu rupiah per hektar.\n\n"
        "Perusahaan itu menargetkan lima ribu petani di Jawa Timur pada tahun depan.\n"
    ),
    "en_chip.txt": (
        "Nordic Chipmaker Opens Helsinki Lab\n\n"
        "Aurora Silicon, a chip designer based in Oslo, opened a research lab in Helsinki with two hundred "
        "staff. The lab will design low-power processors for hearing aids. Chief executive Ingrid Halvorsen "
        "said the lab cost 80 million euros.\n"
    ),
}
EN_QUESTION = "Who led the funding round of Kopi Luwak Robotics?"
ID_QUESTION = "Berapa harga sewa drone PT Sawah Pintar per hektar?"
OUT_OF_SCOPE = "What is the weather in Jakarta today?"


@pytest.fixture(scope="module")
def engine(tmp_path_factory, embedder) -> Engine:
    root = tmp_path_factory.mktemp("dispatch")
    (root / "seeds").mkdir()
    for name, text in ARTICLES.items():
        (root / "seeds" / name).write_text(text, encoding="utf-8")
    return Engine.open(make_settings(root), embedder=embedder)


@contextmanager
def model_busy(embedder):
    """The model held by an "indexing batch" (its real lock, from another thread) until the block ends."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with embedder._lock.batch():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


async def until(predicate, timeout: float = 10.0) -> None:
    """Wait for a condition of the dispatcher's own counters (bounded)."""

    async def poll():
        while not predicate():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


def counts(dispatcher: Dispatcher) -> dict[tuple[str, str], float]:
    """newsbot_questions_total by (platform, outcome), read back through Prometheus' parser."""
    text = dispatcher.metrics.render().decode()
    return {
        (s.labels["platform"], s.labels["outcome"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "newsbot_questions"
        for s in family.samples
        if s.name == "newsbot_questions_total"
    }


def question_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "newsbot.questions" and r.getMessage() == "question"]


async def test_outcomes_in_both_languages_are_logged_and_counted(engine, caplog):
    caplog.set_level(logging.INFO, logger="newsbot.questions")
    d = Dispatcher(engine)
    en = await d.ask("slack", "U0ASKER", EN_QUESTION)
    assert en.kind == "answered" and en.answer.sources[0] == "en_robotics.txt"
    assert "Garuda Ventures" in en.answer.passages[0].text
    id_ = await d.ask("discord", "4242", ID_QUESTION)
    assert id_.kind == "answered" and id_.answer.sources[0] == "id_drone.txt"
    out = await d.ask("slack", "U0ASKER", OUT_OF_SCOPE)
    assert out.kind == "declined" and out.answer.reason == "not_covered"
    empty = await d.ask("slack", "U0ASKER", "   ")
    assert empty.kind == "declined" and empty.answer.reason == "empty"

    assert counts(d) == {("slack", "answered"): 1, ("discord", "answered"): 1, ("slack", "declined"): 2}
    latency = d.metrics.registry.get_sample_value("newsbot_answer_latency_seconds_count", {"platform": "slack"})
    assert latency == 3
    records = question_records(caplog)
    assert [(r.platform, r.outcome) for r in records] == [
        ("slack", "answered"),
        ("discord", "answered"),
        ("slack", "declined"),
        ("slack", "declined"),
    ]
    assert records[0].sources[0] == "en_robotics.txt" and records[1].sources[0] == "id_drone.txt"
    assert all(r.latency_ms >= 0 for r in records)


def test_users_are_logged_as_a_stable_pseudonym():
    h = user_hash("slack", "U0ASKER")
    assert re.fullmatch(r"[0-9a-f]{12}", h)
    assert h == user_hash("slack", "U0ASKER")
    assert h != user_hash("discord", "U0ASKER") and h != user_hash("slack", "U0OTHER")


async def test_the_log_line_carries_the_hash_not_the_user_id(engine, caplog):
    caplog.set_level(logging.INFO, logger="newsbot.questions")
    await Dispatcher(engine).ask("discord", "987654321012345678", EN_QUESTION)
    (record,) = question_records(caplog)
    assert record.user == user_hash("discord", "987654321012345678")
    assert "987654321012345678" not in repr(vars(record))


async def test_an_engine_failure_is_an_error_reply_logged_with_its_traceback(engine, caplog):
    not_loaded = Engine(engine.config, engine.embedder)  # no index loaded: ask raises
    d = Dispatcher(not_loaded)
    reply = await d.ask("slack", "U0ASKER", EN_QUESTION)
    assert reply == Reply("error")
    assert counts(d) == {("slack", "error"): 1}
    failure = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert failure.exc_info is not None and "the index is not loaded" in str(failure.exc_info[1])
    assert user_hash("slack", "U0ASKER") in failure.getMessage() and "U0ASKER" not in failure.getMessage()


async def test_past_the_bound_the_answer_is_busy_at_once_without_using_a_turn(engine, caplog):
    caplog.set_level(logging.INFO, logger="newsbot.questions")
    d = Dispatcher(engine, rate_limit_per_minute=1, max_pending=3, workers=1)
    with model_busy(engine.embedder):
        asked = [asyncio.create_task(d.ask("slack", f"U{i}", EN_QUESTION)) for i in range(3)]
        await until(lambda: d.pending == 3)
        # the fourth is not queued: it is answered at once, while the model is still held
        assert await asyncio.wait_for(d.ask("slack", "U9", EN_QUESTION), 2) == Reply("busy")
        assert counts(d) == {("slack", "busy"): 1}
        assert not any(t.done() for t in asked)
    assert [(await t).kind for t in asked] == ["answered"] * 3
    assert d.pending == 0
    # the busy reply used none of U9's one question a minute
    assert (await d.ask("slack", "U9", EN_QUESTION)).kind == "answered"
    assert (await d.ask("slack", "U9", EN_QUESTION)).kind == "rate_limited"
    assert counts(d) == {("slack", "busy"): 1, ("slack", "answered"): 4, ("slack", "rate_limited"): 1}
    assert [r.outcome for r in question_records(caplog)].count("busy") == 1


async def test_drain_waits_until_the_reply_is_delivered(engine):
    d = Dispatcher(engine)
    delivered = asyncio.Event()
    got_reply = asyncio.Event()
    replies: list[Reply] = []

    async def asker():  # what a platform adapter does: ask, then send
        replies.append(await d.ask("slack", "U1", EN_QUESTION))
        got_reply.set()
        await delivered.wait()

    task = asyncio.create_task(asker())
    await asyncio.wait_for(got_reply.wait(), 10)
    draining = asyncio.create_task(d.drain(grace=10))
    await until(lambda: not d.accepting)
    # a question asked now (by another platform task) is refused with "restarting" at once
    assert await asyncio.create_task(d.ask("slack", "U2", EN_QUESTION)) == Reply("shutting_down")
    assert not draining.done()  # still waiting for the first reply's delivery
    delivered.set()
    assert await asyncio.wait_for(draining, 5) == Drained(in_time=True, told_restarting=0, undelivered=0)
    assert task.done() and replies[0].kind == "answered"
    assert counts(d) == {("slack", "answered"): 1, ("slack", "shutting_down"): 1}


async def test_when_the_grace_runs_out_waiting_and_running_questions_are_told_restarting(engine):
    d = Dispatcher(engine, max_pending=5, workers=1)
    sent: list[Reply] = []

    async def asker(i):
        sent.append(await d.ask("discord", f"u{i}", ID_QUESTION))

    with model_busy(engine.embedder):  # one question runs (held in the model), two wait for a worker
        tasks = [asyncio.create_task(asker(i)) for i in range(3)]
        await until(lambda: d.pending == 3)
        drained = await asyncio.wait_for(d.drain(grace=0.2, notice=5), 10)
        assert drained == Drained(in_time=False, told_restarting=3, undelivered=0)
        # told in the asker's language
        assert sent == [Reply("shutting_down", lang="id")] * 3 and all(t.done() for t in tasks)
    assert counts(d) == {("discord", "shutting_down"): 3}
    assert d.pending == 0 and not d.accepting
    assert await d.ask("discord", "u9", ID_QUESTION) == Reply("shutting_down", lang="id")


async def test_a_reply_that_never_goes_out_is_counted_not_waited_for_forever(engine):
    d = Dispatcher(engine)
    stuck = asyncio.Event()

    async def asker():
        await d.ask("slack", "U1", EN_QUESTION)
        await stuck.wait()  # a platform that never accepts the reply

    task = asyncio.create_task(asker())
    await until(lambda: d.in_flight == 1)
    drained = await asyncio.wait_for(d.drain(grace=0.2, notice=0.2), 10)
    assert drained == Drained(in_time=False, told_restarting=0, undelivered=1)
    task.cancel()


async def test_an_asker_cancelled_while_waiting_frees_its_place(engine):
    d = Dispatcher(engine, max_pending=1, workers=1)
    with model_busy(engine.embedder):
        task = asyncio.create_task(d.ask("discord", "u1", EN_QUESTION))
        await until(lambda: d.pending == 1)
        assert await d.ask("discord", "u2", EN_QUESTION) == Reply("busy")
        task.cancel()
        await until(lambda: d.pending == 0)
    assert (await d.ask("discord", "u2", EN_QUESTION)).kind == "answered"


def test_the_bound_must_admit_at_least_one_question(engine):
    with pytest.raises(ValueError):
        Dispatcher(engine, max_pending=0)
