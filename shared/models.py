"""Pydantic models at every stage boundary. Artifacts travel by reference: `*_key` fields are store keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class Box(Frozen):
    """A rectangle in normalised coordinates (0..1) of the upright image."""

    x: float = Field(ge=0, le=1)
    y: float = Field(ge=0, le=1)
    w: float = Field(gt=0, le=1)
    h: float = Field(gt=0, le=1)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


class ProviderAttempt(Frozen):
    """A link of a provider chain that was tried and did not give the result, and why (kept on the job)."""

    provider: str = Field(description="The link, e.g. 'replicate:kwaivgi/kling-v2.1'.")
    kind: str = Field(description="Failure family: refused, timeout, rate_limited, server, invalid_input, ...")
    reason: str = Field(description="One line a user can read; never a key.")
    cost_usd: float = Field(default=0.0, ge=0, description="What the failed try was billed, US dollars.")


# ---------------------------------------------------------------- analyze

class PhotoSource(Frozen):
    """A photo as the user gave it: its original bytes in the store, its name and its place in the order."""

    key: str
    name: str
    index: int = Field(ge=0)


class AnalyzePhotoRequest(Frozen):
    source: PhotoSource
    max_pixels: int = 120_000_000
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


# ---------------------------------------------------------------- music

class MusicRequest(Frozen):
    """Ask for a soundtrack: the user's file, or one generated for `duration` seconds."""

    duration: float = Field(gt=0)
    user_key: str | None = None
    user_name: str | None = None
    seed: int = 0
    mood: str = "uplifting"
    provider: str = Field(default="local", description="Generator of a track when no user file is given.")


# ---------------------------------------------------------------- style

class StyleRequest(Frozen):
    image_key: str
    look: str
    provider: str = "local"
    max_side: int = 2048
    seed: int = 0


class StyledImage(Frozen):
    image_key: str
    look: str
    provider: str
    width: int
    height: int
    cost_usd: float = Field(default=0.0, ge=0, description="What painting it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")


# ---------------------------------------------------------------- plan

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
    framing: Framing = Framing.cover
    transition_in: Transition = Field(default=Transition.cut, description="How this scene begins.")
    transition_seconds: float = Field(default=0.0, ge=0, description="Crossfade length centred on `start`.")
    prompt: str = Field(description="The motion, in words a video model takes.")

    @model_validator(mode="after")
    def _ordered(self) -> Scene:
        if self.end <= self.start:
            raise ValueError(f"scene {self.index} ends ({self.end}) before it starts ({self.start})")
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


class PlanRequest(Frozen):
    photos: list[PhotoInfo]
    music: MusicInfo
    output: OutputSpec
    look: str
    brief: str = ""
    seed: int = 0
    provider: str = Field(default="local", description="Planner (or comma-separated chain) proposing the edit.")


# ---------------------------------------------------------------- clips

class ClipRequest(Frozen):
    """Render one scene. The clip runs `lead_in` seconds before the scene and `lead_out` after it,
    so that crossfades centred on the scene's boundaries have picture to blend."""

    image_key: str = Field(description="The styled image.")
    scene: Scene
    output: OutputSpec
    frames: int = Field(ge=1, description="Exact number of frames to render.")
    lead_in: float = Field(ge=0)
    lead_out: float = Field(ge=0)
    provider: str = "local"
    seed: int = 0


class ClipResult(Frozen):
    clip_key: str
    provider: str
    frames: int
    duration: float = Field(gt=0, description="Measured from the encoded file.")
    width: int
    height: int
    fps: float
    cost_usd: float = Field(default=0.0, ge=0, description="What generating it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")


# ---------------------------------------------------------------- compose

class ComposeRequest(Frozen):
    plan: ScenePlan
    clips: list[ClipResult]
    audio_key: str
    preset: str = "medium"
    crf: int = 20
    target_lufs: float = -14.0
    true_peak_db: float = -1.5


class ComposeResult(Frozen):
    video_key: str
    poster_key: str | None = None
    duration: float
    width: int
    height: int
    fps: float
    loudness_lufs: float | None = None


# ---------------------------------------------------------------- jobs and progress

EventType = Literal["stage", "item", "progress", "log", "done", "failed"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class ProgressEvent(Frozen):
    """One line of a job's append-only event log."""

    job_id: str
    seq: int = Field(ge=0, description="Per-job sequence number, gap-free from 1; 0 before it is stored.")
    ts: datetime
    type: EventType
    stage: str | None = None
    item: str | None = None
    status: str | None = None
    percent: float | None = Field(default=None, ge=0, le=100)
    total: int | None = Field(default=None, ge=0, description="On `stage` events: how many items the stage has.")
    message: str = ""
    error: str | None = None
    hint: str | None = None


class JobRecord(Frozen):
    id: str
    kind: str
    status: JobStatus
    params: dict[str, object]
    result: dict[str, object] | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
