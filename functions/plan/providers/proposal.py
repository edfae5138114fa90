"""What a model planner may propose, and how our code turns a proposal into a ScenePlan.

A model proposes the story: which photos, in which order, the camera move, cut or crossfade, how long a
moment should feel (short, normal, long) and the animation prompt. It never gives a time. Our code keeps
what is valid, drops what is not (an unknown photo, the same photo twice in a row, more scenes than the
music has room for), then places every boundary on the beat grid with the same dynamic programme as the
local planner, and sets the crossfade lengths, the framing and the end on a downbeat itself."""

from __future__ import annotations

import json
import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.plan.beatgrid import BeatWindow, choose_window
from functions.plan.photos import capture_order, drop_near_duplicates
from functions.plan.planner import (
    MAX_SCENE_SECONDS,
    MIN_SCENE_SECONDS,
    min_scene_seconds,
    photo_scene,
    plan_on_window,
    scene_count,
    snap_to_beats,
    time_density,
)
from functions.plan.product import with_product
from functions.plan.prompts import style_sentence
from functions.plan.transitions import crossfade_seconds
from shared.errors import NoUsablePhotosError
from shared.models.media import MusicInfo, PhotoInfo
from shared.models.plan import CameraMove, DroppedPhoto, PlanRequest, Scene, ScenePlan, Transition
from shared.providers.errors import ProviderOutputError

EMPHASIS_WEIGHT = {"short": 0.7, "normal": 1.0, "long": 1.4}
MAX_PROMPT_CHARS = 400


class SceneIdea(BaseModel):
    """One scene as a model proposes it. No times: the beat grid decides those."""

    model_config = ConfigDict(extra="forbid")

    photo_id: str = Field(description="Id of the photo shown, exactly as listed (e.g. 'P3').")
    story_beat: str = Field(description="What this moment is in the story, in a few words.")
    move: CameraMove = Field(description="Camera move over the photo.")
    transition_in: Transition = Field(description="cut on energetic music or strong beats, crossfade when calm.")
    emphasis: Literal["short", "normal", "long"] = Field(description="How long the moment should feel.")
    animation_prompt: str = Field(
        description="One sentence for an image-to-video model: what moves in the photo and how the camera moves. "
        "No style words, no text, no times."
    )


class LeftOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    photo_id: str
    reason: str


class PlanProposal(BaseModel):
    """A model's whole proposal: a title, the scenes in story order, and the photos it chose not to use."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="A short title for the video.")
    scenes: list[SceneIdea] = Field(description="Scenes in the order they play.")
    left_out: list[LeftOut] = Field(description="Photos not used, each with a short reason.")


def photo_id(photo: PhotoInfo) -> str:
    return f"P{photo.source.index}"


class Candidates(BaseModel):
    """What a model chooses from: photos in capture order (near-duplicates already dropped), and how many
    scenes the music window takes (at least `least` so no scene drags, at most `most`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    photos: list[PhotoInfo]
    dropped: list[DroppedPhoto]
    window: BeatWindow
    least: int
    most: int


def candidate_photos(request: PlanRequest) -> Candidates:
    if not request.photos:
        raise NoUsablePhotosError([])
    window = choose_window(music=request.music, duration=request.output.duration)
    ordered = capture_order(list(request.photos), order=request.order)
    unique, dropped = drop_near_duplicates(ordered)
    most = max(1, scene_count(photos=10_000, duration=window.duration, beat_period=window.beat_period))
    least = 1 if len(unique) == 1 else min(most, max(1, math.ceil(window.duration / MAX_SCENE_SECONDS)))
    return Candidates(photos=unique, dropped=dropped, window=window, least=least, most=most)


def parse_proposal(text: str, *, provider: str) -> PlanProposal:
    """A proposal from a model's JSON answer; ProviderOutputError (saying what is wrong) when it is not one."""
    try:
        data = json.loads(_strip_fences(text))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ProviderOutputError(f"proposal is not valid JSON ({exc})", provider=provider) from None
    try:
        return PlanProposal.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ProviderOutputError(
            f"proposal does not match the schema ({exc.error_count()} problem(s); first at {where}: {first['msg']})",
            provider=provider,
        ) from None


def _strip_fences(text: str) -> str:
    t = text.strip()
    if t.startswith("```"):
        t = t.split("\n", 1)[1] if "\n" in t else ""
        t = t.rsplit("```", 1)[0]
    return t


def weighted_boundaries(*, music: MusicInfo, window: BeatWindow, weights: list[float]) -> list[float]:
    """Ideal cut times: each scene gets a share of the music's "time density" (denser where the energy is
    high, as in the local planner) in proportion to its weight."""
    t, cumulative = time_density(music=music, window=window)
    shares = np.cumsum(weights)[:-1] / sum(weights)
    return [float(np.interp(v * cumulative[-1], cumulative, t)) for v in shares]


def apply_proposal(*, request: PlanRequest, proposal: PlanProposal, provider: str) -> tuple[ScenePlan, list[str]]:
    """The ScenePlan of `proposal` on our beat grid, and notes on what was corrected. Raises
    ProviderOutputError when nothing usable is left."""
    cand = candidate_photos(request)
    unique, dropped, window, most = cand.photos, cand.dropped, cand.window, cand.most
    by_id = {photo_id(p): p for p in unique}
    notes: list[str] = []
    ideas: list[SceneIdea] = []
    for idea in proposal.scenes:
        if idea.photo_id not in by_id:
            notes.append(f"unknown photo {idea.photo_id!r} skipped")
            continue
        if ideas and ideas[-1].photo_id == idea.photo_id:
            notes.append(f"{idea.photo_id} twice in a row; kept once")
            continue
        ideas.append(idea)
    if not ideas:
        raise ProviderOutputError("proposal uses none of the photos given", provider=provider)
    if len(ideas) > most:
        notes.append(f"{len(ideas)} scenes proposed, the music has room for {most}; kept the first {most}")
        ideas = ideas[:most]
    if len(ideas) < cand.least and len(unique) > 1:
        notes.append(f"{len(ideas)} scene(s) proposed for {window.duration:.0f} s; repeated them to make {cand.least}")
        cycle = list(ideas)
        while len(ideas) < cand.least:
            nxt = cycle[len(ideas) % len(cycle)]
            if nxt.photo_id == ideas[-1].photo_id:
                # One distinct photo proposed: bring in the next unused one rather than repeat it back to back.
                spare = next(p for p in unique if photo_id(p) != ideas[-1].photo_id)
                nxt = nxt.model_copy(update={"photo_id": photo_id(spare)})
            ideas.append(nxt)

    min_len = min_scene_seconds(beat_period=window.beat_period)
    cuts: list[float] | None = []
    while len(ideas) > 1:
        weights = [EMPHASIS_WEIGHT[i.emphasis] for i in ideas]
        cuts = snap_to_beats(ideal=weighted_boundaries(music=request.music, window=window, weights=weights),
                             window=window, min_len=min_len)
        if cuts is not None:
            break
        notes.append(f"{len(ideas)} scenes do not fit on the beat grid; dropped the last one")
        ideas = ideas[:-1]
    bounds = [0.0, *(cuts or []), window.duration]

    output = request.output
    if window.duration != output.duration:
        output = output.model_copy(update={"duration": window.duration})
    scenes = [
        _scene(k=k, idea=idea, photo=by_id[idea.photo_id], bounds=bounds, request=request, window=window)
        for k, idea in enumerate(ideas)
    ]
    used = {i.photo_id for i in ideas}
    reasons = {lo.photo_id: lo.reason for lo in proposal.left_out}
    for p in unique:
        if photo_id(p) not in used:
            why = reasons.get(photo_id(p), "").strip()
            dropped.append(DroppedPhoto(photo=p.source.name,
                                        reason=f"the {provider} planner left it out" + (f": {why}" if why else "")))
    # The model never sees the product: its shot takes its beats from the proposed scenes, as in the local plan.
    scenes, dropped = with_product(scenes=scenes, dropped=dropped, photos=unique, request=request, window=window,
                                   min_len=min_len)
    plan = plan_on_window(window=window, output=output, look=request.look, scenes=scenes, dropped=dropped,
                          provider=provider)
    return plan, notes


def _scene(*, k: int, idea: SceneIdea, photo: PhotoInfo, bounds: list[float], request: PlanRequest,
           window: BeatWindow) -> Scene:
    start, end = bounds[k], bounds[k + 1]
    transition, seconds = Transition.cut, 0.0
    if k > 0 and idea.transition_in == Transition.crossfade:
        # The model chooses the kind; the length is ours, as for every crossfade.
        transition = Transition.crossfade
        seconds = crossfade_seconds(beat_period=window.beat_period, before=start - bounds[k - 1], after=end - start)
    motion = " ".join(idea.animation_prompt.split())[:MAX_PROMPT_CHARS].rstrip(". ")
    return photo_scene(index=k, photo=photo, start=start, end=end, window=window, output=request.output,
                       move=idea.move, transition_in=transition, transition_seconds=seconds,
                       prompt=f"{motion}. {style_sentence(request.look)}")


def describe_request(*, request: PlanRequest, candidates: Candidates) -> str:
    """The planner's instructions: the photos (by id), the music and the rules. Times are ours, never asked."""
    out = request.output
    photos, window = candidates.photos, candidates.window
    lines = [
        f"You are the editor of a {window.duration:.0f}-second {out.aspect} video made from a person's photos, cut "
        f"to music at {60.0 / window.beat_period:.0f} BPM. Each photo becomes a scene that an image-to-video model "
        "animates. Propose the story: which photos, in which order, a camera move, the transition into each scene, "
        "how long each moment should feel, and one animation prompt per scene.",
        f"Use between {candidates.least} and {candidates.most} scenes; a photo may come back later, never twice in "
        "a row. Do not give times: cuts are placed on the beat by our code.",
        "Camera moves: " + ", ".join(m.value for m in CameraMove) + ". Transitions: cut (energetic music, strong "
        "beats) or crossfade (calm music).",
        "",
        "PHOTOS (the thumbnails follow in the same order):",
    ]
    for p in photos:
        when = p.captured_at.isoformat(timespec="minutes") if p.captured_at else "unknown time"
        shape = "landscape" if p.width > p.height * 1.1 else "portrait" if p.height > p.width * 1.1 else "square"
        lines.append(
            f"- {photo_id(p)}: {p.source.name}, {when}, {shape} {p.width}x{p.height}, "
            f"{len(p.faces)} face(s), subject at x={p.subject.cx:.2f} y={p.subject.cy:.2f} ({p.subject_kind})"
        )
    music = request.music
    lines += ["", f"MUSIC: {music.duration:.0f} s, {music.tempo:.0f} BPM. Sections of the part used:"]
    for s in music.sections:
        a, b = max(s.start - window.offset, 0.0), min(s.end - window.offset, window.duration)
        if b > a:
            lines.append(f"- {a:.1f}-{b:.1f} s: {s.kind} (energy {s.energy:.2f})")
    if request.brief.strip():
        lines += ["", f"BRIEF FROM THE USER: {request.brief.strip()}"]
    lines += ["", "Answer with JSON only, matching the schema."]
    return "\n".join(lines)


def estimate_tokens(*, photos: int, most: int) -> tuple[int, int]:
    """(input, output) tokens of one planning call: the instructions, a thumbnail per photo, the answer."""
    return 900 + 90 * photos + 260 * photos, 250 + 120 * min(most, max(photos, 1))


def most_scenes_hint(*, duration: float) -> int:
    """An upper bound on scenes without a beat grid (for estimates before the music is known)."""
    return max(1, math.floor(duration / MIN_SCENE_SECONDS))
