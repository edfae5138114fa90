"""What a project's job is, snapshotted when it was asked for: its kind, and for a plan or render job the
photos, song, options, storyboard and product turntable it works on, with the project state they are of (a
resumed job does exactly the same work, and one whose project changed meanwhile says so)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.storyboard import basis, fingerprint
from functions.pipeline.video_models import MusicInput, ProductSource, VideoOptions
from shared.errors import MomentLoopError
from shared.models.media import PhotoSource
from shared.models.plan import ScenePlan
from shared.projects import AssetRecord, PlanBasis, ProductRecord, ProjectRecord

JobKind = Literal["plan", "render", "render_scene", "product"]
JOB_KINDS: tuple[JobKind, ...] = ("plan", "render", "render_scene", "product")


class ProjectChangedError(MomentLoopError):
    """The project's photos, music or output options changed while its job ran."""

    def __init__(self) -> None:
        super().__init__("the project's photos, music or video options changed while this job ran",
                         hint="make the storyboard again")


class ProjectJobParams(BaseModel):
    """A job's whole input, snapshotted when it was asked for: a resumed job does exactly the same work."""

    project_id: str
    user_id: str
    sources: list[PhotoSource]
    asset_ids: list[str]
    music: MusicInput | None
    options: VideoOptions
    fingerprint: str
    made_for: PlanBasis | None = Field(default=None, description="The project state `fingerprint` is of.")
    plan: ScenePlan | None = None
    scene: int | None = None
    product: ProductSource | None = None
    """The project's product turntable: one scene of the plan is its product shot (`make --product`)."""


def product_source(product: ProductRecord) -> ProductSource:
    return ProductSource(key=product.turntable_key, name=f"product-{product.id[:8]}.webm", frames=product.frames,
                         duration=product.duration)


def job_params(*, project: ProjectRecord, assets: list[AssetRecord], plan: ScenePlan | None = None,
               scene: int | None = None, product: ProductRecord | None = None) -> ProjectJobParams:
    # Captures (role `capture`) are for turntables only: never a scene of the video.
    photos = [a for a in assets if a.kind == "photo" and a.role == "photo"]
    song = next((a for a in assets if a.kind == "music"), None)
    return ProjectJobParams(
        project_id=project.id,
        user_id=project.user_id,
        sources=[PhotoSource(key=a.key, name=a.name, index=i) for i, a in enumerate(photos)],
        asset_ids=[a.id for a in photos],
        music=MusicInput(key=song.key, name=song.name) if song else None,
        options=VideoOptions(look=project.look, aspect=project.aspect, duration=project.duration, fps=project.fps,
                             order=project.photo_order),
        fingerprint=fingerprint(project=project, assets=assets),
        made_for=basis(project=project, assets=assets),
        plan=plan,
        scene=scene,
        product=product_source(product) if product is not None else None,
    )
