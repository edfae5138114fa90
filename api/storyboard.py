"""The storyboard as the web app edits it: scenes re-laid on the beat grid after every change, the user's
edits kept by photo so a new storyboard takes them over, and whether a storyboard (or a video) still
shows the project as it is.

Rules (docs/api.md): each scene keeps its length in beats, every boundary is a beat, the last scene
ends on the video's last beat (the final downbeat). When one scene's length changes, the last scene
(or the one before it, when the last is the one edited) takes up the difference, and the edit's note
says so. A re-plan carries each edit over to the scene of the same photo; the scenes the user did not
lengthen or shorten take up what the carried lengths need."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from api.schemas import CarriedPublic, PlanPublic, ScenePublic, SceneUpdate, StalePublic, StaleWhat, WaveformPublic
from functions.clips.providers.video_models import ALIASES, DEFAULT_MODEL, KLING, SEEDANCE, SORA, VEO
from functions.plan.prompts import restyle_plan, style_sentence
from functions.plan.transitions import crossfade_seconds
from shared.models.plan import Scene, ScenePlan, Transition
from shared.projects import (
    AssetRecord,
    CarriedEdit,
    ConflictError,
    ExportRecord,
    PlanBasis,
    PlanHistory,
    PlanRecord,
    ProjectRecord,
    SceneEdit,
)
from shared.providers.fallback import parse_chain

_EPS = 1e-6

_MODEL_NAMES = {KLING.model: "Kling", SEEDANCE.model: "Seedance", VEO.model: "Veo 3.1", SORA.model: "Sora 2"}
"""What the page calls each video model that reads the animation prompts."""

_ORDER_WORDS = {"capture_time": "by capture time", "manual": "your order"}


# ------------------------------------------------------------------ what a storyboard is made for


def basis(*, project: ProjectRecord, assets: Sequence[AssetRecord]) -> PlanBasis:
    """What a storyboard made now would be made for."""
    song = next((a for a in assets if a.kind == "music"), None)
    return PlanBasis(photos=[a.id for a in assets if a.kind == "photo" and a.role == "photo"],
                     music=song.id if song else None, aspect=project.aspect, duration=project.duration,
                     fps=project.fps, order=project.photo_order)


def fingerprint(*, project: ProjectRecord, assets: Sequence[AssetRecord]) -> str:
    """What a storyboard depends on: the photos (and their order), the song, the output options and the
    photo order rule."""
    basis: dict[str, object] = {
        "photos": [(a.id, a.key) for a in assets if a.kind == "photo" and a.role == "photo"],
        "music": [(a.id, a.key) for a in assets if a.kind == "music"],
        "aspect": project.aspect,
        "duration": project.duration,
        "fps": project.fps,
    }
    if project.photo_order != "capture_time":
        basis["order"] = project.photo_order  # absent by default: storyboards made before it still match
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:32]


def plan_digest(plan: ScenePlan) -> str:
    """The storyboard exactly as rendered (scenes, timing, prompts, look)."""
    return hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:32]


def product_key(plan: ScenePlan) -> str | None:
    """The turntable a storyboard's product shot shows, if it has one."""
    return next((sc.product_key for sc in plan.scenes if sc.kind == "product"), None)


def _seconds(value: float | None) -> str:
    return "automatic" if value is None else f"{value:g} s"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _changes(*, was: PlanBasis | None, now: PlanBasis) -> list[tuple[StaleWhat, str]]:
    """What differs between two project states, in words."""
    if was is None:
        return [("project", "the photos, song or video options changed since")]
    found: list[tuple[StaleWhat, str]] = []
    added = [a for a in now.photos if a not in was.photos]
    removed = [a for a in was.photos if a not in now.photos]
    if added or removed:
        parts = [f"{_count(len(added), 'photo')} added" if added else "",
                 f"{_count(len(removed), 'photo')} removed" if removed else ""]
        found.append(("photos", ", ".join(p for p in parts if p)))
    elif was.photos != now.photos:
        found.append(("photos", "the photos' order changed"))
    if was.music != now.music:
        found.append(("music", "a song was added" if was.music is None
                      else "the song was removed" if now.music is None else "the song changed"))
    if was.duration != now.duration:
        found.append(("length", f"length: {_seconds(was.duration)} → {_seconds(now.duration)}"))
    if was.aspect != now.aspect:
        found.append(("shape", f"shape: {was.aspect} → {now.aspect}"))
    if was.fps != now.fps:
        found.append(("fps", f"frame rate: {was.fps} → {now.fps} fps"))
    if was.order != now.order:
        found.append(("order", f"photo order: {_ORDER_WORDS[was.order]} → {_ORDER_WORDS[now.order]}"))
    return found or [("photos", "the photos or the song changed since")]  # same ids, new bytes


def stale_reasons(*, record: PlanRecord, project: ProjectRecord, assets: Sequence[AssetRecord],
                  product: str | None) -> list[StalePublic]:
    """What changed since `record` was made; empty when it still fits the project."""
    reasons: list[tuple[StaleWhat, str]] = []
    if record.fingerprint != fingerprint(project=project, assets=assets):
        reasons += _changes(was=record.made_for, now=basis(project=project, assets=assets))
    if product_key(record.plan) != product:
        reasons.append(("product", "the product shot changed" if product else "the product shot was removed"))
    return [StalePublic(what=what, detail=detail) for what, detail in reasons]


# ------------------------------------------------------------------ laying scenes on the beat grid


def cut_points(plan: ScenePlan) -> list[float]:
    """Beat times where a scene may end before the video does."""
    end = plan.output.duration
    return [b for b in plan.beats if _EPS < b < end - _EPS]


def _lay(*, plan: ScenePlan, scenes: Sequence[Scene], wanted: Sequence[int]) -> ScenePlan:
    """`scenes` with exactly `wanted` beats each (they add up to the grid's) laid on `plan`'s beat grid."""
    cuts = cut_points(plan)
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
            seconds = crossfade_seconds(beat_period=60.0 / plan.tempo, before=start - bounds[k - 1], after=end - start)
        laid.append(scene.model_copy(update={
            "index": k, "start": round(start, 6), "end": round(end, 6), "beats": wanted[k],
            "transition_in": transition, "transition_seconds": seconds,
        }))
    return plan.model_copy(update={"scenes": laid})


def relay(*, plan: ScenePlan, scenes: Sequence[Scene], edited: int | None = None) -> ScenePlan:
    """`scenes` (in their new order, with their wanted lengths in beats) laid on `plan`'s beat grid."""
    if not scenes:
        raise ConflictError("a storyboard needs at least one scene")
    slots = len(cut_points(plan)) + 1
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
    return _lay(plan=plan, scenes=scenes, wanted=wanted)


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


# ------------------------------------------------------------------ edits, kept by photo


def scene_keys(*, plan: ScenePlan, asset_ids: Sequence[str]) -> list[str]:
    """Each scene's key: its kind, its photo's asset id and which showing of that photo it is (a short
    video of few photos shows one photo more than once). The same key in another storyboard of the
    project is the same scene, wherever it stands."""
    seen: dict[str, int] = {}
    keys = []
    for s in plan.scenes:
        photo = asset_ids[s.photo_index] if s.photo_index < len(asset_ids) else f"#{s.photo_index}"
        base = f"{s.kind}:{photo}"
        keys.append(f"{base}:{seen.get(base, 0)}")
        seen[base] = seen.get(base, 0) + 1
    return keys


def _asset_of(key: str) -> str:
    return key.split(":")[1]


def _move_words(move: object) -> str:
    return str(getattr(move, "value", move)).replace("_", " ")


def _edit_words(edit: SceneEdit) -> list[tuple[str, str]]:
    """(field, words) of each thing the edit changed."""
    words = []
    if edit.beats is not None:
        words.append(("beats", _count(edit.beats, "beat")))
    if edit.move is not None:
        words.append(("move", f"camera: {_move_words(edit.move)}"))
    if edit.transition_in is not None:
        words.append(("transition_in", f"{edit.transition_in.value} in"))
    if edit.prompt is not None:
        words.append(("prompt", "new prompt"))
    return words


def _restyled_prompt(prompt: str, *, written_in: str, look: str) -> str:
    old = style_sentence(written_in)
    return prompt.removesuffix(old) + style_sentence(look) if written_in != look and prompt.endswith(old) else prompt


def _beats_note(*, before: ScenePlan, after: ScenePlan, edited: int) -> str:
    """What lengthening or shortening scene `edited` did to the others (the total stays fixed)."""
    others = [(k, a.beats, b.beats) for k, (a, b) in enumerate(zip(before.scenes, after.scenes, strict=True))
              if k != edited and a.beats != b.beats]
    if not others:
        return ""
    grew = after.scenes[edited].beats > before.scenes[edited].beats
    parts = [f"scene {k + 1} {'gave' if grew else 'took'} {_count(abs(was - now), 'beat')} ({was} → {now})"
             for k, was, now in others]
    return f"; {', '.join(parts)}, so the video stays {after.output.duration:g} s"


def edit_record(*, record: PlanRecord, index: int, update: SceneUpdate, look: str) -> PlanRecord:
    """`record` with scene `index` changed, the edit remembered by photo, and a note of what it did."""
    plan = restyle_plan(record.plan, look=look)  # a prompt is written in the look the user sees
    edited = edit_scene(plan=plan, index=index, update=update)
    before, after = plan.scenes[index], edited.scenes[index]
    changes = update.model_dump(exclude_unset=True, exclude_none=True)
    key = scene_keys(plan=plan, asset_ids=record.asset_ids)[index]
    edit = record.edits.get(key, SceneEdit(photo=before.photo, look=look))
    edit = edit.model_copy(update={**changes, "look": look})
    words = []
    if "beats" in changes and after.beats != before.beats:
        words.append(f"{before.beats} → {after.beats} beats")
    if "move" in changes and after.move != before.move:
        words.append(f"camera: {_move_words(after.move)}")
    if "transition_in" in changes and after.transition_in != before.transition_in:
        words.append(f"{after.transition_in.value} in")
    if "prompt" in changes and after.prompt != before.prompt:
        words.append("new prompt")
    note = f"scene {index + 1}: {', '.join(words) or 'no change'}"
    if "beats" in changes:
        note += _beats_note(before=plan, after=edited, edited=index)
    return record.model_copy(update={"plan": edited, "edits": {**record.edits, key: edit}, "note": note,
                                     "carried": []})


def reorder_record(*, record: PlanRecord, order: Sequence[int]) -> PlanRecord:
    """`record` with its scenes in `order`; each edit follows its scene."""
    plan = record.plan
    reordered = reorder_scenes(plan=plan, order=order)
    old_keys = scene_keys(plan=plan, asset_ids=record.asset_ids)
    new_keys = scene_keys(plan=reordered, asset_ids=record.asset_ids)
    edits = {new_keys[j]: record.edits[old_keys[i]] for j, i in enumerate(order) if old_keys[i] in record.edits}
    moved = [j for j, i in enumerate(order) if i != j]
    note = f"scenes {moved[0] + 1} and {moved[1] + 1} swapped" if len(moved) == 2 else "scenes reordered"
    return record.model_copy(update={"plan": reordered, "edits": edits, "scenes_reordered": True, "note": note,
                                     "carried": []})


@dataclass
class _Fit:
    wanted: list[int]
    lost: list[int]
    """Scenes whose carried length did not fit (they keep the new storyboard's)."""


def _fit_beats(*, planned: Sequence[int], asked: dict[int, int], slots: int) -> _Fit:
    """Lengths in beats for the scenes: `asked` ones (carried edits) as asked, the others as planned but
    taking up the difference, from the last scene back, each keeping at least one beat. Carried lengths
    that leave no room are dropped, the longest first."""
    asked = dict(asked)
    lost: list[int] = []
    while True:
        wanted = [asked.get(k, n) for k, n in enumerate(planned)]
        free = [k for k in range(len(planned)) if k not in asked]
        diff = slots - sum(wanted)
        for k in reversed(free):
            if diff == 0:
                break
            step = diff if diff > 0 else max(diff, 1 - wanted[k])
            wanted[k] += step
            diff -= step
        if diff == 0:
            return _Fit(wanted=wanted, lost=sorted(lost))
        drop = max(asked, key=lambda k: (asked[k] if diff < 0 else -asked[k], k))
        del asked[drop]
        lost.append(drop)


def carry_over(*, previous: PlanRecord | None, record: PlanRecord, live_assets: set[str],
               why: Sequence[str] = ()) -> PlanRecord:
    """`record` (a new storyboard) with every edit of `previous` that still applies taken over by photo —
    transition, length in beats, camera move, prompt — and a list of each edit, kept or not and why."""
    made = "new storyboard" if previous is not None else "storyboard made"
    note = f"{made} ({'; '.join(why)})" if why else made
    if previous is None or (not previous.edits and not previous.scenes_reordered):
        return record.model_copy(update={"note": note})
    plan = record.plan
    keys = scene_keys(plan=plan, asset_ids=record.asset_ids)
    where = {key: k for k, key in enumerate(keys)}
    scenes = list(plan.scenes)
    carried: list[CarriedEdit] = []
    kept_edits: dict[str, SceneEdit] = {}
    asked: dict[int, int] = {}
    for key, edit in previous.edits.items():
        k = where.get(key)
        if k is None:
            reason = ("the photo was removed" if _asset_of(key) not in live_assets
                      else "its photo is not in the new storyboard (a near-duplicate, or no room at this length)")
            carried += [CarriedEdit(photo=edit.photo, what=w, kept=False, reason=reason) for _, w in _edit_words(edit)]
            continue
        kept = edit.model_copy(update={"beats": None})
        changes: dict[str, object] = {}
        for field, words in _edit_words(edit):
            if field == "beats":
                assert edit.beats is not None
                asked[k] = edit.beats  # kept or not once every carried length is fitted
                continue
            if field == "transition_in" and k == 0 and edit.transition_in == Transition.crossfade:
                carried.append(CarriedEdit(photo=edit.photo, what=words, kept=False,
                                           reason="its scene now opens the video, which always begins with a cut"))
                kept = kept.model_copy(update={"transition_in": None})
                continue
            if field == "prompt":
                assert edit.prompt is not None
                changes["prompt"] = _restyled_prompt(edit.prompt, written_in=edit.look, look=plan.look)
                kept = kept.model_copy(update={"prompt": changes["prompt"], "look": plan.look})
            else:
                changes[field] = getattr(edit, field)
            carried.append(CarriedEdit(photo=edit.photo, what=words, kept=True))
        scenes[k] = scenes[k].model_copy(update=changes)
        kept_edits[keys[k]] = kept
    slots = len(cut_points(plan)) + 1
    fit = _fit_beats(planned=[s.beats for s in plan.scenes], asked=asked, slots=slots)
    for k, n in sorted(asked.items()):
        photo = scenes[k].photo
        if k in fit.lost:
            carried.append(CarriedEdit(photo=photo, what=_count(n, "beat"), kept=False,
                                       reason=f"no room at this length: the video is {_count(slots, 'beat')} "
                                              "and every other scene needs at least one"))
        else:
            carried.append(CarriedEdit(photo=photo, what=_count(n, "beat"), kept=True))
            kept_edits[keys[k]] = kept_edits[keys[k]].model_copy(update={"beats": n})
    if previous.scenes_reordered:
        carried.append(CarriedEdit(photo=None, what="scene order", kept=False,
                                   reason="the scenes follow the photos' order again (set it in step 1)"))
    laid = _lay(plan=plan, scenes=scenes, wanted=fit.wanted)
    kept_count = sum(1 for c in carried if c.kept)
    note += f"; {kept_count} of {len(carried)} edits kept"
    return record.model_copy(update={"plan": laid, "edits": kept_edits, "carried": carried, "note": note})


# ------------------------------------------------------------------ what the page sees


def prompt_readers(clip_provider: str) -> list[str]:
    """The video models of the server's clip provider chain, which animate scenes from their prompts (the
    local renderer moves the camera and never reads them)."""
    names: list[str] = []
    for link in parse_chain(clip_provider, aliases=ALIASES):
        if link.name == "local":
            continue
        model = link.model or DEFAULT_MODEL.get(link.name, "")
        name = _MODEL_NAMES.get(model, model or link.name)
        if name not in names:
            names.append(name)
    return names


def plan_public(*, record: PlanRecord, look: str, live_assets: set[str], history: PlanHistory | None = None,
                stale: Sequence[StalePublic] = (), readers: Sequence[str] = ()) -> PlanPublic:
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
    version = history.version if history else 1
    can_undo = history is not None and history.undo is not None
    can_redo = history is not None and history.redo is not None
    return PlanPublic(
        duration=plan.output.duration, tempo=plan.tempo, music_offset=plan.music_offset, beats=plan.beats,
        downbeats=plan.downbeats, waveform=WaveformPublic(**record.waveform.model_dump()), scenes=scenes,
        version=version, note=record.note or "storyboard made", can_undo=can_undo, can_redo=can_redo,
        undo=history.undo if can_undo and history else None, redo=history.redo if can_redo and history else None,
        current=not stale, stale=list(stale), carried=[CarriedPublic(**c.model_dump()) for c in record.carried],
        prompt_readers=list(readers),
    )


def export_stale(*, export: ExportRecord, record: PlanRecord | None, project: ProjectRecord,
                 assets: Sequence[AssetRecord], plan_stale: Sequence[StalePublic]) -> list[str]:
    """What changed since `export` was rendered (empty: it shows the project as it is now)."""
    if export.fingerprint is None or export.plan_digest is None or export.look is None:
        # Rendered before videos recorded what they show: only what the storyboard says can be told.
        if record is not None and record.updated_at > export.created_at:
            return ["the storyboard changed since it was rendered"]
        return [s.detail for s in plan_stale]
    reasons: list[str] = []
    if export.fingerprint != fingerprint(project=project, assets=assets):
        reasons += [detail for _, detail in _changes(was=export.made_for, now=basis(project=project, assets=assets))]
    if export.look != project.look:
        reasons.append(f"look: {export.look} → {project.look}")
    if record is None:
        reasons.append("its storyboard is gone")
    elif plan_digest(restyle_plan(record.plan, look=export.look)) != export.plan_digest:
        reasons.append("the storyboard changed since it was rendered")
    return list(dict.fromkeys(reasons))
