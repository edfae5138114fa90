"""Retries of provider calls: exponential backoff with jitter for transient failures, and nothing else.

Timeouts, 429 and 5xx are retried (the wait a server asks for is honoured: never shorter than a
Retry-After header or, for Google's APIs, the RetryInfo of the error body; a server asking for more than
`retry_after_max` fails the call at once, saying so); refusals, rejected inputs and unusable outputs are
not, because the same call would get the same answer and may be billed again. The SDKs' own retry loops
are switched off where they are built (shared/providers/sdk/), so this is the one place that decides, and a test
can count the calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from shared.providers.errors import ProviderError, ProviderTransientError
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

Translate = Callable[[Exception], ProviderError | None]
"""Maps an SDK's exception to our family (None: not a provider failure; it propagates as it is)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 1.0
    max_wait: float = 30.0
    retry_after_max: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RetryPolicy:
        s = settings or get_settings()
        return cls(attempts=s.provider_attempts, initial_wait=s.retry_initial_wait, max_wait=s.retry_max_wait,
                   retry_after_max=s.retry_after_max)


def should_retry(exc: BaseException, *, policy: RetryPolicy) -> bool:
    """Transient, and not asking us to wait longer than we are willing to."""
    if not isinstance(exc, ProviderError) or not exc.transient:
        return False
    return exc.retry_after is None or exc.retry_after <= policy.retry_after_max


class _BackoffOrRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff with jitter; a Retry-After from the server is a floor under it."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential_jitter(
            initial=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = float(self.backoff(retry_state))
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = max(float(retry_after), min(wait, self.policy.max_wait))
        return wait


def call_with_retry(
    fn: Callable[[], T],
    *,
    what: str,
    translate: Translate,
    policy: RetryPolicy | None = None,
    on_retry: Callable[[ProviderError, int, float], None] | None = None,
) -> T:
    """`fn()`, tried again on transient provider failures. SDK exceptions are translated first, so the
    error that finally escapes is always a ProviderError (or whatever `translate` leaves alone).

    `on_retry(error, attempt, wait)` is told before each wait (for progress messages)."""
    policy = policy or RetryPolicy.from_settings()

    def once() -> T:
        try:
            return fn()
        except ProviderError as err:
            told = too_long_a_wait(err, policy=policy)
            if told is None:
                raise
            raise told from err
        except Exception as exc:
            translated = translate(exc)
            if translated is None:
                raise
            raise (too_long_a_wait(translated, policy=policy) or translated) from exc

    def before_sleep(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        if isinstance(exc, ProviderError):
            log.info("%s: %s; try %d of %d in %.2f s", what, exc, state.attempt_number + 1, policy.attempts, wait)
            if on_retry is not None:
                on_retry(exc, state.attempt_number, wait)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts),
        wait=_BackoffOrRetryAfter(policy),
        retry=tenacity.retry_if_exception(lambda e: should_retry(e, policy=policy)),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(once)


def too_long_a_wait(err: ProviderError, *, policy: RetryPolicy) -> ProviderTransientError | None:
    """`err` retold with the wait it asked for, when that is longer than we wait (it is not retried)."""
    wait = err.retry_after
    if not err.transient or wait is None or wait <= policy.retry_after_max:
        return None
    told = ProviderTransientError(
        # The wait first: a long provider message is cut at the end of the one line a user sees.
        f"the provider asks to wait {wait:g} s, longer than the {policy.retry_after_max:g} s we wait "
        f"(MOMENTLOOP_RETRY_AFTER_MAX); {err.detail}",
        provider=err.provider, kind=err.kind, status=err.status, retry_after=wait,
        hint=err.hint or "try again later, or raise MOMENTLOOP_RETRY_AFTER_MAX",
    )
    told.spent_usd = err.spent_usd
    return told


def parse_retry_after(headers: object) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; None when absent."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    ms = get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
