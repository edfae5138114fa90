"""The storyboard as the web app edits it: scenes re-laid on the beat grid after every change.

Rules (docs/api.md): each scene keeps its length in beats, every boundary is a beat, the last scene
ends on the video's last beat (the final downbeat). When one scene's length changes, the last scene
(or the one before it, when the last is the one edited) takes up the difference."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from api.schemas import PlanPublic, ScenePublic, SceneUpdate, WaveformPublic
from functions.plan.prompts import restyle_plan
from shared.models import Scene, ScenePlan, Transition
from shared.projects import AssetRecord, ConflictError, PlanRecord, ProjectRecord

_EPS = 1e-6


def fingerprint(*, project: ProjectRecord, assets: Sequence[AssetRecord]) -> str:
    """What a storyboard depends on: the photos (and their order), the song and the output options."""
    basis = {
        "photos": [(a.id, a.key) for a in assets if a.kind == "photo" and a.role == "photo"],
        "music": [(a.id, a.key) for a in assets if a.kind == "music"],
        "aspect": project.aspect,
        "duration": project.duration,
        "fps": project.fps,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def cut_points(plan: ScenePlan) -> list[float]:
    """Beat times where a scene may end before the video does."""
    end = plan.output.duration
    return [b for b in plan.beats if _EPS < b < end - _EPS]


def crossfade_seconds(*, plan: ScenePlan, before: float, after: float) -> float:
    # The planner's rule: at most a beat, at most 1 s, at most 40% of either neighbour.
    period = 60.0 / plan.tempo
    return round(min(period, 1.0, 0.4 * min(before, after)), 4)


def relay(*, plan: ScenePlan, scenes: Sequence[Scene], edited: int | None = None) -> ScenePlan:
    """`scenes` (in their new order, with their wanted lengths in beats) laid on `plan`'s beat grid."""
    if not scenes:
        raise ConflictError("a storyboard needs at least one scene")
    cuts = cut_points(plan)
    slots = len(cuts) + 1
    wanted = [s.beats for s in scenes]
    if len(scenes) == 1:
        wanted = [slots]
    elif sum(wanted) != slots:
        taker = len(scenes) - 1 if edited != len(scenes) - 1 else len(scenes) - 2
        wanted[taker] += slots - sum(wanted)
        if wanted[taker] < 1:
            asked = f"scene {edited + 1} at {scenes[edited].beats} beats" if edited is not None else "these scenes"
            raise ConflictError(
                f"no room for {asked}: the video is {slots} beats long and every other scene needs at "
                f"least one", hint="shorten another scene first, or make the video longer")
    bounds = [0.0]
    used = 0
    for n in wanted[:-1]:
        used += n
        bounds.append(cuts[used - 1])
    bounds.append(plan.output.duration)

    laid: list[Scene] = []
    for k, scene in enumerate(scenes):
        start, end = bounds[k], bounds[k + 1]
        transition, seconds = scene.transition_in, 0.0
        if k == 0:
            transition = Transition.cut
        elif transition == Transition.crossfade:
            seconds = crossfade_seconds(plan=plan, before=start - bounds[k - 1], after=end - start)
        laid.append(scene.model_copy(update={
            "index": k, "start": round(start, 6), "end": round(end, 6), "beats": wanted[k],
            "transition_in": transition, "transition_seconds": seconds,
        }))
    return plan.model_copy(update={"scenes": laid})


def edit_scene(*, plan: ScenePlan, index: int, update: SceneUpdate) -> ScenePlan:
    if not 0 <= index < len(plan.scenes):
        raise IndexError(index)
    if index == 0 and update.transition_in == Transition.crossfade:
        raise ConflictError("the first scene opens the video: it can only begin with a cut")
    changes = update.model_dump(exclude_unset=True, exclude_none=True)
    scenes = list(plan.scenes)
    scenes[index] = scenes[index].model_copy(update=changes)
    return relay(plan=plan, scenes=scenes, edited=index if "beats" in changes else None)


def reorder_scenes(*, plan: ScenePlan, order: Sequence[int]) -> ScenePlan:
    if sorted(order) != list(range(len(plan.scenes))):
        raise ConflictError(f"the order must name each of the {len(plan.scenes)} scenes once "
                            f"(indexes 0 to {len(plan.scenes) - 1})")
    return relay(plan=plan, scenes=[plan.scenes[i] for i in order])


def plan_public(*, record: PlanRecord, look: str, live_assets: set[str]) -> PlanPublic:
    """The storyboard as the UI shows it, its prompts in the project's current look."""
    plan = restyle_plan(record.plan, look=look)
    scenes = []
    for s in plan.scenes:
        aid = record.asset_ids[s.photo_index] if s.photo_index < len(record.asset_ids) else None
        alive = aid is not None and aid in live_assets
        scenes.append(ScenePublic(
            index=s.index, asset_id=aid if alive else None, photo=s.photo, start=s.start, end=s.end, beats=s.beats,
            move=s.move, transition_in=s.transition_in, transition_seconds=s.transition_seconds, framing=s.framing,
            prompt=s.prompt, thumbnail_url=f"/api/assets/{aid}/thumbnail" if alive else None, kind=s.kind,
        ))
    return PlanPublic(
        duration=plan.output.duration, tempo=plan.tempo, music_offset=plan.music_offset, beats=plan.beats,
        downbeats=plan.downbeats, waveform=WaveformPublic(**record.waveform.model_dump()), scenes=scenes,
    )
