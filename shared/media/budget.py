"""How much memory decoding photos may take at once in one process.

Every decode first says how much it will hold at its peak; `DecodeBudget` lets it start once what the
decodes already running hold leaves room for it, so an upload burst, a pipeline's analysis pool and a
product job together never hold more than the budget, however many photos arrive. A photo that alone
needs more than the whole budget (a 200 MP HEIC from a phone, which libheif hands over whole) is not
refused: it waits until nothing else decodes, then runs alone, and what arrives meanwhile waits behind
it. A process's decodes so hold at most the larger of the budget and one photo, which the pixel limit
(shared/settings.py) bounds."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

MIB = 1024 * 1024


class DecodeBudget:
    """A semaphore counted in bytes, where what is bigger than the whole budget runs alone."""

    def __init__(self, *, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self._held = 0
        self._alone_waiting = 0
        self._changed = threading.Condition()

    @property
    def held(self) -> int:
        return self._held

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        """Wait until `nbytes` fit beside what the running decodes hold, hold them for the block, then give
        the freed memory back to the system. More than the whole budget waits until nothing else is held
        and runs alone; while it waits, nothing new starts (a stream of small photos would otherwise keep
        it waiting for as long as the stream lasts)."""
        with self._changed:
            if nbytes > self.limit:
                self._alone_waiting += 1
                try:
                    self._changed.wait_for(lambda: self._held == 0)
                finally:
                    self._alone_waiting -= 1
            else:
                self._changed.wait_for(lambda: not self._alone_waiting and self._held + nbytes <= self.limit)
            self._held += nbytes
        try:
            yield
        finally:
            with self._changed:
                self._held -= nbytes
                self._changed.notify_all()
            release_freed_memory()


@functools.cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_freed_memory() -> None:
    """Hand memory freed by a decode back to the system. glibc keeps freed blocks below its mmap threshold
    (which grows to 32 MiB after big frees) in its arenas for reuse: after a large photo the server would
    otherwise stay hundreds of MiB larger than it needs to be (measured: tests/api/test_upload_memory.py)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def decode_budget() -> DecodeBudget:
    """The process's budget, sized by the `decode_memory_mb` setting."""
    from shared.settings import get_settings

    return DecodeBudget(limit_bytes=get_settings().decode_memory_mb * MIB)
