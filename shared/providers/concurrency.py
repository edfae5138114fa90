"""Per-provider concurrency limits: at most N calls to one provider in flight in this process.

Video models and image editors queue (or 429) when a client floods them, and a budget is easier to keep
when spending is paced. A limit holds across every job and stage item of the process; on Modal each
container has its own (the Modal function's own concurrency setting caps the containers)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_slots: dict[str, tuple[int, threading.BoundedSemaphore]] = {}


def _semaphore(key: str, limit: int) -> threading.BoundedSemaphore:
    with _lock:
        held = _slots.get(key)
        if held is None or held[0] != limit:
            # A changed limit (new settings) starts a new semaphore; holders of the old one release the old one.
            held = (limit, threading.BoundedSemaphore(limit))
            _slots[key] = held
        return held[1]


@contextlib.contextmanager
def provider_slot(*, key: str, limit: int) -> Iterator[None]:
    """Hold one of `limit` slots of `key` (e.g. "clips:replicate") for the duration of the block."""
    if limit < 1:
        raise ValueError(f"concurrency limit of {key} must be at least 1, got {limit}")
    semaphore = _semaphore(key, limit)
    with semaphore:
        yield
