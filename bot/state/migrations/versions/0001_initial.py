"""The first schema: threads and turns, answers and votes, channel settings, seen keys, rate limits.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("thread", sa.String(255), nullable=False),
        sa.Column("used", sa.Float, nullable=False),
        sa.UniqueConstraint("platform", "thread", name="uq_threads_platform_thread"),
    )
    op.create_index("ix_threads_used", "threads", ["used"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("thread_id", sa.Integer, sa.ForeignKey("threads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_turns_thread_id", "turns", ["thread_id"])
    op.create_index("ix_turns_at", "turns", ["at"])
    op.create_table(
        "answers",
        sa.Column("answer_id", sa.String(128), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_answers_at", "answers", ["at"])
    op.create_table(
        "votes",
        sa.Column(
            "answer_id",
            sa.String(128),
            sa.ForeignKey("answers.answer_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("user_hash", sa.String(128), primary_key=True),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "channels",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
    )
    op.create_table(
        "seen",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("ix_seen_expires", "seen", ["expires"])
    op.create_table(
        "limits",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("used", sa.Integer, nullable=False),
        sa.Column("expires", sa.Float, nullable=False),
    )
    op.create_index("ix_limits_expires", "limits", ["expires"])


def downgrade() -> None:
    for table in ("limits", "seen", "channels", "votes", "answers", "turns", "threads"):
        op.drop_table(table)
