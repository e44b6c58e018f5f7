"""What every chat platform calls: one question in, one Reply out.

Rate limiting, running the engine off the event loop, one log line and metrics per
question, and tracking questions in flight for a graceful shutdown all live here, so
the platform adapters only translate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from bot.core.models import Kind, Reply
from bot.serving.metrics import Metrics
from bot.serving.ratelimit import RateLimiter

log = logging.getLogger("newsbot.questions")


def user_hash(platform: str, user: str) -> str:
    """Logs carry a stable pseudonym, never the user id itself."""
    return hashlib.sha256(f"{platform}:{user}".encode()).hexdigest()[:12]


class Dispatcher:
    def __init__(self, engine, rate_limit_per_minute: int = 0, metrics: Metrics | None = None):
        self.engine = engine
        self.limiter = RateLimiter(rate_limit_per_minute)
        self.metrics = metrics or Metrics()
        self.accepting = True
        # The tasks that asked: each goes on to send its reply, so a graceful stop waits
        # for the task, not just for the engine.
        self._tasks: set[asyncio.Task] = set()

    async def ask(self, platform: str, user: str, question: str) -> Reply:
        if not self.accepting:
            return Reply("shutting_down")
        wait = self.limiter.check(f"{platform}:{user}")
        if wait:
            self._record(platform, user, "rate_limited", 0.0, ())
            return Reply("rate_limited", retry_after=wait)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        started = time.perf_counter()
        try:
            answer = await asyncio.to_thread(self.engine.ask, question)
        except Exception:
            elapsed = time.perf_counter() - started
            log.exception("question failed (platform=%s user=%s)", platform, user_hash(platform, user))
            self._record(platform, user, "error", elapsed, ())
            return Reply("error")
        elapsed = time.perf_counter() - started
        kind: Kind = "answered" if answer.answered else "declined"
        self._record(platform, user, kind, elapsed, answer.sources)
        return Reply(kind, answer=answer)

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> bool:
        """Stop taking questions and wait for those in flight to be answered; False on timeout."""
        self.accepting = False
        pending = {t for t in self._tasks if t is not asyncio.current_task() and not t.done()}
        if not pending:
            return True
        _, still = await asyncio.wait(pending, timeout=timeout)
        return not still

    def _record(self, platform, user, outcome, elapsed, sources) -> None:
        self.metrics.questions.labels(platform, outcome).inc()
        if outcome in ("answered", "declined"):
            self.metrics.latency.labels(platform).observe(elapsed)
        log.info(
            "question",
            extra={
                "platform": platform,
                "user": user_hash(platform, user),
                "latency_ms": round(elapsed * 1000, 1),
                "outcome": outcome,
                "sources": list(sources),
            },
        )
