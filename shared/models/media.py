"""The user's photos and songs, and what the analyze and music stages know of them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.models.base import Box, Frozen, ProviderAttempt
from shared.settings import PHOTO_MAX_PIXELS


class PhotoSource(Frozen):
    """A photo as the user gave it: its original bytes in the store, its name and its place in the order."""

    key: str
    name: str
    index: int = Field(ge=0)


class AnalyzePhotoRequest(Frozen):
    source: PhotoSource
    max_pixels: int = PHOTO_MAX_PIXELS
    max_side: int = 3840


class PhotoInfo(Frozen):
    """A decoded, upright, sRGB photo and what the planner needs to know about it."""

    source: PhotoSource
    image_key: str = Field(description="Upright 8-bit sRGB copy (PNG) of the photo, long side <= max_side.")
    width: int
    height: int
    captured_at: datetime | None = None
    faces: list[Box] = Field(default_factory=list)
    subject: Box = Field(description="Where the eye goes: the faces' union, else the most salient region.")
    subject_kind: Literal["face", "saliency", "center"] = "center"
    sharpness: float = Field(ge=0, description="Variance of the Laplacian at a fixed analysis size.")
    phash: str = Field(description="64-bit perceptual hash, hex.")

    @property
    def aspect(self) -> float:
        return self.width / self.height


class PhotoRejection(Frozen):
    name: str
    reason: str


class MusicTrack(Frozen):
    """A soundtrack in the store. Generated tracks carry their exact beat grid."""

    audio_key: str
    name: str
    origin: Literal["user", "generated"]
    duration: float = Field(gt=0)
    tempo: float | None = None
    beats: list[float] | None = None
    downbeats: list[float] | None = None
    provider: str = Field(default="local", description="The generator that made it (the link that succeeded).")
    cost_usd: float = Field(default=0.0, ge=0, description="What generating it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")


class AnalyzeMusicRequest(Frozen):
    track: MusicTrack


class Section(Frozen):
    start: float
    end: float
    kind: Literal["calm", "energetic"]
    energy: float = Field(ge=0, le=1)


class MusicInfo(Frozen):
    """Beat grid and energy of a track, in seconds from the track's start."""

    track: MusicTrack
    duration: float
    tempo: float = Field(gt=0)
    beats: list[float]
    downbeats: list[float]
    beat_strength: list[float] = Field(description="Onset strength at each beat, 0..1.")
    energy_hop: float = Field(gt=0, description="Seconds between samples of `energy`.")
    energy: list[float] = Field(description="Loudness curve, 0..1.")
    sections: list[Section]

    def energy_at(self, t: float) -> float:
        if not self.energy:
            return 0.5
        i = min(len(self.energy) - 1, max(0, int(t / self.energy_hop)))
        return self.energy[i]


class MusicRequest(Frozen):
    """Ask for a soundtrack: the user's file, or one generated for `duration` seconds."""

    duration: float = Field(gt=0)
    user_key: str | None = None
    user_name: str | None = None
    seed: int = 0
    mood: str = "uplifting"
    provider: str = Field(default="local", description="Generator of a track when no user file is given.")
