"""What a video job is asked for and what it gives back: the options shaping the video, the user's song and
product turntable already in the store, `momentloop make`'s request, and the results of the pipeline's
steps (`Prepared`: everything up to the storyboard; `MakeResult`: the video)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from shared.models.base import Aspect
from shared.models.media import MusicInfo, MusicTrack, PhotoInfo, PhotoRejection, PhotoSource
from shared.models.plan import PhotoOrder, ScenePlan
from shared.models.render import ClipResult, ComposeResult


class VideoOptions(BaseModel):
    """What shapes the video, apart from its photos and music."""

    look: str = "ghibli"
    aspect: Aspect = "9:16"
    duration: float | None = Field(default=None, gt=0, le=600)
    fps: int = Field(default=30, ge=12, le=60)
    seed: int = 0
    order: PhotoOrder = Field(default="capture_time", description="How the planner orders the photos.")


class MusicInput(BaseModel):
    """The user's song, already in the store."""

    key: str
    name: str


class ProductSource(BaseModel):
    """The user's product turntable, already in the store and checked, and the photo to show behind it."""

    key: str
    name: str
    frames: int = Field(ge=2)
    duration: float = Field(gt=0, description="Seconds of one full turn at its own frame rate.")
    background: PhotoSource | None = None


class MakeRequest(BaseModel):
    """Everything `momentloop make` needs."""

    photos: list[Path] = Field(min_length=1)
    music: Path | None = None
    product: Path | None = Field(default=None, description="A turntable made by `momentloop product`.")
    product_background: Path | None = Field(default=None, description="The photo behind the product.")
    look: str = "ghibli"
    aspect: Aspect = "9:16"
    duration: float | None = Field(default=None, gt=0, le=600)
    fps: int = Field(default=30, ge=12, le=60)
    seed: int = 0

    def options(self) -> VideoOptions:
        return VideoOptions(look=self.look, aspect=self.aspect, duration=self.duration, fps=self.fps,
                            seed=self.seed)


class StageStats(BaseModel):
    stage: str
    seconds: float = 0.0
    items: int = 0
    cache_hits: int = 0
    failures: int = 0


class MakeResult(BaseModel):
    job_id: str
    plan: ScenePlan
    clips: list[ClipResult]
    video: ComposeResult
    rejected: list[PhotoRejection]
    stats: list[StageStats]
    spend_usd: float = 0.0

    @property
    def cache_hits(self) -> int:
        return sum(s.cache_hits for s in self.stats)


class Prepared(BaseModel):
    """Everything up to the storyboard: what `render` needs, and what the web app shows for editing."""

    photos: list[PhotoInfo]
    rejected: list[PhotoRejection]
    track: MusicTrack
    music: MusicInfo
    plan: ScenePlan
