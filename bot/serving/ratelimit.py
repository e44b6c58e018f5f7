"""Per-user rate limit shared by every chat platform."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    """Sliding window: at most `per_minute` questions per user in any 60 seconds (0 = off)."""

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, user: str) -> int:
        """Record a question; return 0 if allowed, else the seconds to wait."""
        if self.per_minute <= 0:
            return 0
        now = self._clock()
        with self._lock:
            hits = self._hits[user]
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, math.ceil(60 - (now - hits[0])))
            hits.append(now)
            return 0
