"""The per-user token buckets behind the 429s, on a clock the test moves: burst, refill, Retry-After."""

from __future__ import annotations

import pytest

from api.ratelimit import RateLimit, RateLimitedError, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_refill_interval() -> None:
    clock = Clock()
    limiter = RateLimiter(limits={"render": RateLimit(burst=3, per_minute=6), "upload": None}, clock=clock)
    for _ in range(3):
        limiter.take(user_id="alice", action="render")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take(user_id="alice", action="render")
    assert refused.value.retry_after == pytest.approx(10.0) and refused.value.retry_seconds == 10
    clock.now += 4  # 0.4 of a token back: still refused, and told the rest of the wait
    with pytest.raises(RateLimitedError) as refused:
        limiter.take(user_id="alice", action="render")
    assert refused.value.retry_after == pytest.approx(6.0)
    clock.now += 6
    limiter.take(user_id="alice", action="render")
    # Someone else's bucket, and an action without a limit, are untouched.
    limiter.take(user_id="bob", action="render")
    for _ in range(1000):
        limiter.take(user_id="alice", action="upload")


def test_an_idle_user_gets_the_burst_back_but_never_more() -> None:
    clock = Clock()
    limiter = RateLimiter(limits={"product": RateLimit(burst=2, per_minute=1)}, clock=clock)
    limiter.take(user_id="u", action="product")
    limiter.take(user_id="u", action="product")
    clock.now += 3600
    limiter.take(user_id="u", action="product")
    limiter.take(user_id="u", action="product")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take(user_id="u", action="product")
    assert refused.value.retry_seconds == 60
    assert str(refused.value) == "too many products: at most 2 at once, then 1 a minute"
