"""The store over SQLAlchemy Core: SQLite by default, PostgreSQL (psycopg 3) to share it between replicas.

Every write is one short transaction whose outcome does not depend on which replica runs it:
upserts (`INSERT ... ON CONFLICT`) for votes, seen keys and rate-limit counters, so two replicas
racing on the same row never both win. Clean-up of expired rows rides along with the writes,
bounded, and skips rows another transaction holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine, case, create_engine, delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from bot.core import messages
from bot.core.errors import ConfigError
from bot.state import migrate
from bot.state.api import ChannelMode, FeedbackRow, Turn, Verdict
from bot.state.schema import answers, channels, limits, seen, threads, turns, votes

SQLITE_BUSY_SECONDS = 30.0  # how long a writer waits for another process's write lock on a SQLite file
PG_CONNECT_SECONDS = 10
SWEEP_ROWS = 1000  # expired rows removed per write, at most: clean-up never makes one call slow
MODES: tuple[ChannelMode, ...] = ("mention", "all")


def open_store(
    url: str,
    *,
    thread_turns: int = 6,
    thread_max_age: float = 86400.0,
    thread_max_count: int = 10_000,
    answer_max_age: float = 30 * 86400.0,
    clock=time.time,
) -> SqlStore:
    """Open (creating or migrating the schema) the store at `url`; ConfigError naming NEWSBOT_DATABASE_URL."""
    engine = _engine(url)
    try:
        migrate.upgrade(engine)
    except (DBAPIError, OSError) as exc:
        engine.dispose()
        raise ConfigError(messages.STORE_UNREACHABLE.format(url=mask(url), detail=_detail(exc, url))) from None
    return SqlStore(
        engine,
        thread_turns=thread_turns,
        thread_max_age=thread_max_age,
        thread_max_count=thread_max_count,
        answer_max_age=answer_max_age,
        clock=clock,
    )


def open_from_settings(settings) -> SqlStore:
    return open_store(
        settings.store_url,
        thread_turns=settings.thread_turns,
        thread_max_age=settings.thread_max_age_hours * 3600.0,
        thread_max_count=settings.thread_max_count,
    )


_CREDENTIALS = re.compile(r"^([\w+.-]+://[^:/@]*:)(.*)@")  # up to the last "@": a password may hold "@"


def mask(url: str) -> str:
    """The URL with its password hidden, whether or not it parses."""
    return _CREDENTIALS.sub(r"\1***@", url, count=1)


def _detail(exc: BaseException, url: str) -> str:
    """The driver's own words, on one line, without the password."""
    text = str(getattr(exc, "orig", None) or exc)
    text = " ".join(line.strip() for line in text.splitlines() if line.strip()).rstrip(" .?!") or type(exc).__name__
    found = _CREDENTIALS.match(url)
    if found and found.group(2):
        for password in {found.group(2), unquote(found.group(2))}:
            text = text.replace(password, "***")
    return text


def _url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(messages.STORE_BAD_URL.format(url=mask(url), detail=_detail(exc, url))) from None
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend != "sqlite":
        detail = f"the database kind {backend!r} is not supported"
        raise ConfigError(messages.STORE_BAD_URL.format(url=mask(url), detail=detail))
    return parsed


def _engine(url: str) -> Engine:
    parsed = _url(url)
    try:
        if parsed.get_backend_name() == "postgresql":
            return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": PG_CONNECT_SECONDS})
        return _sqlite_engine(parsed, url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(messages.STORE_BAD_URL.format(url=mask(url), detail=_detail(exc, url))) from None


def _sqlite_engine(parsed: URL, url: str) -> Engine:
    """WAL (readers never wait for the writer), a busy timeout, and transactions we begin ourselves.

    pysqlite's own BEGIN is deferred: a transaction that reads and then writes can fail at once
    with "database is locked" when another process wrote in between. Writes begin with
    `BEGIN IMMEDIATE` instead, which waits (up to the busy timeout) for the write lock.
    """
    memory = parsed.database in (None, "", ":memory:")
    if not memory:
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                messages.STORE_FOLDER.format(path=folder, url=mask(url), detail=exc.strerror or exc)
            ) from None
    engine = create_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # no implicit BEGIN: `_begin` below emits it
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

    return engine


class SqlStore:
    """`bot.state.api.Store` on one SQLAlchemy engine. Thread-safe; share one per process."""

    def __init__(
        self,
        engine: Engine,
        *,
        thread_turns: int,
        thread_max_age: float,
        thread_max_count: int,
        answer_max_age: float,
        clock,
    ):
        self.engine = engine
        self.thread_turns = thread_turns
        self.thread_max_age = thread_max_age
        self.thread_max_count = thread_max_count
        self.answer_max_age = answer_max_age
        self._clock = clock
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def __repr__(self) -> str:
        return f"SqlStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def _read(self):
        return self.engine.connect().execution_options(read_only=True)

    @staticmethod
    def _sweep(conn, table, key, expired) -> None:
        """Delete a bounded batch of expired rows that no other transaction is holding."""
        batch = select(key).where(expired).limit(SWEEP_ROWS).with_for_update(skip_locked=True)
        conn.execute(delete(table).where(key.in_(batch)))

    # --- conversation threads ---

    def turns(self, platform: str, thread: str) -> list[Turn]:
        cutoff = self._clock() - self.thread_max_age
        query = (
            select(turns.c.question, turns.c.sources, turns.c.at)
            .join(threads, threads.c.id == turns.c.thread_id)
            .where(threads.c.platform == platform, threads.c.thread == thread, turns.c.at >= cutoff)
            .order_by(turns.c.at.desc(), turns.c.id.desc())
            .limit(self.thread_turns)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Turn(q, tuple(json.loads(s)), at) for q, s, at in reversed(rows)]

    def add_turn(self, platform: str, thread: str, question: str, sources: tuple[str, ...]) -> None:
        now = self._clock()
        cutoff = now - self.thread_max_age
        upsert = (
            self._insert(threads)
            .values(platform=platform, thread=thread, used=now)
            .on_conflict_do_update(index_elements=["platform", "thread"], set_={"used": now})
            .returning(threads.c.id)
        )
        with self.engine.begin() as conn:
            thread_id = conn.execute(upsert).scalar_one()
            conn.execute(insert(turns).values(thread_id=thread_id, question=question, sources=_json(sources), at=now))
            newest = (
                select(turns.c.id)
                .where(turns.c.thread_id == thread_id)
                .order_by(turns.c.at.desc(), turns.c.id.desc())
                .limit(self.thread_turns)
            )
            conn.execute(delete(turns).where(turns.c.thread_id == thread_id, turns.c.id.not_in(newest)))
            self._sweep(conn, threads, threads.c.id, threads.c.used < cutoff)  # their turns go by cascade
            self._sweep(conn, turns, turns.c.id, turns.c.at < cutoff)
            excess = conn.execute(select(func.count()).select_from(threads)).scalar_one() - self.thread_max_count
            if excess > 0:  # least recently used threads first
                oldest = (
                    select(threads.c.id)
                    .where(threads.c.id != thread_id)
                    .order_by(threads.c.used, threads.c.id)
                    .limit(excess)
                    .with_for_update(skip_locked=True)
                )
                conn.execute(delete(threads).where(threads.c.id.in_(oldest)))

    # --- feedback ---

    def record_answer(self, answer_id: str, platform: str, question: str, sources: tuple[str, ...]) -> None:
        now = self._clock()
        row = {"answer_id": answer_id, "platform": platform, "question": question, "sources": _json(sources)}
        unvoted_old = (answers.c.at < now - self.answer_max_age) & ~select(votes.c.answer_id).where(
            votes.c.answer_id == answers.c.answer_id
        ).exists()
        with self.engine.begin() as conn:
            conn.execute(self._insert(answers).values(**row, at=now).on_conflict_do_nothing())
            self._sweep(conn, answers, answers.c.answer_id, unvoted_old)

    def vote(self, answer_id: str, user_hash: str, verdict: Verdict) -> bool:
        if verdict not in ("up", "down"):
            raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
        now = self._clock()
        upsert = (
            self._insert(votes)
            .values(answer_id=answer_id, user_hash=user_hash, verdict=verdict, at=now)
            .on_conflict_do_update(index_elements=["answer_id", "user_hash"], set_={"verdict": verdict, "at": now})
        )
        try:
            with self.engine.begin() as conn:
                if conn.execute(select(answers.c.answer_id).where(answers.c.answer_id == answer_id)).first() is None:
                    return False
                conn.execute(upsert)
        except IntegrityError:  # the answer was forgotten between the check and the vote
            return False
        return True

    def _per_answer(self):
        up = func.sum(case((votes.c.verdict == "up", 1), else_=0)).label("up")
        down = func.sum(case((votes.c.verdict == "down", 1), else_=0)).label("down")
        query = (
            select(answers.c.answer_id, answers.c.platform, answers.c.question, answers.c.sources, up, down)
            .join(votes, votes.c.answer_id == answers.c.answer_id)
            .group_by(answers.c.answer_id, answers.c.platform, answers.c.question, answers.c.sources, answers.c.at)
        )
        return query, up, down

    def feedback(self, limit: int = 10) -> tuple[dict[str, int], list[FeedbackRow]]:
        """Totals over every vote, and the answers with at least one 👎, most 👎 first (then fewest 👍)."""
        query, up, down = self._per_answer()
        worst = query.having(down > 0).order_by(down.desc(), up, answers.c.at.desc()).limit(limit)
        totals = select(
            func.coalesce(func.sum(case((votes.c.verdict == "up", 1), else_=0)), 0),
            func.coalesce(func.sum(case((votes.c.verdict == "down", 1), else_=0)), 0),
            func.count(func.distinct(votes.c.answer_id)),
        )
        with self._read() as conn:
            n_up, n_down, n_answers = conn.execute(totals).one()
            rows = conn.execute(worst).all()
        return {"up": int(n_up), "down": int(n_down), "answers": int(n_answers)}, [_row(r) for r in rows]

    def feedback_rows(self) -> list[FeedbackRow]:
        query, _, _ = self._per_answer()
        with self._read() as conn:
            return [_row(r) for r in conn.execute(query.order_by(answers.c.at, answers.c.answer_id))]

    # --- channel settings ---

    def channel_mode(self, platform: str, channel: str) -> ChannelMode:
        query = select(channels.c.mode).where(channels.c.platform == platform, channels.c.channel == channel)
        with self._read() as conn:
            mode = conn.execute(query).scalar()
        return mode if mode in MODES else "mention"

    def set_channel_mode(self, platform: str, channel: str, mode: ChannelMode) -> None:
        if mode not in MODES:
            raise ValueError(f"channel mode must be one of {MODES}, not {mode!r}")
        upsert = (
            self._insert(channels)
            .values(platform=platform, channel=channel, mode=mode)
            .on_conflict_do_update(index_elements=["platform", "channel"], set_={"mode": mode})
        )
        with self.engine.begin() as conn:
            conn.execute(upsert)

    # --- shared by replicas ---

    def first_time(self, key: str, ttl: float) -> bool:
        now = self._clock()
        claim = (
            self._insert(seen)
            .values(key=key, expires=now + ttl)
            .on_conflict_do_update(index_elements=["key"], set_={"expires": now + ttl}, where=seen.c.expires <= now)
            .returning(seen.c.key)
        )
        with self.engine.begin() as conn:
            self._sweep(conn, seen, seen.c.key, seen.c.expires <= now)
            return conn.execute(claim).first() is not None

    def take(self, key: str, limit: int, window: float) -> int:
        """A fixed window: the first use of `key` opens a window of `window` seconds; uses past `limit` in it
        wait for its end. (At a window's edge a user may get up to 2 × `limit` in `window` seconds.)"""
        if limit <= 0:
            return 0
        now = self._clock()
        fresh = limits.c.expires <= now
        count = (
            self._insert(limits)
            .values(key=key, used=1, expires=now + window)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={
                    "used": case((fresh, 1), else_=limits.c.used + 1),
                    "expires": case((fresh, now + window), else_=limits.c.expires),
                },
            )
            .returning(limits.c.used, limits.c.expires)
        )
        with self.engine.begin() as conn:
            self._sweep(conn, limits, limits.c.key, limits.c.expires < now)
            used, expires = conn.execute(count).one()
        return 0 if used <= limit else max(1, math.ceil(expires - now))

    def close(self) -> None:
        self.engine.dispose()


def _json(sources: tuple[str, ...]) -> str:
    return json.dumps(list(sources), ensure_ascii=False)


def _row(r) -> FeedbackRow:
    return FeedbackRow(r.answer_id, r.platform, r.question, tuple(json.loads(r.sources)), int(r.up), int(r.down))
