"""The per-user sliding window, on a clock the test moves."""

from __future__ import annotations

import threading

from bot.serving.ratelimit import RateLimiter


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_window_slides_and_says_how_long_to_wait():
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.check("slack:U1") == 0  # t=0
    clock.now += 30
    assert limiter.check("slack:U1") == 0  # t=30
    clock.now += 10
    assert limiter.check("slack:U1") == 20  # t=40: the first turn comes back at t=60
    clock.now += 19.5
    assert limiter.check("slack:U1") == 1  # t=59.5: never "0 seconds"
    clock.now += 0.5
    assert limiter.check("slack:U1") == 0  # t=60: the first question has left the window
    assert limiter.check("slack:U1") == 30  # the one at t=30 is still in it, until t=90
    clock.now += 30
    assert limiter.check("slack:U1") == 0


def test_refused_questions_do_not_extend_the_wait():
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.check("discord:7") == 0
    for _ in range(5):
        clock.now += 10
        limiter.check("discord:7")  # asking again while limited costs nothing
    clock.now += 10  # t=60
    assert limiter.check("discord:7") == 0


def test_users_have_windows_of_their_own():
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    assert limiter.check("slack:U1") == 0
    assert limiter.check("slack:U1") > 0
    assert limiter.check("slack:U2") == 0
    assert limiter.check("discord:U1") == 0  # the same id on another platform is another user


def test_zero_turns_the_limit_off():
    limiter = RateLimiter(0, clock=Clock())
    assert all(limiter.check("slack:U1") == 0 for _ in range(1000))


def test_threads_asking_at_once_get_exactly_the_allowed_turns():
    limiter = RateLimiter(10, clock=Clock())
    allowed = []
    start = threading.Barrier(8)

    def ask():
        start.wait(5)
        allowed.extend(1 for _ in range(50) if limiter.check("slack:U1") == 0)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(allowed) == 10
