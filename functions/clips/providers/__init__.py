"""Clip providers, chosen by name: "local", "replicate" (Kling; "replicate:bytedance/seedance-1-pro-fast"
for Seedance), "gemini" (Veo 3.1), "openai" (Sora 2), the short names "kling", "seedance", "veo", "sora",
or a comma-separated fallback chain ("kling,veo,local")."""

from __future__ import annotations

from collections.abc import Callable

from functions.clips.providers.base import ClipProvider
from functions.clips.providers.fallback import FallbackClipProvider, link_estimate
from functions.clips.providers.local import LocalClipProvider
from functions.clips.providers.video_models import ALIASES
from shared.errors import OptionError
from shared.models import ClipRequest
from shared.providers.fallback import parse_chain
from shared.providers.prices import ItemEstimate


def _replicate(model: str | None = None) -> ClipProvider:
    from functions.clips.providers.replicate import ReplicateClipProvider

    return ReplicateClipProvider(model)


def _gemini(model: str | None = None) -> ClipProvider:
    from functions.clips.providers.gemini import GeminiClipProvider

    return GeminiClipProvider(model)


def _openai(model: str | None = None) -> ClipProvider:
    from functions.clips.providers.openai import OpenAIClipProvider

    return OpenAIClipProvider(model)


def _local(model: str | None = None) -> ClipProvider:
    if model:
        raise OptionError(f"the local clip provider has no models (got {model!r})")
    return LocalClipProvider()


PROVIDERS: dict[str, Callable[..., ClipProvider]] = {
    "local": _local,
    "replicate": _replicate,
    "gemini": _gemini,
    "openai": _openai,
}
VENDORS = {"gemini", "openai", "replicate"}


def get_provider(name: str) -> ClipProvider:
    """The provider (or chain) called `name`; an unknown name is an OptionError that lists the valid ones."""
    providers: list[ClipProvider] = []
    for link in parse_chain(name, aliases=ALIASES):
        try:
            factory = PROVIDERS[link.name]
        except KeyError:
            names = [*PROVIDERS, *ALIASES]
            raise OptionError(f"unknown clip provider {link.name!r}; choose one of: {', '.join(names)}") from None
        providers.append(factory(link.model) if link.model else factory())
    return providers[0] if len(providers) == 1 else FallbackClipProvider(providers)


def estimate(*, name: str, request: ClipRequest) -> ItemEstimate:
    provider = get_provider(name)
    if isinstance(provider, FallbackClipProvider):
        return provider.estimate(request=request)
    cost = link_estimate(provider, request=request)
    return ItemEstimate(expected=cost, worst=cost, provider=provider.name)


__all__ = ["PROVIDERS", "VENDORS", "ClipProvider", "LocalClipProvider", "estimate", "get_provider"]
