"""The stage registry: every stage by name, with its entry function, models and code version.

Executors look stages up here by name, so a remote worker (a Modal function) and a local thread run
exactly the same entry function on the same request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from shared.models import media
from shared.models.plan import PlanRequest, ScenePlan
from shared.models.product import ProductResult
from shared.models.render import ClipRequest, ClipResult, ComposeRequest, ComposeResult, StyledImage, StyleRequest


@dataclass(frozen=True)
class Stage:
    name: str
    entry: Callable[..., BaseModel]
    request: type[BaseModel]
    result: type[BaseModel]
    version: str
    identity: Callable[[Any], BaseModel] | None = None
    """Maps a request to what its result depends on, when that is less than the whole request."""
    rebind: Callable[[Any, Any], BaseModel] | None = None
    """Puts the per-call parts of a request (dropped by `identity`) back into a cached result."""
    cached: bool = True
    """False for a stage that keeps and reuses its own artifacts (the product pieces): no result record."""


@cache
def stages() -> dict[str, Stage]:
    # Imported here, not at module top, so importing the pipeline stays cheap for the web app and Modal.
    from functions import analyze, clips, compose, music, plan, style
    from functions.product import pieces as product

    def version(module: Any, attr: str) -> str:
        return str(getattr(module, attr, "1"))

    def plan_entry(*, request: PlanRequest, store: Any, report: Any) -> ScenePlan:
        # Model planners look at the photos' thumbnails, so they get the store.
        return plan.run_plan(request=request, store=store, report=report)

    def photo_identity(request: media.AnalyzePhotoRequest) -> media.AnalyzePhotoRequest:
        # A photo's analysis depends on its bytes, not on its file name or place in the order.
        return request.model_copy(update={"source": media.PhotoSource(key=request.source.key, name="", index=0)})

    def photo_rebind(result: media.PhotoInfo, request: media.AnalyzePhotoRequest) -> media.PhotoInfo:
        return result.model_copy(update={"source": request.source})

    def music_identity(request: media.MusicRequest) -> media.MusicRequest:
        # A user's song is converted as it is: the video's length, seed and mood play no part.
        if request.user_key is None:
            return request
        return media.MusicRequest(duration=1.0, user_key=request.user_key, user_name=request.user_name)

    def plan_identity(request: PlanRequest) -> PlanRequest:
        # The edit (order, cuts, moves) does not depend on the look; only the prompts' wording does.
        return request.model_copy(update={"look": ""})

    def plan_rebind(result: ScenePlan, request: PlanRequest) -> ScenePlan:
        from functions.plan.prompts import restyle_plan

        return restyle_plan(result, look=request.look)

    table = [
        Stage("analyze_photo", analyze.analyze_photo, media.AnalyzePhotoRequest, media.PhotoInfo,
              version(analyze, "ANALYZE_VERSION"), identity=photo_identity, rebind=photo_rebind),
        Stage("analyze_music", analyze.analyze_music, media.AnalyzeMusicRequest, media.MusicInfo,
              version(analyze, "MUSIC_ANALYSIS_VERSION")),
        Stage("music", music.run_music, media.MusicRequest, media.MusicTrack, version(music, "MUSIC_VERSION"),
              identity=music_identity),
        Stage("plan", plan_entry, PlanRequest, ScenePlan, version(plan, "PLAN_VERSION"),
              identity=plan_identity, rebind=plan_rebind),
        Stage("style", style.run_style, StyleRequest, StyledImage, version(style, "STYLE_VERSION")),
        Stage("clips", clips.run_clip, ClipRequest, ClipResult, version(clips, "CLIPS_VERSION")),
        Stage("compose", compose.run_compose, ComposeRequest, ComposeResult,
              version(compose, "COMPOSE_VERSION")),
        *(Stage(name, entry, request, result, product.PIECE_VERSIONS[name], cached=False)
          for name, entry, request, result in (
              ("product_poses", product.poses, product.PosesRequest, product.Posed),
              ("product_train", product.train, product.TrainRequest, product.Trained),
              ("product_render", product.render, product.FramesRequest, product.Frames),
              ("product_preview", product.preview, product.FramesRequest, product.Frames),
              ("product_encode", product.encode, product.EncodeRequest, ProductResult))),
    ]
    return {s.name: s for s in table}


def get_stage(name: str) -> Stage:
    try:
        return stages()[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(stages())}") from None
