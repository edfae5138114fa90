"""A chain of music generators ("replicate,local")."""

from __future__ import annotations

from pathlib import Path

from functions.music.providers.base import GeneratedMusic, MusicProvider
from shared.providers.fallback import run_chain
from shared.providers.prices import ItemEstimate


class FallbackMusicProvider:
    def __init__(self, links: list[MusicProvider]) -> None:
        self.links = links
        self.name = ",".join(link.name for link in links)

    def estimate(self, *, duration: float) -> ItemEstimate:
        costs = [link_estimate(link, duration=duration) for link in self.links]
        return ItemEstimate(expected=costs[0], worst=max(costs), provider=self.name)

    def plan(self, *, duration: float, seed: int, mood: str) -> GeneratedMusic | None:
        return None  # which link answers is only known by generating

    def generate(self, *, duration: float, seed: int, mood: str, path: Path) -> GeneratedMusic:
        made, _, attempts = run_chain(
            links=self.links,
            label=lambda p: p.name,
            call=lambda p: p.generate(duration=duration, seed=seed, mood=mood, path=path),
            stage="music",
        )
        return made.model_copy(update={
            "cost_usd": round(made.cost_usd + sum(a.cost_usd for a in attempts), 6),
            "attempts": attempts,
        })


def link_estimate(provider: object, *, duration: float) -> float:
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(duration=duration)) if estimate is not None else 0.0
