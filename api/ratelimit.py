"""Per-user rate limits on what costs the server real work: uploads, renders and product turntables.

A token bucket per (user, action), kept in this process: a user may do `burst` of an action at once,
then one more each time the bucket refills (`per_minute` tokens a minute). Reads are never limited.
With several web replicas each one limits the traffic it serves, so a user spread over N replicas gets
up to N times the limit; that is the price of needing no shared counter."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from shared.errors import MomentLoopError

Action = Literal["upload", "render", "product"]

_PRUNE_AT = 10_000
"""Buckets kept before the full ones (users idle long enough to be back at `burst`) are dropped."""


class RateLimit(BaseModel):
    """How often one user may do one action."""

    burst: int = Field(ge=1, description="How many at once (the bucket's size).")
    per_minute: float = Field(gt=0, description="How many more each minute after the burst (its refill).")


class RateLimitedError(MomentLoopError):
    """A user asked for an action more often than its limit allows (HTTP 429 with Retry-After)."""

    def __init__(self, *, action: Action, retry_after: float, limit: RateLimit) -> None:
        self.action = action
        self.retry_after = retry_after
        self.limit = limit
        super().__init__(
            f"too many {action}s: at most {limit.burst} at once, then {limit.per_minute:g} a minute",
            hint=f"try again in {self.retry_seconds} s",
        )

    @property
    def retry_seconds(self) -> int:
        """Retry-After is whole seconds; rounding up never sends a client back too early."""
        return max(1, math.ceil(self.retry_after))


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Token buckets per (user id, action); an action without a limit is never refused. Thread-safe."""

    def __init__(self, *, limits: Mapping[Action, RateLimit | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = dict(limits)
        self._clock = clock
        self._buckets: dict[tuple[str, Action], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, *, user_id: str, action: Action) -> None:
        """Spend one of the user's `action` tokens, or raise RateLimitedError saying when one is back."""
        limit = self.limits.get(action)
        if limit is None:
            return
        rate = limit.per_minute / 60.0
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get((user_id, action))
            tokens = limit.burst if bucket is None else min(limit.burst, bucket.tokens + (now - bucket.at) * rate)
            if tokens < 1:
                raise RateLimitedError(action=action, retry_after=(1 - tokens) / rate, limit=limit)
            self._buckets[(user_id, action)] = _Bucket(tokens=tokens - 1, at=now)
            if len(self._buckets) > _PRUNE_AT:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            limit = self.limits.get(key[1])
            if limit is None or bucket.tokens + (now - bucket.at) * limit.per_minute / 60.0 >= limit.burst:
                del self._buckets[key]
