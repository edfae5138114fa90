"""The edit: scenes on the music's beat grid (ScenePlan), and what the plan stage is asked (PlanRequest)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from shared.models.base import Box, Frozen, OutputSpec, ProviderAttempt
from shared.models.media import MusicInfo, PhotoInfo

PhotoOrder = Literal["capture_time", "manual"]
"""How the planner orders photos: `capture_time`, dated photos by when they were taken (undated ones keep
their place); `manual`, exactly as given (the user's own order)."""


class CameraMove(StrEnum):
    push_in = "push_in"
    pull_out = "pull_out"
    pan_left = "pan_left"
    pan_right = "pan_right"
    pan_up = "pan_up"
    pan_down = "pan_down"
    drift = "drift"


class Transition(StrEnum):
    cut = "cut"
    crossfade = "crossfade"


class Framing(StrEnum):
    """cover: the photo fills the frame, a pan travels over a subject wider than the frame, and a blurred
    fill shows only where the faces (or a subject too wide to travel over in time) need a wider view.
    blurred_fill: the whole subject box in every frame, over a blurred fill as far as that needs."""

    cover = "cover"
    blurred_fill = "blurred_fill"


class Scene(Frozen):
    """One photo on screen between two beats of the music."""

    index: int = Field(ge=0)
    photo: str = Field(description="The photo's file name, as given.")
    photo_index: int = Field(ge=0, description="Index of the photo in the given order.")
    image_key: str = Field(description="The analysed (upright) photo; style turns it into the look.")
    start: float = Field(ge=0, description="Seconds on the video timeline; a beat time.")
    end: float = Field(description="Seconds on the video timeline; a beat time.")
    beats: int = Field(ge=1, description="Length in beats.")
    move: CameraMove
    focus: Box = Field(description="What the camera keeps in frame and moves toward.")
    faces: list[Box] = Field(
        default_factory=list,
        description="The heads (hair included) of the faces found in the photo: each stays wholly inside the "
        "frame on every frame of the scene.",
    )
    framing: Framing = Framing.cover
    transition_in: Transition = Field(default=Transition.cut, description="How this scene begins.")
    transition_seconds: float = Field(default=0.0, ge=0, description="Crossfade length centred on `start`.")
    prompt: str = Field(description="The motion, in words a video model takes.")
    kind: Literal["photo", "product"] = Field(
        default="photo", description="product: the turntable `product_key` over `image_key` as the background."
    )
    product_key: str | None = Field(
        default=None, description="Product scenes: the turntable (VP9 WebM with alpha, one full turn) in the store."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Scene:
        if self.end <= self.start:
            raise ValueError(f"scene {self.index} ends ({self.end}) before it starts ({self.start})")
        if (self.kind == "product") != (self.product_key is not None):
            raise ValueError(f"scene {self.index}: a product scene, and only one, has a product_key")
        return self

    @property
    def duration(self) -> float:
        return self.end - self.start


class DroppedPhoto(Frozen):
    photo: str
    reason: str


class ScenePlan(Frozen):
    """The edit: scenes on the music timeline, and the beat grid they were snapped to."""

    output: OutputSpec
    look: str
    tempo: float
    music_offset: float = Field(ge=0, description="Seconds into the track where the video begins.")
    fade_out: float = Field(ge=0, description="Music fade at the end, seconds.")
    beats: list[float] = Field(description="Beat times on the video timeline.")
    downbeats: list[float] = Field(description="Downbeat times on the video timeline.")
    scenes: list[Scene]
    dropped: list[DroppedPhoto] = Field(default_factory=list)
    provider: str = Field(default="local", description="The planner whose proposal this is (timing is always ours).")
    cost_usd: float = Field(default=0.0, ge=0, description="What planning cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Planners that failed first.")


class ProductInput(Frozen):
    """A product turntable (made by `momentloop product`) to show as one scene of the plan."""

    key: str = Field(description="The turntable in the store: VP9 WebM with alpha, one full turn.")
    name: str = Field(description="Its file name, as given.")
    frames: int = Field(ge=2, description="Frames of the turn.")
    duration: float = Field(gt=0, description="Seconds of one full turn at the turntable's own frame rate.")
    background: PhotoInfo | None = Field(
        default=None, description="The photo behind it, when the user chose one; else the planner picks one."
    )
    placement: Literal["auto", "drop", "start", "end"] = Field(
        default="auto",
        description="Where the product shot goes: on the downbeat where the music's most energetic section "
        "begins (drop), first, last, or auto (the drop when the music has one, else last).",
    )


class PlanRequest(Frozen):
    photos: list[PhotoInfo]
    music: MusicInfo
    output: OutputSpec
    look: str
    brief: str = ""
    seed: int = 0
    provider: str = Field(default="local", description="Planner (or comma-separated chain) proposing the edit.")
    product: ProductInput | None = Field(default=None, description="A product turntable to place as one scene.")
    order: PhotoOrder = Field(default="capture_time", description="How the photos are put in story order.")
