"""The JSON the API takes and gives: `XCreate` / `XUpdate` in, `XPublic` out (docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.models.base import Aspect
from shared.models.jobs import JobStatus
from shared.models.plan import CameraMove, Framing, PhotoOrder, Transition
from shared.projects import ProjectFields


class In(BaseModel):
    """Request bodies: unknown fields are refused, so a typo is a 422, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


@cache
def look_names() -> tuple[str, ...]:
    from functions.style import list_looks

    return tuple(look.name for look in list_looks())


def _known_look(name: str) -> str:
    if name not in look_names():
        raise ValueError(f"unknown look {name!r} (choose from: {', '.join(look_names())})")
    return name


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Look = Annotated[str, AfterValidator(_known_look)]
Seconds = Annotated[float, Field(ge=1, le=600, description="Length of the video; null: about 3 s a photo.")]
Fps = Annotated[int, Field(ge=12, le=60)]
Order = Annotated[PhotoOrder, Field(description=(
    "How the storyboard orders the photos: capture_time (dated photos by when they were taken, undated ones "
    "keep their place) or manual (exactly the order of the photos). Reordering the photos by hand sets manual."))]


class ErrorPublic(BaseModel):
    detail: str = Field(description="One line a person can act on.")
    hint: str | None = None


# ---------------------------------------------------------------- session


class SessionCreate(In):
    token: str = Field(min_length=1, max_length=500)


class MePublic(BaseModel):
    name: str


class SessionPublic(BaseModel):
    """Whether this browser (its session cookie) or client (its bearer token) is signed in, and as whom."""

    signed_in: bool
    name: str | None = Field(default=None, description="The user's name when signed in.")


# ---------------------------------------------------------------- assets


class AssetPublic(BaseModel):
    id: str
    kind: Literal["photo", "music"]
    name: str
    position: int | None = Field(description="Place of a photo in its role's order (0 first); null for music.")
    role: Literal["photo", "capture"] = Field(
        default="photo", description="photo: the video's own (a scene, or its song); capture: a photo of a product "
                                     "capture, for turntables only, never a scene of the video.")
    width: int | None = Field(description="Upright width of a photo, in pixels.")
    height: int | None
    duration: float | None = Field(description="Seconds of a song.")
    size_bytes: int
    thumbnail_url: str | None = Field(description="JPEG, long side at most 384 (photos only).")
    created_at: datetime


class AssetOrder(In):
    asset_ids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=1000)


class WaveformPublic(BaseModel):
    duration: float
    peaks: list[float] = Field(description="Loudest sample of each of 800 equal slices, 0..1.")


# ---------------------------------------------------------------- projects


class ProjectCreate(In):
    name: Name
    look: Look = "ghibli"
    aspect: Aspect = "9:16"
    duration: Seconds | None = None
    fps: Fps = 30


class ProjectUpdate(In):
    name: Name | None = None
    look: Look | None = None
    aspect: Aspect | None = None
    duration: Seconds | None = None
    fps: Fps | None = None
    order: Order | None = None

    @model_validator(mode="after")
    def _only_duration_may_be_null(self) -> ProjectUpdate:
        nulled = sorted(f for f in self.model_fields_set if f != "duration" and getattr(self, f) is None)
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self


class ProjectPublic(ProjectFields):
    photo_count: int
    cover_url: str | None = Field(default=None, description="The thumbnail of the video's first photo, if any.")
    order: Order = "capture_time"
    music: AssetPublic | None
    product: ProductPublic | None = Field(
        default=None, description="The product turntable the video shows as its product shot, if any.")


# ---------------------------------------------------------------- looks


class LookPublic(BaseModel):
    name: str
    description: str


class PreviewPublic(BaseModel):
    look: str
    url: str


# ---------------------------------------------------------------- plan


class ScenePublic(BaseModel):
    index: int
    kind: Literal["photo", "product"] = Field(
        default="photo", description="product: the project's product turntable over the photo.")
    asset_id: str | None = Field(description="The photo asset shown; null if it was deleted since planning.")
    photo: str
    start: float = Field(description="Seconds on the video timeline (a beat).")
    end: float
    beats: int
    move: CameraMove
    transition_in: Transition
    transition_seconds: float
    framing: Framing
    prompt: str
    thumbnail_url: str | None


StaleWhat = Literal["photos", "music", "length", "shape", "fps", "order", "product", "project"]


class StalePublic(BaseModel):
    what: StaleWhat = Field(description="What changed since the storyboard was made.")
    detail: str = Field(description="In words, e.g. 'length: 6 s → 8 s'.")


class CarriedPublic(BaseModel):
    photo: str | None = Field(description="The photo of the scene edited; null for the scenes' order.")
    what: str = Field(description="The edit: 'crossfade in', '5 beats', 'new prompt', 'camera: pan left'.")
    kept: bool
    reason: str | None = Field(description="Why it could not be kept.")


class PlanPublic(BaseModel):
    duration: float
    tempo: float
    music_offset: float = Field(description="Seconds into the song where the video begins.")
    beats: list[float] = Field(description="Beat times on the video timeline.")
    downbeats: list[float]
    waveform: WaveformPublic = Field(description="The music as heard in the video, over `duration`.")
    scenes: list[ScenePublic]
    version: int = Field(description="Which kept state of the storyboard this is (each edit and re-plan makes one).")
    note: str = Field(description="What made this state: an edit (and what it changed elsewhere) or a re-plan.")
    can_undo: bool
    can_redo: bool
    undo: str | None = Field(description="What undo takes back: the note of this state.")
    redo: str | None = Field(description="What redo brings back: the note of the next state.")
    current: bool = Field(description="Made for the project's photos, song, length, shape, frame rate, photo "
                                      "order and product as they are now; if not, `stale` says what changed.")
    stale: list[StalePublic]
    carried: list[CarriedPublic] = Field(
        description="After a re-plan: each edit of the storyboard before it, kept or not (and why not).")
    prompt_readers: list[str] = Field(
        description="The video models that animate scenes from their prompts on this server (e.g. Kling); "
                    "empty: clips are rendered offline from the camera moves and prompts are not used.")


class SceneUpdate(In):
    beats: int | None = Field(default=None, ge=1, le=256, description="Length in beats.")
    move: CameraMove | None = None
    transition_in: Transition | None = None
    prompt: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None = None


class SceneOrder(In):
    order: list[int] = Field(max_length=1000, description="Every scene index once, in the new order.")


# ---------------------------------------------------------------- jobs and exports


class JobPublic(BaseModel):
    id: str
    project_id: str
    kind: Literal["plan", "render", "render_scene", "product"]
    status: JobStatus
    error: str | None
    hint: str | None
    created_at: datetime
    updated_at: datetime
    export_id: str | None
    product_id: str | None = Field(default=None, description="The turntable a finished `product` job made.")


class ExportPublic(BaseModel):
    id: str
    job_id: str
    duration: float
    width: int
    height: int
    size_bytes: int
    created_at: datetime
    video_url: str
    poster_url: str | None
    current: bool = Field(default=True, description=(
        "It shows the project as it is: its storyboard as shown now, in the current look, for the current "
        "photos, song and options. If not, `stale` says what changed since."))
    stale: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- product turntables


Even = Annotated[int, Field(ge=64, le=2048, multiple_of=2)]


class ProductCreate(In):
    asset_ids: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        min_length=3, max_length=200,
        description="The project's capture photos (role capture; its ordinary photos are accepted too) taken "
                    "around the product, any order.")
    preview: bool = Field(default=False, description="The CPU point-splat preview even where a GPU could train.")
    frames: int = Field(default=120, ge=8, le=1440, description="Frames of the full turn.")
    fps: Fps = 30
    size: Even = Field(default=1080, description="Width and height of the (square) turntable, pixels.")
    use: bool = Field(default=True, description="Show it in the project's video once it is made.")


class ProductCapabilities(BaseModel):
    """What this server's product turntables can be: the web app enables and words its Product 360° page
    from it."""

    gpu: bool = Field(description="Turntables are trained on a GPU (nerfstudio), here or on Modal; false: "
                                  "this server makes the CPU preview only.")
    renderer: Literal["nerf", "preview"] = Field(description="What a turntable is made with unless the preview "
                                                             "is asked for.")
    min_photos: int = Field(description="The fewest photos around the product the app starts a turntable from.")
    good_photos: int = Field(description="How many photos around the product make a good turn.")
    max_photos: int = Field(description="The most photos of a product one project holds.")


class ProductUse(In):
    product_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class ProductPublic(BaseModel):
    id: str
    job_id: str
    frames: int
    fps: int
    width: int
    height: int
    duration: float = Field(description="Seconds of one full turn.")
    renderer: str = Field(description="preview (CPU point splats, not final quality) or nerf (GPU).")
    preview: bool
    size_bytes: int
    created_at: datetime
    video_url: str = Field(description="VP9 WebM with alpha; HTTP Range supported.")
    poster_url: str = Field(description="RGBA PNG of the first frame.")
    in_use: bool = Field(description="The project's video shows it as its product shot.")


ProjectPublic.model_rebuild()  # its `product` field names ProductPublic, defined after it
