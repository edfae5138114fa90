"""How stages tell the world how far they are, without knowing who listens."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Called by a stage as it works; `percent` is 0..100 of that stage item."""

    def __call__(self, *, percent: float | None = None, message: str = "") -> None: ...


def silent(*, percent: float | None = None, message: str = "") -> None:
    """A reporter that listens to nothing: the default for stage calls outside a job."""
