"""Music generators, chosen by name: "local" (the procedural synth), "replicate" (MusicGen; or
"replicate:owner/name:version"), or a chain ("replicate,local")."""

from __future__ import annotations

from collections.abc import Callable

from functions.music.providers.base import GeneratedMusic, MusicProvider
from functions.music.providers.fallback import FallbackMusicProvider, link_estimate
from functions.music.providers.local import LocalMusicProvider
from shared.errors import OptionError
from shared.providers.fallback import parse_chain
from shared.providers.prices import ItemEstimate


def _replicate(model: str | None = None) -> MusicProvider:
    from functions.music.providers.replicate import ReplicateMusicProvider

    return ReplicateMusicProvider(model)


def _local(model: str | None = None) -> MusicProvider:
    if model:
        raise OptionError(f"the local music generator has no models (got {model!r})")
    return LocalMusicProvider()


PROVIDERS: dict[str, Callable[..., MusicProvider]] = {
    "local": _local,
    "replicate": _replicate,
}
VENDORS = {"replicate"}


def get_provider(name: str) -> MusicProvider:
    """The provider (or chain) called `name`; an unknown name is an OptionError that lists the valid ones."""
    providers: list[MusicProvider] = []
    for link in parse_chain(name, aliases={"musicgen": "replicate"}):
        try:
            factory = PROVIDERS[link.name]
        except KeyError:
            raise OptionError(f"unknown music provider {link.name!r}; choose one of: {', '.join(PROVIDERS)}") from None
        providers.append(factory(link.model) if link.model else factory())
    return providers[0] if len(providers) == 1 else FallbackMusicProvider(providers)


def estimate(*, name: str, duration: float) -> ItemEstimate:
    provider = get_provider(name)
    if isinstance(provider, FallbackMusicProvider):
        return provider.estimate(duration=duration)
    cost = link_estimate(provider, duration=duration)
    return ItemEstimate(expected=cost, worst=cost, provider=provider.name)


__all__ = ["PROVIDERS", "VENDORS", "GeneratedMusic", "LocalMusicProvider", "MusicProvider", "estimate",
           "get_provider"]
