"""Every store test runs twice: on a SQLite file and on a fresh database of a real PostgreSQL server."""

from __future__ import annotations

import pytest

from bot.state.sql import open_store


class Clock:
    """Time the test moves forward by hand, for ages and windows."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/data/newsbot.sqlite3"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def open_test_store(store_url, clock):
    """open_store(**overrides) on this test's database and clock; closed at the end."""
    opened = []

    def _open(**overrides):
        store = open_store(store_url, clock=clock, **overrides)
        opened.append(store)
        return store

    yield _open
    for store in opened:
        store.close()


@pytest.fixture
def store(open_test_store):
    return open_test_store()
