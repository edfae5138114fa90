"""The product shot: one scene of the plan shows the product turntable over a softened photo.

Where it goes (what an editor of a product video does): on the downbeat where the music's most
energetic section begins — the drop, the moment of most attention, and a turning product is the most
kinetic shot of the video — when the music has one inside the video; otherwise last, so the product is
what the viewer is left with (the packshot that ends an ad). `placement` can force first, last or drop.

How long: a whole number of beats close to one full turn at the turntable's own speed, so the turn
neither rushes nor crawls; a length of whole bars instead when one is within BAR_TOLERANCE of the turn
(the shot then ends on a downbeat too); never under PRODUCT_MIN_SECONDS (a turn faster than that reads
as a spin, not a look), never over PRODUCT_MAX_SECONDS (a longer turntable turns faster to fit: the
clip renderer always shows exactly one turn over the scene).

The photo scenes of either planner are laid out first; the product slot then takes its beats: scenes
inside it leave, scenes across its edges are trimmed, and a trimmed piece too short to be a scene joins
its neighbour. Every boundary therefore stays a beat, and the slot's edges are beats by construction."""

from __future__ import annotations

import math

from functions.plan.beatgrid import BeatWindow, beats_in
from functions.plan.prompts import style_sentence
from functions.plan.transitions import crossfade_seconds, transition_at
from shared.models.base import Box, OutputSpec
from shared.models.media import MusicInfo, PhotoInfo
from shared.models.plan import CameraMove, DroppedPhoto, Framing, PlanRequest, ProductInput, Scene, Transition

PRODUCT_MIN_SECONDS = 2.0
PRODUCT_MAX_SECONDS = 8.0
BAR_TOLERANCE = 0.15
"""A whole-bar length within this share of the turn's own length wins over the closest whole beat."""
BEATS_PER_BAR = 4
PRODUCT_SIZE = 0.7
"""The turntable fits this share of the frame's short side (the focus box of a product scene)."""

_EPS = 1e-6
_MOVE_WORDS = {
    CameraMove.push_in: "a gentle camera push-in",
    CameraMove.pull_out: "a gentle camera pull-back",
}


def product_beats(*, turn: float, beat_period: float, duration: float) -> int:
    """Length of the product shot in beats: close to `turn` seconds, within the limits above and the video."""
    least = max(1, math.ceil(PRODUCT_MIN_SECONDS / beat_period - _EPS))
    most = max(least, math.floor(min(PRODUCT_MAX_SECONDS, duration) / beat_period + _EPS))
    ideal = turn / beat_period
    beats = min(most, max(least, round(ideal)))
    bars = BEATS_PER_BAR * max(1, round(ideal / BEATS_PER_BAR))
    if least <= bars <= most and abs(bars - ideal) <= BAR_TOLERANCE * ideal:
        beats = bars
    return beats


def drop_time(*, music: MusicInfo, window: BeatWindow) -> float | None:
    """Where the most energetic section begins on the video timeline, when it begins inside the video
    (a section already playing at the first frame is no drop)."""
    best: tuple[float, float] | None = None
    for s in music.sections:
        t = s.start - window.offset
        if s.kind == "energetic" and _EPS < t < window.duration - _EPS and (best is None or s.energy > best[1]):
            best = (t, s.energy)
    return best[0] if best else None


def product_slot(
    *, music: MusicInfo, window: BeatWindow, beats: int, placement: str, min_len: float
) -> tuple[float, float]:
    """Start and end (beats on the video timeline) of the product shot, `beats` beats long where it fits.

    The photo time left before and after it is either none or at least `min_len` (a whole scene)."""
    grid = [0.0, *(b for b in window.beats if b > _EPS)]
    downs = set(window.downbeats)
    for n in [beats, *range(beats - 1, 0, -1)]:
        slots = [
            (grid[i], grid[i + n]) for i in range(len(grid) - n)
            if _room(grid[i], min_len) and _room(window.duration - grid[i + n], min_len)
        ]
        if not slots:
            continue
        drop = drop_time(music=music, window=window)
        if placement == "start":
            return slots[0]
        if placement == "end" or (placement == "auto" and drop is None):
            return slots[-1]
        if drop is None:  # asked for the drop of music that has none: its loudest stretch
            return max(slots, key=lambda s: _mean_energy(music=music, window=window, start=s[0], end=s[1]))
        # The first downbeat at or after the drop; else the slot nearest to it (downbeats preferred).
        after = [s for s in slots if s[0] >= drop - _EPS and s[0] in downs]
        if after and after[0][0] - drop < BEATS_PER_BAR * window.beat_period:
            return after[0]
        return min(slots, key=lambda s: abs(s[0] - drop) / window.beat_period + (0 if s[0] in downs else 2))
    return 0.0, window.duration


def _room(seconds: float, min_len: float) -> bool:
    return seconds <= _EPS or seconds >= min_len - _EPS


def _mean_energy(*, music: MusicInfo, window: BeatWindow, start: float, end: float) -> float:
    steps = max(2, int((end - start) / 0.1))
    return sum(music.energy_at(window.offset + start + (end - start) * k / steps) for k in range(steps)) / steps


def choose_background(*, photos: list[PhotoInfo], avoid: set[str], shown: set[str]) -> PhotoInfo:
    """The photo behind the product: never the photo of a neighbouring scene when another will do (the
    cut into the product shot must change the picture); one without faces (a face behind the product
    fights it for the eye, or is covered by it); one not `shown` in another scene, so a photo the
    product shot pushed out still appears; and the least busy (lowest Laplacian variance: the product
    is what should read as detail)."""
    pool = [p for p in photos if p.image_key not in avoid] or photos
    return min(pool, key=lambda p: (len(p.faces) > 0, p.image_key in shown, p.sharpness, p.source.index))


def product_focus(*, output: OutputSpec) -> Box:
    """Where the turntable stands in the frame (normalised): a centred square of PRODUCT_SIZE of the short side."""
    side = PRODUCT_SIZE * min(output.width, output.height)
    w, h = side / output.width, side / output.height
    return Box(x=(1 - w) / 2, y=(1 - h) / 2, w=w, h=h)


def product_prompt(*, move: CameraMove, look: str) -> str:
    camera = _MOVE_WORDS.get(move, "a static camera")
    return (f"Turntable product shot: the product turns one full revolution in place, {camera}, soft studio "
            f"light, a softly blurred background. {style_sentence(look)}")


def with_product(
    *,
    scenes: list[Scene],
    dropped: list[DroppedPhoto],
    photos: list[PhotoInfo],
    request: PlanRequest,
    window: BeatWindow,
    min_len: float,
) -> tuple[list[Scene], list[DroppedPhoto]]:
    """`scenes` (photo scenes covering the window, boundaries on beats) with the product shot placed in
    them, and the photos that lost their only scene to it added to `dropped`. Without a product: as given."""
    product = request.product
    if product is None:
        return scenes, dropped
    beats = product_beats(turn=product.duration, beat_period=window.beat_period, duration=window.duration)
    start, end = product_slot(music=request.music, window=window, beats=beats, placement=product.placement,
                              min_len=min_len)
    before, after = _outside(scenes=scenes, start=start, end=end, min_len=min_len)
    neighbours = {s.image_key for s in (before[-1:] + after[:1])}
    shown = {s.image_key for s in [*before, *after]}
    background = product.background or choose_background(photos=photos, avoid=neighbours, shown=shown)
    moves = {s.move for s in (before[-1:] + after[:1])}
    move = next(m for m in (CameraMove.push_in, CameraMove.drift, CameraMove.pull_out) if m not in moves)
    shot = _product_scene(product=product, background=background, start=start, end=end, move=move,
                          request=request)
    laid = _retimed(scenes=[*before, shot, *after], request=request, window=window, product_at=len(before))
    kept = {s.photo for s in laid}
    lost = [DroppedPhoto(photo=s.photo, reason="its scene went to the product shot")
            for s in scenes if s.photo not in kept]
    return laid, dropped + list({d.photo: d for d in lost}.values())


def _outside(*, scenes: list[Scene], start: float, end: float, min_len: float) -> tuple[list[Scene], list[Scene]]:
    """The photo scenes before `start` and after `end`, trimmed to them; a trimmed piece shorter than
    `min_len` is given to its neighbour away from the slot."""
    before: list[Scene] = []
    after: list[Scene] = []
    for s in scenes:
        if s.start < start - _EPS:
            before.append(s.model_copy(update={"end": min(s.end, start)}))
        if s.end > end + _EPS:
            after.append(s.model_copy(update={"start": max(s.start, end)}))
    if len(before) > 1 and before[-1].duration < min_len - _EPS:
        last = before.pop()
        before[-1] = before[-1].model_copy(update={"end": last.end})
    if len(after) > 1 and after[0].duration < min_len - _EPS:
        first = after.pop(0)
        after[0] = after[0].model_copy(update={"start": first.start})
    return before, after


def _product_scene(
    *, product: ProductInput, background: PhotoInfo, start: float, end: float, move: CameraMove, request: PlanRequest
) -> Scene:
    return Scene(
        index=0,
        kind="product",
        product_key=product.key,
        photo=background.source.name,
        photo_index=background.source.index,
        image_key=background.image_key,
        start=start,
        end=end,
        beats=1,
        move=move,
        focus=product_focus(output=request.output),
        framing=Framing.cover,
        prompt=product_prompt(move=move, look=request.look),
    )


def _retimed(*, scenes: list[Scene], request: PlanRequest, window: BeatWindow, product_at: int) -> list[Scene]:
    """Indices, lengths in beats and crossfade lengths of the new sequence. The cuts into and out of the
    product shot follow the music (a hard cut on a strong beat or energetic music, else a crossfade);
    the other scenes keep their planner's choice, with crossfade lengths refitted to their neighbours."""
    out: list[Scene] = []
    for k, s in enumerate(scenes):
        transition, seconds = Transition.cut, 0.0
        if k > 0:
            prev = scenes[k - 1].duration
            if k in (product_at, product_at + 1):
                transition, seconds = transition_at(boundary=s.start, music=request.music, window=window,
                                                    before=prev, after=s.duration)
            elif s.transition_in == Transition.crossfade:
                transition = Transition.crossfade
                seconds = crossfade_seconds(beat_period=window.beat_period, before=prev, after=s.duration)
        beats = beats_in(window=window, start=s.start, end=s.end)
        out.append(s.model_copy(update={"index": k, "beats": beats, "transition_in": transition,
                                        "transition_seconds": seconds}))
    return out
