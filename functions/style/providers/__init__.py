"""Style providers, chosen by name: "local", "gemini", "openai", "replicate", a model ("replicate:owner/name"),
or a comma-separated fallback chain ("gemini,local")."""

from __future__ import annotations

from collections.abc import Callable

from functions.style.providers.base import StyleProvider
from functions.style.providers.fallback import FallbackStyleProvider, link_estimate
from functions.style.providers.local import LocalStyleProvider
from shared.errors import OptionError
from shared.providers.fallback import parse_chain
from shared.providers.prices import ItemEstimate


def _gemini(model: str | None = None) -> StyleProvider:
    from functions.style.providers.gemini import GeminiStyleProvider

    return GeminiStyleProvider(model)


def _openai(model: str | None = None) -> StyleProvider:
    from functions.style.providers.openai import OpenAIStyleProvider

    return OpenAIStyleProvider(model)


def _replicate(model: str | None = None) -> StyleProvider:
    from functions.style.providers.replicate import ReplicateStyleProvider

    return ReplicateStyleProvider(model)


def _local(model: str | None = None) -> StyleProvider:
    if model:
        raise OptionError(f"the local style provider has no models (got {model!r})")
    return LocalStyleProvider()


PROVIDERS: dict[str, Callable[..., StyleProvider]] = {
    "local": _local,
    "gemini": _gemini,
    "openai": _openai,
    "replicate": _replicate,
}
VENDORS = {"gemini", "openai", "replicate"}


def get_provider(name: str) -> StyleProvider:
    """The provider (or chain) called `name`; an unknown name is an OptionError that lists the valid ones."""
    links = []
    for link in parse_chain(name):
        try:
            factory = PROVIDERS[link.name]
        except KeyError:
            raise OptionError(
                f"unknown style provider {link.name!r}; choose one of: {', '.join(PROVIDERS)}"
            ) from None
        links.append(factory(link.model) if link.model else factory())
    return links[0] if len(links) == 1 else FallbackStyleProvider(links)


def estimate(*, name: str, width: int, height: int) -> ItemEstimate:
    """What styling one width x height picture with `name` costs (first link, and dearest link)."""
    provider = get_provider(name)
    if isinstance(provider, FallbackStyleProvider):
        return provider.estimate(width=width, height=height)
    cost = link_estimate(provider, width=width, height=height)
    return ItemEstimate(expected=cost, worst=cost, provider=provider.name)


__all__ = ["PROVIDERS", "VENDORS", "LocalStyleProvider", "StyleProvider", "estimate", "get_provider"]
