"""The offline generator: the procedural synth, deterministic and free."""

from __future__ import annotations

from pathlib import Path

from functions.music.grid import BeatGrid, plan_grid
from functions.music.providers.base import GeneratedMusic
from functions.music.synth import musical_key, pick_mood, render, rendered_seconds, write_wav
from shared.providers.prices import FREE, Price


def _described(*, grid: BeatGrid, seed: int, mood: str) -> GeneratedMusic:
    _, key_name = musical_key(seed=seed, mood=mood)
    return GeneratedMusic(
        name=f"MomentLoop {pick_mood(mood).name} ({grid.tempo:.0f} BPM, {key_name})",
        duration=rendered_seconds(grid),
        tempo=grid.tempo,
        beats=grid.beats(),
        downbeats=grid.downbeats(),
    )


class LocalMusicProvider:
    name = "local"
    price: Price = FREE

    def estimate_usd(self, *, duration: float) -> float:
        return 0.0

    def plan(self, *, duration: float, seed: int, mood: str) -> GeneratedMusic:
        grid = plan_grid(duration=duration, target_bpm=pick_mood(mood).target_bpm)
        return _described(grid=grid, seed=seed, mood=mood)

    def generate(self, *, duration: float, seed: int, mood: str, path: Path) -> GeneratedMusic:
        rendered = render(duration=duration, seed=seed, mood=mood)
        write_wav(rendered=rendered, path=path)
        return _described(grid=rendered.grid, seed=seed, mood=mood)
