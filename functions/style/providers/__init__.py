"""Style providers, chosen by name."""

from __future__ import annotations

from collections.abc import Callable

from functions.style.providers.base import StyleProvider
from functions.style.providers.local import LocalStyleProvider
from shared.errors import OptionError

PROVIDERS: dict[str, Callable[[], StyleProvider]] = {
    "local": LocalStyleProvider,
}


def get_provider(name: str) -> StyleProvider:
    """The provider called `name`; an unknown name is an OptionError that lists the valid ones."""
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise OptionError(f"unknown style provider {name!r}; choose one of: {', '.join(PROVIDERS)}") from None
    return factory()


__all__ = ["PROVIDERS", "LocalStyleProvider", "StyleProvider", "get_provider"]
