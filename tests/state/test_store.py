"""The store's behaviour, the same on SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import multiprocessing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from bot.state import migrate, schema
from bot.state.sql import open_store
from tests.state import worker

WAIT = 60


def rows(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ---------------------------------------------------------------- schema and migrations


def test_open_migrates_to_head_and_a_second_open_changes_nothing(store_url, open_test_store):
    first = open_test_store()
    with first.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrate.head()]
    first.set_channel_mode("slack", "C1", "all")
    second = open_test_store()
    with second.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [migrate.head()]
    assert second.channel_mode("slack", "C1") == "all"  # the second open kept the data


def test_the_migrations_build_exactly_the_tables_the_code_queries(store):
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []


# ---------------------------------------------------------------- threads


def test_a_thread_keeps_its_newest_turns_oldest_first(open_test_store, clock):
    store = open_test_store(thread_turns=3)
    questions = ["Who leads the unit?", "Berapa umurnya?", "And his company?", "Kapan dia bergabung?", "Why?"]
    for i, q in enumerate(questions):
        clock.now += 1
        store.add_turn("discord", "thread-1", q, (f"{i:03d}_artikel.txt", "ünïcode.txt"))
    got = store.turns("discord", "thread-1")
    assert [t.question for t in got] == questions[-3:]
    assert got[0].sources == ("002_artikel.txt", "ünïcode.txt")
    assert [t.at for t in got] == sorted(t.at for t in got)
    assert rows(store, schema.turns) == 3  # older turns are deleted, not only hidden


def test_threads_are_separate_by_platform_and_id(store):
    store.add_turn("slack", "T1", "slack question", ())
    store.add_turn("discord", "T1", "discord question", ())
    store.add_turn("slack", "T2", "other thread", ())
    assert [t.question for t in store.turns("slack", "T1")] == ["slack question"]
    assert [t.question for t in store.turns("discord", "T1")] == ["discord question"]
    assert store.turns("slack", "unknown") == []


def test_turns_past_the_age_limit_are_not_returned_and_are_deleted(open_test_store, clock):
    store = open_test_store(thread_max_age=3600)
    store.add_turn("slack", "old", "asked long ago", ("a.txt",))
    clock.now += 1800
    store.add_turn("slack", "mixed", "asked half an hour later", ())
    clock.now += 1801
    assert store.turns("slack", "old") == []
    store.add_turn("slack", "mixed", "asked now", ())
    assert [t.question for t in store.turns("slack", "mixed")] == ["asked half an hour later", "asked now"]
    clock.now += 1800
    store.add_turn("slack", "new", "another thread", ())
    assert [t.question for t in store.turns("slack", "mixed")] == ["asked now"]
    assert rows(store, schema.threads) == 2  # "old" is gone
    assert rows(store, schema.turns) == 2


def test_past_the_thread_limit_the_least_recently_used_threads_go(open_test_store, clock):
    store = open_test_store(thread_max_count=3)
    for name in ("a", "b", "c"):
        clock.now += 1
        store.add_turn("slack", name, f"question in {name}", ())
    clock.now += 1
    store.add_turn("slack", "a", "a again", ())  # "b" is now the least recently used
    clock.now += 1
    store.add_turn("slack", "d", "question in d", ())
    assert store.turns("slack", "b") == []
    assert [t.question for t in store.turns("slack", "a")] == ["question in a", "a again"]
    assert store.turns("slack", "c") and store.turns("slack", "d")
    assert rows(store, schema.threads) == 3
    assert rows(store, schema.turns) == 4


# ---------------------------------------------------------------- feedback


def test_one_vote_per_user_per_answer_and_a_second_vote_changes_it(store):
    store.record_answer("ans-1", "slack", "Who is the new CTO?", ("000_a.txt", "001_b.txt"))
    assert store.vote("ans-1", "user-a", "up")
    assert store.vote("ans-1", "user-b", "up")
    assert store.vote("ans-1", "user-a", "up")  # the same click again counts once
    assert store.feedback()[0] == {"up": 2, "down": 0, "answers": 1}
    assert store.vote("ans-1", "user-a", "down")
    totals, worst = store.feedback()
    assert totals == {"up": 1, "down": 1, "answers": 1}
    assert [(r.answer_id, r.question, r.sources, r.up, r.down) for r in worst] == [
        ("ans-1", "Who is the new CTO?", ("000_a.txt", "001_b.txt"), 1, 1)
    ]
    assert rows(store, schema.votes) == 2


def test_a_vote_on_an_unknown_answer_is_refused(store):
    assert store.vote("never-recorded", "user-a", "down") is False
    assert store.feedback()[0] == {"up": 0, "down": 0, "answers": 0}
    store.record_answer("ans-1", "slack", "q", ())
    with pytest.raises(ValueError):
        store.vote("ans-1", "user-a", "meh")


def test_feedback_lists_the_most_down_voted_first(store):
    for answer, downs, ups in (("mild", 1, 2), ("worst", 3, 0), ("liked", 0, 4), ("tie", 1, 0), ("silent", 0, 0)):
        store.record_answer(answer, "discord", f"question {answer}", (f"{answer}.txt",))
        for i in range(downs):
            store.vote(answer, f"down-{i}", "down")
        for i in range(ups):
            store.vote(answer, f"up-{i}", "up")
    totals, worst = store.feedback()
    assert totals == {"up": 6, "down": 5, "answers": 4}  # "silent" has no vote
    assert [r.answer_id for r in worst] == ["worst", "tie", "mild"]  # equal 👎: fewer 👍 first; none without 👎
    assert [r.answer_id for r in store.feedback(limit=1)[1]] == ["worst"]
    assert sorted(r.answer_id for r in store.feedback_rows()) == ["liked", "mild", "tie", "worst"]


def test_answers_nobody_voted_on_are_forgotten_after_their_age(open_test_store, clock):
    store = open_test_store(answer_max_age=3600)
    store.record_answer("voted", "slack", "q1", ())
    store.record_answer("ignored", "slack", "q2", ())
    assert store.vote("voted", "user-a", "down")
    clock.now += 3601
    store.record_answer("fresh", "slack", "q3", ())
    assert store.vote("ignored", "user-a", "up") is False
    assert store.vote("voted", "user-b", "up")  # an answer with votes is kept: it is the feedback
    assert store.vote("fresh", "user-a", "up")
    assert rows(store, schema.answers) == 2


# ---------------------------------------------------------------- channel settings


def test_channel_mode_defaults_to_mention_and_is_set_per_channel(store):
    assert store.channel_mode("slack", "C1") == "mention"
    store.set_channel_mode("slack", "C1", "all")
    assert store.channel_mode("slack", "C1") == "all"
    assert store.channel_mode("discord", "C1") == "mention"
    assert store.channel_mode("slack", "C2") == "mention"
    store.set_channel_mode("slack", "C1", "mention")
    assert store.channel_mode("slack", "C1") == "mention"
    with pytest.raises(ValueError):
        store.set_channel_mode("slack", "C1", "never")


# ---------------------------------------------------------------- de-duplication and rate limits


def test_first_time_is_true_once_per_ttl_and_expired_keys_are_removed(store, clock):
    assert store.first_time("slack:Ev1", 300)
    assert not store.first_time("slack:Ev1", 300)
    assert store.first_time("slack:Ev2", 10)
    clock.now += 299
    assert not store.first_time("slack:Ev1", 300)
    assert rows(store, schema.seen) == 1  # Ev2 expired and was cleaned up
    clock.now += 1
    assert store.first_time("slack:Ev1", 300)


def test_take_counts_uses_in_a_fixed_window(store, clock):
    assert [store.take("user-1", 2, 60) for _ in range(2)] == [0, 0]
    clock.now += 20
    assert store.take("user-1", 2, 60) == 40  # seconds until the window that opened 20 s ago ends
    assert store.take("user-2", 2, 60) == 0
    clock.now += 39.5
    assert store.take("user-1", 2, 60) == 1
    clock.now += 0.5
    assert store.take("user-1", 2, 60) == 0  # a new window
    assert all(store.take("user-3", 0, 60) == 0 for _ in range(5))  # 0 = no limit
    clock.now += 61
    store.take("user-4", 1, 60)
    assert rows(store, schema.limits) == 1  # expired counters are cleaned up


# ---------------------------------------------------------------- several processes


def _run(target, url: str) -> dict:
    """Two spawned processes running `target` on one database; their results by name."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, me, barrier, results)) for me in ("a", "b")]
    for p in procs:
        p.start()
    try:
        got = dict(((me, rest) for me, *rest in (results.get(timeout=WAIT) for _ in procs)))
    finally:
        for p in procs:
            p.join(WAIT)
            if p.is_alive():
                p.kill()
    for me, rest in got.items():
        assert rest[0] != "error", f"process {me}: {rest[1]}"
    return got


def test_two_processes_migrate_a_fresh_database_at_once_and_see_each_others_writes(store_url):
    got = _run(worker.share, store_url)
    for turns, totals in got.values():
        assert sorted(turns) == ["question from a", "question from b"]
        assert totals == {"up": 2, "down": 1, "answers": 1}  # a: up, b: down, the shared user: its last verdict
    store = open_store(store_url)
    try:
        assert migrate.current(store.engine) == migrate.head()
        assert rows(store, schema.votes) == 3
    finally:
        store.close()


def test_two_processes_racing_claim_each_key_once_and_share_one_rate_limit(store_url):
    open_store(store_url).close()
    got = _run(worker.race, store_url)
    claimed_a, claimed_b = got["a"][0], got["b"][0]
    assert sorted(claimed_a + claimed_b) == sorted(f"event-{i}" for i in range(30))
    assert got["a"][1] + got["b"][1] == 10
