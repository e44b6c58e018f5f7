"""Bring the schema to the newest revision, one process at a time.

Alembic runs on a connection that already holds a lock for the whole upgrade: on PostgreSQL
a transaction-scoped advisory lock (the DDL is transactional, so a second process waits, then
finds the schema at head and does nothing); on SQLite the write lock of `BEGIN IMMEDIATE`
(every transaction of the store's engine begins that way, see `sql.py`), taken only after a
file lock beside the database: two processes connecting to a fresh file at the same moment
could otherwise each wait out the busy timeout on the other (seen 2 times in 6).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK = 0x6E657773626F74  # "newsbot": the advisory lock key for migrations


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head() -> str:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    """One SQLite file, one migrating process at a time (nothing to lock for PostgreSQL or memory)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    config = _config()
    with _file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        if MigrationContext.configure(conn).get_current_revision() == head():
            return
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
