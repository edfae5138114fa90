"""The beat-grid planner: photos + music → scenes whose every boundary is a beat.

Rules (DESIGN.md, "what makes the video good"): capture-time order, near-duplicates dropped keeping the
sharpest, boundaries on beats with downbeats preferred, shorter scenes where the music is energetic,
camera moves chosen from the subject, hard cuts on strong beats and crossfades in calm parts, the end on
a downbeat with the music faded. With a product, one scene is the product shot (see product.py)."""

from __future__ import annotations

import math

import numpy as np

from functions.plan.beatgrid import BeatWindow, beats_in, choose_window
from functions.plan.camera import choose_framing, choose_move, focus_box, heads
from functions.plan.photos import capture_order, drop_near_duplicates, pick_best, sequence_for_slots
from functions.plan.product import with_product
from functions.plan.prompts import scene_prompt
from functions.plan.transitions import transition_at
from shared.errors import NoUsablePhotosError
from shared.models.base import OutputSpec
from shared.models.media import MusicInfo, PhotoInfo
from shared.models.plan import CameraMove, DroppedPhoto, PlanRequest, Scene, ScenePlan, Transition

MIN_SCENE_SECONDS = 1.5
MAX_SCENE_SECONDS = 6.0
DOWNBEAT_PREFERENCE = 2.25
"""Cost, in beats of distance from a boundary's ideal time, of choosing a plain beat over a downbeat."""


def min_scene_seconds(*, beat_period: float) -> float:
    """The shortest a photo scene may be: two beats, and never under MIN_SCENE_SECONDS."""
    return max(2 * beat_period, MIN_SCENE_SECONDS)


def scene_count(*, photos: int, duration: float, beat_period: float) -> int:
    if photos <= 1:
        return 1
    most = max(1, math.floor(duration / min_scene_seconds(beat_period=beat_period)))
    least = max(1, math.ceil(duration / MAX_SCENE_SECONDS))
    return max(1, min(most, max(least, photos)))


def time_density(*, music: MusicInfo, window: BeatWindow) -> tuple[np.ndarray, np.ndarray]:
    """The music's "time density" over the window, denser where its energy is high, as (times every 50 ms,
    the density accumulated up to each): cuts placed at equal steps of it come quicker in energetic parts."""
    step = 0.05
    t = np.arange(0.0, window.duration + step, step)
    density = np.array([0.6 + music.energy_at(x + window.offset) for x in t])
    return t, np.concatenate([[0.0], np.cumsum(density[:-1] * step)])


def ideal_boundaries(*, music: MusicInfo, window: BeatWindow, scenes: int) -> list[float]:
    """Where cuts would fall if beats were everywhere: denser where the music's energy is high."""
    t, cumulative = time_density(music=music, window=window)
    targets = np.linspace(0.0, cumulative[-1], scenes + 1)[1:-1]
    return [float(np.interp(v, cumulative, t)) for v in targets]


def snap_to_beats(*, ideal: list[float], window: BeatWindow, min_len: float) -> list[float] | None:
    """Choose one beat per ideal boundary (dynamic programming): close to the ideal, downbeats preferred,
    every scene at least `min_len` long. None when no such choice exists."""
    if not ideal:
        return []
    downs = set(window.downbeats)
    cands = [b for b in window.beats if min_len - 1e-6 <= b <= window.duration - min_len + 1e-6]
    if len(cands) < len(ideal):
        return None
    period = window.beat_period
    inf = float("inf")
    cost = [[inf] * len(cands) for _ in ideal]
    back = [[-1] * len(cands) for _ in ideal]
    for k, target in enumerate(ideal):
        for j, b in enumerate(cands):
            local = abs(b - target) / period + (0.0 if b in downs else DOWNBEAT_PREFERENCE)
            if k == 0:
                cost[k][j] = local
                continue
            best, arg = inf, -1
            for i in range(j):
                if b - cands[i] >= min_len - 1e-6 and cost[k - 1][i] < best:
                    best, arg = cost[k - 1][i], i
            if arg >= 0:
                cost[k][j], back[k][j] = best + local, arg
    last = min(range(len(cands)), key=lambda j: cost[-1][j])
    if cost[-1][last] == inf:
        return None
    chosen = [last]
    for k in range(len(ideal) - 1, 0, -1):
        chosen.append(back[k][chosen[-1]])
    return [cands[j] for j in reversed(chosen)]


def plan_locally(*, request: PlanRequest) -> ScenePlan:
    if not request.photos:
        raise NoUsablePhotosError([])
    output = request.output
    window = choose_window(music=request.music, duration=output.duration)
    if window.duration != output.duration:
        output = output.model_copy(update={"duration": window.duration})

    ordered = capture_order(list(request.photos), order=request.order)
    unique, dropped = drop_near_duplicates(ordered)
    count = scene_count(photos=len(unique), duration=window.duration, beat_period=window.beat_period)
    min_len = min_scene_seconds(beat_period=window.beat_period)
    cuts: list[float] | None = None
    while count > 1:
        cuts = snap_to_beats(
            ideal=ideal_boundaries(music=request.music, window=window, scenes=count),
            window=window,
            min_len=min_len,
        )
        if cuts is not None:
            break
        count -= 1
    cuts = cuts if count > 1 and cuts is not None else []
    count = len(cuts) + 1

    chosen, not_chosen = pick_best(unique, count=count)
    dropped.extend(not_chosen)
    sequence = sequence_for_slots(chosen, slots=count)
    bounds = [0.0, *cuts, window.duration]
    scenes = _scenes(sequence=sequence, bounds=bounds, request=request, window=window)
    scenes, dropped = with_product(scenes=scenes, dropped=dropped, photos=unique, request=request, window=window,
                                   min_len=min_len)
    return plan_on_window(window=window, output=output, look=request.look, scenes=scenes, dropped=dropped)


def plan_on_window(
    *,
    window: BeatWindow,
    output: OutputSpec,
    look: str,
    scenes: list[Scene],
    dropped: list[DroppedPhoto],
    provider: str = "local",
) -> ScenePlan:
    """The plan around `scenes`, whoever chose them: the beat grid, and a music fade of about two beats."""
    fade = min(max(2 * window.beat_period, 1.5), 3.0, window.duration / 4)
    return ScenePlan(
        output=output,
        look=look,
        tempo=round(60.0 / window.beat_period, 3),
        music_offset=window.offset,
        fade_out=round(fade, 4),
        beats=window.beats,
        downbeats=window.downbeats,
        scenes=scenes,
        dropped=dropped,
        provider=provider,
    )


def _scenes(
    *,
    sequence: list[PhotoInfo],
    bounds: list[float],
    request: PlanRequest,
    window: BeatWindow,
) -> list[Scene]:
    scenes: list[Scene] = []
    previous: CameraMove | None = None
    for k, photo in enumerate(sequence):
        start, end = bounds[k], bounds[k + 1]
        move = choose_move(photo=photo, output=request.output, previous=previous, index=k)
        transition, seconds = Transition.cut, 0.0
        if k > 0:
            transition, seconds = transition_at(boundary=start, music=request.music, window=window,
                                                before=start - bounds[k - 1], after=end - start)
        scenes.append(photo_scene(index=k, photo=photo, start=start, end=end, window=window, output=request.output,
                                  move=move, transition_in=transition, transition_seconds=seconds,
                                  prompt=scene_prompt(photo=photo, move=move, look=request.look)))
        previous = move
    return scenes


def photo_scene(*, index: int, photo: PhotoInfo, start: float, end: float, window: BeatWindow, output: OutputSpec,
                move: CameraMove, transition_in: Transition, transition_seconds: float, prompt: str) -> Scene:
    """`photo` on screen from `start` to `end` (beats of `window`), whoever planned it: what the camera
    keeps in frame (the subject, the faces' heads) and the framing come from the photo itself."""
    return Scene(
        index=index,
        photo=photo.source.name,
        photo_index=photo.source.index,
        image_key=photo.image_key,
        start=start,
        end=end,
        beats=beats_in(window=window, start=start, end=end),
        move=move,
        focus=focus_box(photo=photo),
        faces=heads(photo=photo),
        framing=choose_framing(photo=photo, output=output),
        transition_in=transition_in,
        transition_seconds=transition_seconds,
        prompt=prompt,
    )


__all__ = ["plan_locally"]
