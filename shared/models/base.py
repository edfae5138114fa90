"""What every model family builds on: the frozen base, the output frame (aspect, size, fps, length), a box
in normalised coordinates, and a provider link that was tried and failed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Aspect = Literal["9:16", "16:9", "1:1"]

OUTPUT_SIZES: dict[str, tuple[int, int]] = {
    "9:16": (1080, 1920),
    "16:9": (1920, 1080),
    "1:1": (1080, 1080),
}


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutputSpec(Frozen):
    """What the final video must be."""

    aspect: Aspect = "9:16"
    width: int = 1080
    height: int = 1920
    fps: int = Field(default=30, ge=12, le=60)
    duration: float = Field(default=30.0, gt=0, le=600, description="Seconds, exact to one frame.")

    @classmethod
    def for_aspect(cls, *, aspect: Aspect, fps: int = 30, duration: float = 30.0) -> OutputSpec:
        width, height = OUTPUT_SIZES[aspect]
        return cls(aspect=aspect, width=width, height=height, fps=fps, duration=duration)

    @property
    def total_frames(self) -> int:
        return round(self.duration * self.fps)


class RectGeometry:
    """What follows from a rectangle's corner (x, y) and size (w, h): its far edges and its centre. Box (a
    model, in normalised coordinates) and the camera's Rect (canvas units) both have them."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


class Box(Frozen, RectGeometry):
    """A rectangle in normalised coordinates (0..1) of the upright image."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)


class ProviderAttempt(Frozen):
    """A link of a provider chain that was tried and did not give the result, and why (kept on the job)."""

    provider: str = Field(description="The link, e.g. 'replicate:kwaivgi/kling-v2.1'.")
    kind: str = Field(description="Failure family: refused, timeout, rate_limited, server, invalid_input, ...")
    reason: str = Field(description="One line a user can read; never a key.")
    cost_usd: float = Field(default=0.0, ge=0, description="What the failed try was billed, US dollars.")
