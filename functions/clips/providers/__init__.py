"""Clip providers, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from functions.clips.providers.base import ClipProvider
from functions.clips.providers.local import LocalClipProvider
from shared.errors import OptionError

PROVIDERS: dict[str, Callable[[], ClipProvider]] = {
    "local": LocalClipProvider,
}


def get_provider(name: str) -> ClipProvider:
    """The provider called `name`; an unknown name is an OptionError that lists the valid ones."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise OptionError(f"unknown clip provider {name!r}; choose one of: {', '.join(PROVIDERS)}") from None
    return factory()


__all__ = ["PROVIDERS", "ClipProvider", "LocalClipProvider", "get_provider"]
