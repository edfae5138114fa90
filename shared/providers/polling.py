"""Waiting for a long-running generation (a Veo operation, a Sora video, a Replicate prediction): its state
asked for again every `poll_interval` seconds, each ask retried like any provider call, until it is done
or `generation_timeout` has passed."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from shared.providers.errors import ProviderError
from shared.providers.retry import RetryPolicy, Translate, call_with_retry
from shared.settings import Settings

T = TypeVar("T")


def poll_until_done(
    first: T,
    *,
    done: Callable[[T], bool],
    fetch: Callable[[T], T],
    named: Callable[[T], str],
    provider: str,
    settings: Settings,
    translate: Translate,
    polled: Callable[[T, int], None] | None = None,
    give_up: Callable[[T], str] | None = None,
) -> T:
    """The generation `first` once `done`: `fetch` asks for its newer state (`polled(state, count)` is told
    after each ask). Past the timeout, `give_up` (say, a cancel) runs and returns what it did, and a
    ProviderError of kind "timeout" names the generation (`named`) and says how long was waited."""
    policy = RetryPolicy.from_settings(settings)
    deadline = time.monotonic() + settings.generation_timeout
    state = first
    polls = 0
    while not done(state):
        if time.monotonic() > deadline:
            did = give_up(state) if give_up is not None else ""
            raise ProviderError(f"{named(state)} not done after {settings.generation_timeout:.0f} s"
                                + (f"; {did}" if did else ""), provider=provider, kind="timeout")
        time.sleep(settings.poll_interval)
        current = state

        def ask(s: T = current) -> T:
            return fetch(s)

        state = call_with_retry(ask, what=f"{provider} poll", translate=translate, policy=policy)
        polls += 1
        if polled is not None:
            polled(state, polls)
    return state
