"""What every music generator offers: a brief in, a 48 kHz stereo WAV of at least the asked length out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.models.base import ProviderAttempt
from shared.models.media import MusicTrack


class GeneratedMusic(BaseModel):
    """What a generator knows about the file it wrote. A beat grid only when it is exact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    duration: float = Field(gt=0, description="Seconds in the file written.")
    tempo: float | None = None
    beats: list[float] | None = None
    downbeats: list[float] | None = None
    provider: str = "local"
    cost_usd: float = Field(default=0.0, ge=0)
    attempts: list[ProviderAttempt] = Field(default_factory=list)

    def as_track(self, *, audio_key: str) -> MusicTrack:
        """The stage's result for this song, written to `audio_key`: a MusicTrack carries all it knows."""
        return MusicTrack(audio_key=audio_key, origin="generated", **dict(self))


class MusicProvider(Protocol):
    name: str

    def plan(self, *, duration: float, seed: int, mood: str) -> GeneratedMusic | None:
        """What `generate` would return, without rendering; None when only rendering can tell."""
        ...

    def generate(self, *, duration: float, seed: int, mood: str, path: Path) -> GeneratedMusic:
        """Write a 48 kHz stereo WAV to `path` whose music runs to at least `duration` seconds."""
        ...
