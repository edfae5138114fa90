"""The stage registry: every stage by name, with its entry function, models and code version.

Executors look stages up here by name, so a remote worker (a Modal function) and a local thread run
exactly the same entry function on the same request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from shared import models as m


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


@cache
def stages() -> dict[str, Stage]:
    # Imported here, not at module top, so importing the pipeline stays cheap for the web app and Modal.
    from functions import analyze, clips, compose, music, plan, style

    def version(module: Any, attr: str) -> str:
        return str(getattr(module, attr, "1"))

    def plan_entry(*, request: m.PlanRequest, store: Any, report: Any) -> m.ScenePlan:
        # Model planners look at the photos' thumbnails, so they get the store.
        return plan.run_plan(request=request, store=store, report=report)

    def photo_identity(request: m.AnalyzePhotoRequest) -> m.AnalyzePhotoRequest:
        # A photo's analysis depends on its bytes, not on its file name or place in the order.
        return request.model_copy(update={"source": m.PhotoSource(key=request.source.key, name="", index=0)})

    def photo_rebind(result: m.PhotoInfo, request: m.AnalyzePhotoRequest) -> m.PhotoInfo:
        return result.model_copy(update={"source": request.source})

    def music_identity(request: m.MusicRequest) -> m.MusicRequest:
        # A user's song is converted as it is: the video's length, seed and mood play no part.
        if request.user_key is None:
            return request
        return m.MusicRequest(duration=1.0, user_key=request.user_key, user_name=request.user_name)

    def plan_identity(request: m.PlanRequest) -> m.PlanRequest:
        # The edit (order, cuts, moves) does not depend on the look; only the prompts' wording does.
        return request.model_copy(update={"look": ""})

    def plan_rebind(result: m.ScenePlan, request: m.PlanRequest) -> m.ScenePlan:
        from functions.plan.prompts import restyle_plan

        return restyle_plan(result, look=request.look)

    table = [
        Stage("analyze_photo", analyze.analyze_photo, m.AnalyzePhotoRequest, m.PhotoInfo,
              version(analyze, "ANALYZE_VERSION"), identity=photo_identity, rebind=photo_rebind),
        Stage("analyze_music", analyze.analyze_music, m.AnalyzeMusicRequest, m.MusicInfo,
              version(analyze, "MUSIC_ANALYSIS_VERSION")),
        Stage("music", music.run_music, m.MusicRequest, m.MusicTrack, version(music, "MUSIC_VERSION"),
              identity=music_identity),
        Stage("plan", plan_entry, m.PlanRequest, m.ScenePlan, version(plan, "PLAN_VERSION"),
              identity=plan_identity, rebind=plan_rebind),
        Stage("style", style.run_style, m.StyleRequest, m.StyledImage, version(style, "STYLE_VERSION")),
        Stage("clips", clips.run_clip, m.ClipRequest, m.ClipResult, version(clips, "CLIPS_VERSION")),
        Stage("compose", compose.run_compose, m.ComposeRequest, m.ComposeResult,
              version(compose, "COMPOSE_VERSION")),
    ]
    return {s.name: s for s in table}


def get_stage(name: str) -> Stage:
    try:
        return stages()[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(stages())}") from None
