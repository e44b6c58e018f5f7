"""The store's tables, as the queries see them. Migrations create them (migrations/versions/)."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

metadata = MetaData()

# A conversation thread; `used` (unix time of its last turn) picks the threads to drop past the count limit.
threads = Table(
    "threads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("thread", String(255), nullable=False),
    Column("used", Float, nullable=False),
    UniqueConstraint("platform", "thread", name="uq_threads_platform_thread"),
    Index("ix_threads_used", "used"),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("thread_id", Integer, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
    Column("question", Text, nullable=False),
    Column("sources", Text, nullable=False),  # JSON list of source file names
    Column("at", Float, nullable=False),
    Index("ix_turns_thread_id", "thread_id"),
    Index("ix_turns_at", "at"),
)

answers = Table(
    "answers",
    metadata,
    Column("answer_id", String(128), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("question", Text, nullable=False),
    Column("sources", Text, nullable=False),  # JSON list of source file names
    Column("at", Float, nullable=False),
    Index("ix_answers_at", "at"),
)

votes = Table(
    "votes",
    metadata,
    Column("answer_id", String(128), ForeignKey("answers.answer_id", ondelete="CASCADE"), primary_key=True),
    Column("user_hash", String(128), primary_key=True),
    Column("verdict", String(8), nullable=False),  # "up" or "down"
    Column("at", Float, nullable=False),
)

channels = Table(
    "channels",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("channel", String(255), primary_key=True),
    Column("mode", String(16), nullable=False),
)

# Keys seen by any replica (Slack retries and replays), until `expires`.
seen = Table(
    "seen",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("expires", Float, nullable=False),
    Index("ix_seen_expires", "expires"),
)

# Fixed-window counters for rate limits: `used` uses of `key` in the window ending at `expires`.
limits = Table(
    "limits",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("used", Integer, nullable=False),
    Column("expires", Float, nullable=False),
    Index("ix_limits_expires", "expires"),
)
