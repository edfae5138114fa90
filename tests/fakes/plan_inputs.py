"""Photos (with real thumbnails in the store) and music whose beat grid a test controls, for planners."""

from __future__ import annotations

import numpy as np

from shared.media.pictures import save_bgr
from shared.models.base import Box, OutputSpec
from shared.models.media import MusicInfo, MusicTrack, PhotoInfo, PhotoSource, Section
from shared.models.plan import PlanRequest
from shared.store import ArtifactStore

CENTER = Box(x=0.4, y=0.4, w=0.2, h=0.2)


def photos(store: ArtifactStore, count: int) -> list[PhotoInfo]:
    out = []
    rng = np.random.default_rng(7)
    for i in range(count):
        key = f"analyze/{i}/photo.png"
        img = np.full((120, 160, 3), (30 * i % 255, 90, 200 - 20 * i), np.uint8)
        img[40:80, 60:100] = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
        save_bgr(store=store, key=key, image=img)
        out.append(PhotoInfo(
            source=PhotoSource(key=f"inputs/{i}.jpg", name=f"p{i:02d}.jpg", index=i),
            image_key=key, width=1600, height=1200, subject=CENTER, subject_kind="saliency", sharpness=100.0,
            # Distinct photos get hashes far apart.
            phash=f"{(0x9E3779B97F4A7C15 * (i + 1)) & (2**64 - 1):016x}",
        ))
    return out


def music(*, seconds: float = 30.0, bpm: float = 120.0, calm_until: float = 8.0) -> MusicInfo:
    period = 60.0 / bpm
    beats = [round(k * period, 6) for k in range(int(seconds / period) + 1)]
    downbeats = beats[::4]
    hop = 0.1
    n = int(seconds / hop) + 1
    return MusicInfo(
        track=MusicTrack(audio_key="music/t.wav", name="t.wav", origin="generated", duration=seconds),
        duration=seconds, tempo=bpm, beats=beats, downbeats=downbeats,
        beat_strength=[1.0 if b in downbeats else 0.6 for b in beats],
        energy_hop=hop, energy=[0.2 if k * hop < calm_until else 0.9 for k in range(n)],
        sections=[Section(start=0, end=calm_until, kind="calm", energy=0.2),
                  Section(start=calm_until, end=seconds, kind="energetic", energy=0.9)],
    )


def plan_request(store: ArtifactStore, *, count: int = 5, duration: float = 16.0, provider: str = "local",
                 aspect: str = "9:16") -> PlanRequest:
    return PlanRequest(photos=photos(store, count), music=music(), look="ghibli", provider=provider,
                       output=OutputSpec.for_aspect(aspect=aspect, duration=duration))  # type: ignore[arg-type]
