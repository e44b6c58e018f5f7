"""The store's interface and the data it returns. Blocking calls: async code runs them in a thread."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Verdict = Literal["up", "down"]
ChannelMode = Literal["mention", "all"]  # answer only when mentioned (default), or every question


@dataclass(frozen=True)
class Turn:
    """One question asked in a conversation thread, and what the answer cited."""

    question: str
    sources: tuple[str, ...]
    at: float  # unix time


@dataclass(frozen=True)
class FeedbackRow:
    """One answer's votes, for `newsbot feedback`."""

    answer_id: str
    platform: str
    question: str
    sources: tuple[str, ...]
    up: int
    down: int


class Store(Protocol):
    # --- conversation threads (bounded: turns per thread, age, total threads) ---
    def turns(self, platform: str, thread: str) -> list[Turn]:
        """Earlier turns of a thread, oldest first; [] for an unknown or expired thread."""

    def add_turn(self, platform: str, thread: str, question: str, sources: tuple[str, ...]) -> None: ...

    # --- feedback ---
    def record_answer(self, answer_id: str, platform: str, question: str, sources: tuple[str, ...]) -> None:
        """Remember an answer so that a later vote on it knows the question and the sources."""

    def vote(self, answer_id: str, user_hash: str, verdict: Verdict) -> bool:
        """Record one user's verdict on one answer; a second vote replaces the first.

        False when the answer is unknown (never recorded, or forgotten)."""

    def feedback(self, limit: int = 10) -> tuple[dict[str, int], list[FeedbackRow]]:
        """Totals {"up": n, "down": n, "answers": n} and the most down-voted answers."""

    def feedback_rows(self) -> list[FeedbackRow]:
        """Every answer that has a vote, for `newsbot feedback --export`."""

    # --- channel settings ---
    def channel_mode(self, platform: str, channel: str) -> ChannelMode: ...

    def set_channel_mode(self, platform: str, channel: str, mode: ChannelMode) -> None: ...

    # --- shared by replicas (Slack retries and replays, per-user rate limits) ---
    def first_time(self, key: str, ttl: float) -> bool:
        """True the first time `key` is seen within `ttl` seconds, by any replica."""

    def take(self, key: str, limit: int, window: float) -> int:
        """Count one use of `key`: 0 if within `limit` uses per `window` seconds, else seconds to wait."""

    def close(self) -> None: ...
