"""Music generators, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from functions.music.providers.base import GeneratedMusic, MusicProvider
from functions.music.providers.local import LocalMusicProvider
from shared.errors import OptionError

PROVIDERS: dict[str, Callable[[], MusicProvider]] = {
    "local": LocalMusicProvider,
}


def get_provider(name: str) -> MusicProvider:
    """The provider called `name`; an unknown name is an OptionError that lists the valid ones."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise OptionError(f"unknown music provider {name!r}; choose one of: {', '.join(PROVIDERS)}") from None
    return factory()


__all__ = ["PROVIDERS", "GeneratedMusic", "LocalMusicProvider", "MusicProvider", "get_provider"]
