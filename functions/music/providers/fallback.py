"""A chain of music generators ("replicate,local")."""

from __future__ import annotations

from pathlib import Path

from functions.music.providers.base import GeneratedMusic, MusicProvider
from shared.providers.fallback import Chain


class FallbackMusicProvider(Chain[MusicProvider]):
    stage = "music"

    def plan(self, *, duration: float, seed: int, mood: str) -> GeneratedMusic | None:
        return None  # which link answers is only known by generating

    def generate(self, *, duration: float, seed: int, mood: str, path: Path) -> GeneratedMusic:
        made, _, attempts = self.run(lambda p: p.generate(duration=duration, seed=seed, mood=mood, path=path))
        return made.model_copy(update={
            "cost_usd": round(made.cost_usd + sum(a.cost_usd for a in attempts), 6),
            "attempts": attempts,
        })
