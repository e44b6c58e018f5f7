"""Processes that share one store with the test (started with multiprocessing's spawn)."""

from __future__ import annotations

from bot.state.sql import open_store

TIMEOUT = 60


def share(url: str, me: str, barrier, results) -> None:
    """Open at the same moment as the other process (both may migrate), write, then read what both wrote."""
    try:
        barrier.wait(TIMEOUT)
        store = open_store(url)
        store.record_answer("answer-1", "slack", "Siapa yang memimpin unit itu?", ("a.txt",))
        store.add_turn("slack", "thread-1", f"question from {me}", (f"{me}.txt",))
        assert store.vote("answer-1", f"user-{me}", "up" if me == "a" else "down")
        for i in range(20):  # the same user changing their verdict, racing the other process
            store.vote("answer-1", "user-both", "up" if i % 2 else "down")
        barrier.wait(TIMEOUT)
        turns = [t.question for t in store.turns("slack", "thread-1")]
        totals, _ = store.feedback()
        store.close()
        results.put((me, turns, totals))
    except BaseException as exc:
        results.put((me, "error", repr(exc)))


def race(url: str, me: str, barrier, results) -> None:
    """Claim the same keys and spend the same rate limit as the other process, at the same time."""
    try:
        store = open_store(url)
        barrier.wait(TIMEOUT)
        claimed = [key for key in (f"event-{i}" for i in range(30)) if store.first_time(key, 600)]
        allowed = sum(store.take("user-1", 10, 600) == 0 for _ in range(15))
        store.close()
        results.put((me, claimed, allowed))
    except BaseException as exc:
        results.put((me, "error", repr(exc)))
