"""What every chat platform calls: one question in, one Reply out.

Rate limiting, a bound on the questions waiting or running, running the engine off the
event loop, one log line and metrics per question, and a graceful stop that gives every
accepted question a reply all live here, so the platform adapters only translate.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import Kind, Reply, SourceInfo
from bot.retrieval import archive
from bot.retrieval.questions import language
from bot.serving.metrics import Metrics
from bot.serving.ratelimit import RateLimiter

log = logging.getLogger("newsbot.questions")

DEFAULT_MAX_PENDING = 32
# The model answers one question at a time (its lock); two threads keep it busy while the
# other search work runs, and leave the default executor free for everything else.
DEFAULT_WORKERS = 2
# After the grace, how long the "restarting" replies may take to be delivered.
NOTICE_SECONDS = 5.0


def user_hash(platform: str, user: str) -> str:
    """Logs carry a stable pseudonym, never the user id itself."""
    return hashlib.sha256(f"{platform}:{user}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Drained:
    """How a graceful stop went, for the service's log."""

    in_time: bool  # every accepted question was answered and its reply delivered within the grace
    told_restarting: int  # questions still waiting or running at the end of the grace
    undelivered: int  # replies still being sent when the service stopped waiting for them


class Dispatcher:
    def __init__(
        self,
        engine,
        rate_limit_per_minute: int = 0,
        metrics: Metrics | None = None,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        workers: int = DEFAULT_WORKERS,
        store=None,
    ):
        """`store` (bot.state.api.Store), when given, holds the rate limit, so replicas share it."""
        if max_pending < 1 or workers < 1:
            raise ValueError("max_pending and workers must be at least 1")
        self.engine = engine
        self.limiter = RateLimiter(rate_limit_per_minute)
        self.store = store
        self.metrics = metrics or Metrics()
        self.max_pending = max_pending
        self.accepting = True
        self._workers = asyncio.Semaphore(workers)
        # Engine runs not yet finished: cancelled when the grace runs out, so their asks
        # return "restarting" at once (a thread already running finishes on its own).
        self._jobs: set[asyncio.Task] = set()
        # The tasks that asked: each goes on to send its reply, so a graceful stop waits
        # for the task, not just for the engine.
        self._tasks: set[asyncio.Task] = set()

    async def ask(self, platform: str, user: str, question: str, history: Sequence[str] = ()) -> Reply:
        """`history`: the thread's earlier questions, oldest first, searched together with `question`."""
        self._track_caller()
        lang = language(question)  # even "busy" is said in the asker's language
        if not self.accepting:
            return self._refuse(platform, user, "shutting_down", lang)
        if len(self._jobs) >= self.max_pending:
            return self._refuse(platform, user, "busy", lang)  # before the rate limit: no turn is used up
        wait = await self._rate_limit(platform, user)
        if wait:
            self._record(platform, user, "rate_limited", 0.0, ())
            return Reply("rate_limited", retry_after=wait, lang=lang)
        started = time.perf_counter()
        job = asyncio.create_task(self._run(question, tuple(history)))
        self._jobs.add(job)
        try:
            await asyncio.wait({job})
        finally:
            self._jobs.discard(job)
            job.cancel()  # only matters if this ask was itself cancelled
        elapsed = time.perf_counter() - started
        try:
            answer = job.result()
        except asyncio.CancelledError:
            self._record(platform, user, "shutting_down", elapsed, ())
            return Reply("shutting_down", lang=lang)
        except Exception:
            log.exception("question failed (platform=%s user=%s)", platform, user_hash(platform, user))
            self._record(platform, user, "error", elapsed, ())
            return Reply("error", lang=lang)
        kind: Kind = "answered" if answer.answered else "declined"
        self._record(platform, user, kind, elapsed, answer.sources)
        return Reply(kind, answer=answer, lang=answer.lang)

    async def _run(self, question: str, history: tuple[str, ...]):
        async with self._workers:
            if history:
                return await asyncio.to_thread(self.engine.ask, question, history)
            return await asyncio.to_thread(self.engine.ask, question)

    async def _rate_limit(self, platform: str, user: str) -> int:
        """Seconds to wait, 0 if allowed: counted in the shared store when there is one (every replica
        sees the same count), else in this process; a store that fails falls back to this process."""
        if self.store is None or self.limiter.per_minute <= 0:
            return self.limiter.check(f"{platform}:{user}")
        key = f"rate:{platform}:{user_hash(platform, user)}"
        try:
            return await asyncio.to_thread(self.store.take, key, self.limiter.per_minute, 60.0)
        except Exception:
            log.warning("the shared rate limit is unavailable; counting in this process", exc_info=True)
            return self.limiter.check(f"{platform}:{user}")

    def latest(self, count: int = 10) -> list[SourceInfo]:
        """The newest articles of the loaded index."""
        return archive.latest(self.engine.data, count)

    @property
    def pending(self) -> int:
        """Questions accepted and not yet answered (waiting for a worker or running)."""
        return len(self._jobs)

    @property
    def in_flight(self) -> int:
        """Tasks that asked and have not finished, replies being delivered included."""
        return len(self._tasks)

    async def drain(self, grace: float, notice: float = NOTICE_SECONDS) -> Drained:
        """Stop taking questions and let the accepted ones be answered and delivered.

        Questions still waiting or running when `grace` runs out get Reply("shutting_down"),
        and their tasks `notice` more seconds to deliver it: nothing accepted goes unanswered.
        """
        self.accepting = False
        if await self.wait_delivered(grace):
            return Drained(True, 0, 0)
        # a job that finished a moment ago delivers its answer: only those really stopped are told
        told = sum(job.cancel() for job in list(self._jobs))
        await self.wait_delivered(notice)
        return Drained(False, told, len(self._others()))

    async def wait_delivered(self, timeout: float) -> bool:
        """Wait until every task that asked has finished (replies sent); False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := self._others():  # tasks that ask meanwhile are waited for too
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.wait(pending, timeout=left)
        return True

    def _others(self) -> set[asyncio.Task]:
        current = asyncio.current_task()
        return {t for t in self._tasks if t is not current and not t.done()}

    def _track_caller(self) -> None:
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _refuse(self, platform: str, user: str, kind: Kind, lang: str = "en") -> Reply:
        self._record(platform, user, kind, 0.0, ())
        return Reply(kind, lang=lang)

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
