"""Pydantic models at every stage boundary. Artifacts travel by reference: `*_key` fields are store keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.settings import PHOTO_MAX_PIXELS

Aspect = Literal["9:16", "16:9", "1:1"]

PhotoOrder = Literal["capture_time", "manual"]
"""How the planner orders photos: `capture_time`, dated photos by when they were taken (undated ones keep
their place); `manual`, exactly as given (the user's own order)."""

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


# ---------------------------------------------------------------- clips

class FinalEncoding(Frozen):
    """The final video's libx264 settings. Pictures encoded with them (at the output's size and fps, by
    `shared.media.h264`) can be copied into the final video untouched."""

    preset: str = "medium"
    crf: int = Field(default=20, ge=0, le=51)


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
    head_frames: int = Field(default=0, ge=0, description="Leading frames compose blends with the previous clip.")
    tail_frames: int = Field(default=0, ge=0, description="Trailing frames compose blends with the next clip.")
    final: FinalEncoding | None = Field(
        default=None,
        description="When set, a provider that can writes the frames between head and tail (the body) with "
        "the final video's settings, and head and tail apart: compose then copies the body untouched.",
    )


class ClipResult(Frozen):
    clip_key: str = Field(description="The clip; only its body when `head_key` or `tail_key` hold its ends.")
    provider: str
    frames: int = Field(description="All of the clip's frames: head, body and tail.")
    duration: float = Field(gt=0, description="Measured from the encoded file.")
    width: int
    height: int
    fps: float
    cost_usd: float = Field(default=0.0, ge=0, description="What generating it cost, US dollars.")
    attempts: list[ProviderAttempt] = Field(default_factory=list, description="Links that failed first.")
    head_key: str | None = Field(default=None, description="The clip's first `head_frames` frames, apart.")
    head_frames: int = Field(default=0, ge=0)
    tail_key: str | None = Field(default=None, description="The clip's last `tail_frames` frames, apart.")
    tail_frames: int = Field(default=0, ge=0)
    final: FinalEncoding | None = Field(
        default=None, description="Set when `clip_key` was encoded with the final video's settings."
    )

    @property
    def body_frames(self) -> int:
        return self.frames - self.head_frames - self.tail_frames

    @property
    def part_keys(self) -> list[str]:
        """Every file of the clip, in frame order."""
        return [k for k in (self.head_key, self.clip_key, self.tail_key) if k is not None]


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
    copied_frames: int = Field(
        default=0, ge=0, description="Frames copied from clips already encoded at the final settings."
    )


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


# ---------------------------------------------------------------- product (3D turntable)

ProductRenderer = Literal["auto", "preview", "nerf"]
ProductMethod = Literal["splatfacto", "nerfacto"]


class Intrinsics(BaseModel):
    """Pinhole intrinsics in pixels of the image as written, with optional OpenCV distortion."""

    model_config = ConfigDict(frozen=True)

    fx: float = Field(gt=0)
    fy: float = Field(gt=0)
    cx: float
    cy: float
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    k1: float = 0.0
    k2: float = 0.0
    p1: float = 0.0
    p2: float = 0.0

    def scaled(self, *, factor: float) -> Intrinsics:
        """The same camera for an image resized by `factor` (distortion is scale-free)."""
        return self.model_copy(
            update={
                "fx": self.fx * factor,
                "fy": self.fy * factor,
                "cx": self.cx * factor,
                "cy": self.cy * factor,
                "width": max(1, round(self.width * factor)),
                "height": max(1, round(self.height * factor)),
            }
        )


class PosedImage(BaseModel):
    """One registered image: its file name (or path relative to a dataset folder) and its camera-to-world
    pose, a 4×4 matrix with OpenCV camera axes (x right, y down, z forward)."""

    model_config = ConfigDict(frozen=True)

    file_path: str
    cam_to_world: tuple[tuple[float, float, float, float], ...]
    intrinsics: Intrinsics

    @model_validator(mode="after")
    def _rigid_4x4(self) -> PosedImage:
        import numpy as np

        m = np.asarray(self.cam_to_world, dtype=float)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise ValueError("cam_to_world must be a finite 4×4 matrix")
        if not np.allclose(m[3], [0, 0, 0, 1], atol=1e-6):
            raise ValueError("cam_to_world last row must be [0, 0, 0, 1]")
        rot = m[:3, :3]
        if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
            raise ValueError("cam_to_world rotation must be a proper rotation")
        return self


class Orbit(BaseModel):
    """A circle of cameras around `centre`, in the plane normal to `up`, all looking at the centre."""

    model_config = ConfigDict(frozen=True)

    centre: tuple[float, float, float]
    up: tuple[float, float, float]
    radius: float = Field(gt=0)
    elevation_deg: float = Field(ge=-89.0, le=89.0)
    reference: tuple[float, float, float] = Field(
        description="Azimuth 0 points from the centre toward this unit vector (in the horizontal plane)."
    )


class RegistrationAttempt(BaseModel):
    """One try of the COLMAP pipeline: its settings and what it achieved."""

    max_features: int
    matcher: Literal["exhaustive", "sequential"]
    registered: int
    seconds: float


class RegistrationSummary(BaseModel):
    total_images: int
    registered_images: int
    registered_fraction: float
    mean_reprojection_error_px: float
    points: int
    attempts: list[RegistrationAttempt]
    phase_seconds: dict[str, float]


class ProductRequest(Frozen):
    """Make a 360° turntable of a product from photos around it, or from a video walking around it."""

    photos: list[PhotoSource] = Field(default_factory=list, description="The photos, by store key, in order.")
    video: PhotoSource | None = Field(default=None, description="Or a walk-around video (its key and name).")
    frames: int = Field(default=120, ge=2, le=1440, description="Frames of the full turn (120 = 4 s at 30 fps).")
    fps: int = Field(default=30, ge=12, le=60)
    width: int = Field(default=1080, ge=64, le=4096, description="Turntable width in pixels (even).")
    height: int = Field(default=1080, ge=64, le=4096, description="Turntable height in pixels (even).")
    renderer: ProductRenderer = Field(
        default="auto", description="preview: the CPU point-splat preview; nerf: nerfstudio on a GPU; "
        "auto: nerf when a GPU is present, else preview."
    )
    method: ProductMethod = Field(default="splatfacto", description="The nerfstudio method (nerf renderer).")
    max_steps: int | None = Field(default=None, ge=1, description="Training steps; None: the method's preset.")
    seed: int = 0

    @model_validator(mode="after")
    def _one_input(self) -> ProductRequest:
        if bool(self.photos) == (self.video is not None):
            raise ValueError("give either photos or a video")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"turntable size {self.width}x{self.height} must be even (4:2:0 video)")
        return self


class ProductCapture(Frozen):
    """The CPU half of a product: cameras placed, dataset written, orbit fitted. Reused by content key."""

    key: str = Field(description="Store prefix of this capture: product/<content key>.")
    registration: RegistrationSummary
    cameras: list[PosedImage] = Field(description="Registered images: file name, OpenCV camera-to-world, intrinsics.")
    orbit: Orbit
    object_radius: float = Field(gt=0, description="Radius around the orbit centre that holds the object.")
    frame_radius: float = Field(
        gt=0, description="Radius holding the object's own points (its table or wall left out): the turntable "
        "is framed on it."
    )
    points_key: str = Field(description="The sparse cloud (npz: xyz, rgb, seen_by).")
    dataset_key: str = Field(description="Prefix of the nerfstudio dataset: <prefix>/transforms.json, images/.")
    dataset_files: list[str] = Field(description="Paths under the dataset prefix, transforms.json included.")
    sampled_frames: int | None = Field(default=None, description="Video input: frames taken from the video.")
    rejected: list[PhotoRejection] = Field(default_factory=list, description="Photos left out, and why.")
    phase_seconds: dict[str, float] = Field(default_factory=dict)


class ProductRenderPlan(Frozen):
    """The turntable's cameras and where each rendered RGBA frame (PNG) goes in the store."""

    key: str = Field(description="Store prefix of this render: product/<content key>.")
    renderer: Literal["preview", "nerf"]
    method: ProductMethod | None = None
    cameras: list[tuple[tuple[float, float, float, float], ...]] = Field(
        description="Orbit cameras, camera-to-world 4×4, OpenCV axes, in the capture's (COLMAP) frame."
    )
    intrinsics: Intrinsics
    frame_keys: list[str]
    fps: int


class ProductResult(Frozen):
    turntable_key: str = Field(description="VP9 WebM with alpha (yuva420p), one full turn, loop-ready.")
    poster_key: str = Field(description="RGBA PNG of the first frame.")
    renderer: Literal["preview", "nerf"]
    preview: bool = Field(description="True when the CPU point-splat preview made it (not final quality).")
    method: ProductMethod | None = None
    frames: int
    fps: int
    width: int
    height: int
    duration: float
    registration: RegistrationSummary
    cameras: list[PosedImage]
    orbit: Orbit
    render_intrinsics: Intrinsics
    object_radius: float
    sampled_frames: int | None = None
    rejected: list[PhotoRejection] = Field(default_factory=list, description="Photos left out, and why.")
    phase_seconds: dict[str, float] = Field(default_factory=dict)
