"""The web app's records: users (hashed tokens), sessions, projects, assets, storyboards, job links,
exports and product turntables; the project store's interface.

One implementation serves it on SQLite (the embedded default, the same file as the jobs) and PostgreSQL
(several web containers): `SQLProjectStore` in shared/db/projects.py. Every read that a person can trigger
is scoped by the owner's user id: a record of another user is answered exactly like a record that does
not exist (`NotFoundError`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from shared.errors import MomentLoopError
from shared.models.base import Aspect
from shared.models.media import MusicTrack
from shared.models.plan import CameraMove, PhotoOrder, ScenePlan, Transition

AssetKind = Literal["photo", "music"]
AssetRole = Literal["photo", "capture"]
"""`photo`: the video's own media (its photos, in order, and its song); `capture`: a photo of a product
capture (issue 6), for turntables only, never a scene of the video."""


class NotFoundError(MomentLoopError):
    """No such record for this user (it does not exist, or belongs to someone else: the same answer)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"no such {what}: {ident}")
        self.what = what
        self.ident = ident


class ConflictError(MomentLoopError):
    """The request does not fit the record's current state (a reorder that leaves a photo out, ...)."""


PLAN_VERSIONS_KEPT = 200
"""States of a project's storyboard kept for undo and redo (each edit and each re-plan makes one); the
oldest are let go past it."""


class UserRecord(BaseModel):
    id: str
    name: str
    created_at: datetime


class ProjectFields(BaseModel):
    """What a project is: as the store keeps it (ProjectRecord) and as the API shows it (ProjectPublic)."""

    id: str
    name: str
    look: str
    aspect: Aspect
    duration: float | None
    fps: int
    created_at: datetime
    updated_at: datetime


class ProjectRecord(ProjectFields):
    user_id: str
    photo_order: PhotoOrder = Field(
        default="capture_time", description="capture_time until the user orders the photos by hand: then manual.")


class AssetRecord(BaseModel):
    id: str
    project_id: str
    kind: AssetKind
    name: str
    position: int | None = Field(description="Place of a photo in the project's order; None for music.")
    key: str = Field(description="The uploaded bytes in the artifact store (content-addressed).")
    thumb_key: str | None = None
    preview_key: str | None = Field(default=None, description="Upright copy, long side 512, looks are previewed on.")
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    size_bytes: int
    created_at: datetime
    role: AssetRole = Field(default="photo", description="photo: the video's own; capture: a product capture's.")


class Waveform(BaseModel):
    duration: float
    peaks: list[float]


class PlanBasis(BaseModel):
    """What a storyboard was made for, kept to say why it no longer fits the project."""

    photos: list[str] = Field(description="The photo asset ids, in the order the planner was given them.")
    music: str | None = Field(description="The song's asset id; None: a generated track.")
    aspect: Aspect
    duration: float | None
    fps: int
    order: PhotoOrder


class SceneEdit(BaseModel):
    """What the user changed on one scene. Kept by photo (not by place), so a new storyboard made for other
    photos, another length or another shape can take it over."""

    photo: str = Field(description="The photo's file name, to name the edit to the user.")
    beats: int | None = None
    move: CameraMove | None = None
    transition_in: Transition | None = None
    prompt: str | None = None
    look: str = Field(description="The look the prompt was written in (its style sentence follows the look).")


class CarriedEdit(BaseModel):
    """One edit of the storyboard before a re-plan: taken over into the new one, or why not."""

    photo: str | None = Field(description="The photo of the scene edited; None for the scenes' order.")
    what: str = Field(description="The edit in words: 'crossfade in', '5 beats', 'prompt', 'camera move pan left'.")
    kept: bool
    reason: str | None = None


class PlanRecord(BaseModel):
    """A project's storyboard, with what rendering it needs and what it was made from."""

    project_id: str
    plan: ScenePlan
    track: MusicTrack
    asset_ids: list[str] = Field(description="Photo asset ids in the order given to the planner (photo_index).")
    waveform: Waveform = Field(description="The music as heard in the video (from its offset), 0..1 peaks.")
    fingerprint: str = Field(description="Of the photos, music and output options the plan was made for.")
    updated_at: datetime
    made_for: PlanBasis | None = Field(default=None, description="None in storyboards made before it was kept.")
    edits: dict[str, SceneEdit] = Field(
        default_factory=dict, description="The user's scene edits, by scene key (api/storyboard.py: scene_key).")
    scenes_reordered: bool = Field(default=False, description="The user put the scenes in another order.")
    carried: list[CarriedEdit] = Field(
        default_factory=list, description="A re-plan: the edits of the storyboard before it, kept or not.")
    note: str = Field(default="", description="What made this state of the storyboard, in words.")


class PlanHistory(BaseModel):
    """Where a project's storyboard stands among its kept states (undo goes one back, redo one forward)."""

    version: int = Field(description="The state shown (the current storyboard).")
    first: int = Field(description="The oldest state kept.")
    last: int = Field(description="The newest state (later than `version` after an undo).")
    undo: str | None = Field(description="What undo would take back: the note of the state shown.")
    redo: str | None = Field(description="What redo would bring back: the note of the next state.")


class JobLink(BaseModel):
    job_id: str
    project_id: str
    kind: str
    created_at: datetime


class ExportRecord(BaseModel):
    id: str
    project_id: str
    job_id: str
    video_key: str
    poster_key: str | None
    duration: float
    width: int
    height: int
    size_bytes: int
    created_at: datetime
    fingerprint: str | None = Field(default=None, description="The project's photos, music and options it shows.")
    plan_digest: str | None = Field(default=None, description="The storyboard it shows, in its look (a hash).")
    look: str | None = Field(default=None, description="The look it was rendered in.")
    made_for: PlanBasis | None = Field(default=None, description="The project state it was rendered for.")


class ProductRecord(BaseModel):
    """A project's product turntable (issue 6): VP9 WebM with alpha and its PNG poster, in the store."""

    id: str
    project_id: str
    job_id: str
    turntable_key: str
    poster_key: str
    frames: int
    fps: int
    width: int
    height: int
    duration: float
    renderer: str = Field(description="preview (CPU point splats) or nerf (nerfstudio on a GPU).")
    size_bytes: int
    created_at: datetime


class ProjectStore(Protocol):
    def add_user(self, *, name: str) -> tuple[UserRecord, str]: ...
    def list_users(self) -> list[UserRecord]: ...
    def user_by_token(self, token: str) -> UserRecord | None: ...
    def create_session(self, *, user_id: str) -> str: ...
    def user_by_session(self, session: str) -> UserRecord | None: ...
    def delete_session(self, session: str) -> None: ...

    def create_project(self, *, user_id: str, name: str, look: str, aspect: Aspect, duration: float | None,
                       fps: int) -> ProjectRecord: ...
    def list_projects(self, *, user_id: str) -> list[ProjectRecord]: ...
    def get_project(self, *, user_id: str, project_id: str) -> ProjectRecord: ...
    def update_project(self, *, user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectRecord: ...
    def touch_project(self, *, project_id: str) -> None: ...
    def delete_project(self, *, user_id: str, project_id: str) -> None: ...

    def add_asset(self, *, project_id: str, kind: AssetKind, name: str, key: str, size_bytes: int,
                  thumb_key: str | None = None, preview_key: str | None = None, width: int | None = None,
                  height: int | None = None, duration: float | None = None,
                  max_photos: int | None = None, role: AssetRole = "photo",
                  max_captures: int | None = None) -> AssetRecord: ...
    def list_assets(self, *, project_id: str, role: AssetRole = "photo") -> list[AssetRecord]: ...
    def get_asset(self, *, user_id: str, asset_id: str) -> AssetRecord: ...
    def delete_asset(self, *, project_id: str, asset_id: str) -> None: ...
    def reorder_photos(self, *, project_id: str, asset_ids: Sequence[str]) -> list[AssetRecord]: ...

    def get_plan(self, *, project_id: str) -> PlanRecord | None: ...
    def save_plan(self, record: PlanRecord, *, expect: int | None = None) -> int: ...
    def plan_history(self, *, project_id: str) -> PlanHistory | None: ...
    def step_plan(self, *, project_id: str, by: int) -> PlanRecord: ...
    def delete_plan(self, *, project_id: str) -> None: ...

    def link_job(self, *, job_id: str, project_id: str, kind: str) -> JobLink: ...
    def get_job_link(self, *, user_id: str, job_id: str) -> JobLink: ...
    def list_job_links(self, *, project_id: str) -> list[JobLink]: ...
    def job_links(self, job_ids: Sequence[str]) -> list[JobLink]: ...

    def add_export(self, *, project_id: str, job_id: str, video_key: str, poster_key: str | None,
                   duration: float, width: int, height: int, size_bytes: int, fingerprint: str | None = None,
                   plan_digest: str | None = None, look: str | None = None,
                   made_for: PlanBasis | None = None) -> ExportRecord: ...
    def list_exports(self, *, project_id: str) -> list[ExportRecord]: ...
    def get_export(self, *, user_id: str, export_id: str) -> ExportRecord: ...
    def export_for_job(self, *, job_id: str) -> ExportRecord | None: ...

    def add_product(self, *, project_id: str, job_id: str, turntable_key: str, poster_key: str, frames: int,
                    fps: int, width: int, height: int, duration: float, renderer: str,
                    size_bytes: int) -> ProductRecord: ...
    def list_products(self, *, project_id: str) -> list[ProductRecord]: ...
    def get_product(self, *, user_id: str, product_id: str) -> ProductRecord: ...
    def product_for_job(self, *, job_id: str) -> ProductRecord | None: ...
    def project_product(self, *, project_id: str) -> ProductRecord | None: ...
    def use_product(self, *, project_id: str, product_id: str | None) -> None: ...
