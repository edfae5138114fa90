"""Camera paths on their own: easing, moves that go where they say, and views that never leave the
canvas nor lose the subject, over many random photo shapes, subjects and clip lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functions.clips.camera import (
    CUT_MARGIN,
    DRIFT_ZOOM_SHARE,
    MAX_ZOOM,
    MIN_PUSH_ZOOM,
    CameraPath,
    Rect,
    View,
    check_inside,
    pan_travel_views,
    plan_path,
    push_zoom,
    smootherstep,
    widest_view_size,
)
from functions.clips.framing import CanvasLayout, layout_canvas
from shared.errors import StageError
from shared.models.base import Box
from shared.models.plan import CameraMove, Framing

ASPECTS = (9 / 16, 16 / 9, 1.0)


def test_smootherstep_eases_in_and_out_monotonically() -> None:
    u = np.linspace(0, 1, 1001)
    e = np.array([smootherstep(float(x)) for x in u])
    assert e[0] == 0.0 and e[-1] == 1.0
    assert np.all(np.diff(e) > 0)
    assert smootherstep(0.01) < 1e-4 and 1 - smootherstep(0.99) < 1e-4  # starts and ends gently
    assert np.allclose(e + e[::-1], 1.0)


def _random_case(rng: np.random.Generator) -> tuple[float, float, Rect, float, float]:
    cw = float(rng.uniform(200, 4000))
    ch = cw / float(rng.choice([3.0, 2.33, 1.5, 1.0, 0.75, 0.5, 0.33]))
    aspect = float(rng.choice(ASPECTS))
    w0, h0 = widest_view_size(canvas_w=cw, canvas_h=ch, aspect=aspect)
    # Subjects that fit comfortably in the widest view, anywhere on the canvas (edges included).
    fw, fh = float(rng.uniform(0.05, 0.5)) * w0, float(rng.uniform(0.05, 0.5)) * h0
    fx, fy = float(rng.uniform(0, cw - fw)), float(rng.uniform(0, ch - fh))
    return cw, ch, Rect(x=fx, y=fy, w=fw, h=fh), aspect, float(rng.uniform(0.3, 12.0))


def _inside(view: View, cw: float, ch: float) -> bool:
    r = view.rect
    tol = 1e-6 * max(cw, ch)
    return r.x >= -tol and r.y >= -tol and r.right <= cw + tol and r.bottom <= ch + tol


def _holds(view: View, box: Rect) -> bool:
    r = view.rect
    tol = 1e-6 * max(r.w, r.h)
    return r.x <= box.x + tol and r.y <= box.y + tol and r.right >= box.right - tol and r.bottom >= box.bottom - tol


@pytest.mark.parametrize("move", list(CameraMove))
def test_views_stay_inside_the_canvas_and_keep_the_subject(move: CameraMove) -> None:
    rng = np.random.default_rng(sum(map(ord, move.value)))
    for _ in range(300):
        cw, ch, focus, aspect, duration = _random_case(rng)
        path = plan_path(move=move, canvas_w=cw, canvas_h=ch, focus=focus, aspect=aspect, duration=duration)
        views = path.views(frames=48)
        assert all(_inside(v, cw, ch) for v in views), (move, cw, ch, focus, aspect, duration)
        if move in (CameraMove.push_in, CameraMove.pull_out, CameraMove.drift):
            assert all(_holds(v, focus) for v in views), (move, cw, ch, focus, aspect, duration)
        else:
            # In full view somewhere along the pan (the travel passes a centre that frames it) and
            # mid-pan unless the pan is pressed against the canvas edge.
            horizontal = move in (CameraMove.pan_left, CameraMove.pan_right)
            centre, size, lo, hi, extent = (
                ("cx", views[0].w, "x", "right", cw) if horizontal else ("cy", views[0].h, "y", "bottom", ch)
            )
            centres = [getattr(v, centre) for v in views]
            tol = 1e-6 * extent
            assert min(centres) <= getattr(focus, lo) + size / 2 + tol, (move, cw, ch, focus, aspect, duration)
            assert max(centres) >= getattr(focus, hi) - size / 2 - tol, (move, cw, ch, focus, aspect, duration)
            across = ("y", "bottom") if horizontal else ("x", "right")
            for v in views:
                assert getattr(v.rect, across[0]) <= getattr(focus, across[0]) + tol
                assert getattr(v.rect, across[1]) >= getattr(focus, across[1]) - tol
            r0, r1 = views[0].rect, views[-1].rect
            pressed = min(getattr(r0, lo), getattr(r1, lo)) < tol or (
                max(getattr(r0, hi), getattr(r1, hi)) > extent - tol
            )
            if not pressed:
                assert _holds(views[len(views) // 2], focus), (move, cw, ch, focus, aspect, duration)
        # Every edge moves one way only: no wobble, no reversal.
        for edge in ("x", "y", "right", "bottom"):
            d = np.diff([getattr(v.rect, edge) for v in views])
            assert np.all(d >= -1e-9) or np.all(d <= 1e-9), (move, edge)


@pytest.mark.parametrize("aspect", ASPECTS)
def test_moves_go_where_they_say(aspect: float) -> None:
    cw, ch = 1600.0, 1200.0
    focus = Rect(x=1000, y=300, w=200, h=200)

    def path(move: CameraMove) -> list[View]:
        p = plan_path(move=move, canvas_w=cw, canvas_h=ch, focus=focus, aspect=aspect, duration=5.0)
        return p.views(frames=30)

    push = path(CameraMove.push_in)
    assert push[-1].w < push[0].w / 1.15
    assert math.dist((push[-1].cx, push[-1].cy), (focus.cx, focus.cy)) < math.dist(
        (push[0].cx, push[0].cy), (focus.cx, focus.cy)
    )
    pull = path(CameraMove.pull_out)
    assert pull[-1].w > pull[0].w * 1.15
    for move, attr, sign in [
        (CameraMove.pan_right, "cx", 1),
        (CameraMove.pan_left, "cx", -1),
        (CameraMove.pan_down, "cy", 1),
        (CameraMove.pan_up, "cy", -1),
    ]:
        values = np.array([getattr(v, attr) for v in path(move)])
        assert np.all(sign * np.diff(values) >= 0) and sign * (values[-1] - values[0]) > 10, move
    drift = path(CameraMove.drift)
    assert 1.03 < drift[0].w / drift[-1].w < push[0].w / push[-1].w


def test_zoom_grows_with_clip_length_within_limits() -> None:
    assert push_zoom(duration=6.0) == pytest.approx(1.2)
    assert 1.0 < push_zoom(duration=1.0) < push_zoom(duration=3.0) < push_zoom(duration=6.0)
    assert push_zoom(duration=60.0) == MAX_ZOOM


def test_a_pan_travels_along_a_panorama() -> None:
    """A 3:1 panorama into 16:9 over 6 s: the camera crosses the whole photo without zooming in."""
    cw, ch = 3000.0, 1000.0
    focus = Rect(x=1400, y=300, w=200, h=300)
    path = plan_path(move=CameraMove.pan_right, canvas_w=cw, canvas_h=ch, focus=focus, aspect=16 / 9, duration=6.0)
    assert path.start.w == pytest.approx(ch * 16 / 9)  # full height: no zoom
    assert path.start.rect.x == pytest.approx(0.0, abs=1e-6)
    assert path.end.rect.right == pytest.approx(cw)
    short = plan_path(move=CameraMove.pan_right, canvas_w=cw, canvas_h=ch, focus=focus, aspect=16 / 9, duration=1.5)
    assert 0 < short.end.cx - short.start.cx < path.end.cx - path.start.cx


def test_a_pan_with_no_room_zooms_in_to_make_some() -> None:
    path = plan_path(move=CameraMove.pan_left, canvas_w=1080, canvas_h=1920, focus=Rect(x=500, y=900, w=80, h=80),
                     aspect=9 / 16, duration=4.0)
    assert path.start.w < 1080 and path.start.w == path.end.w
    assert path.end.cx < path.start.cx


def test_check_inside_refuses_a_view_off_the_canvas() -> None:
    check_inside(view=View(cx=50, cy=50, w=100, aspect=1.0), canvas_w=100, canvas_h=100, frame=0)
    with pytest.raises(StageError, match="leaves"):
        check_inside(view=View(cx=50.5, cy=50, w=100, aspect=1.0), canvas_w=100, canvas_h=100, frame=3)
    bad = CameraPath(start=View(cx=50, cy=50, w=100, aspect=1.0), end=View(cx=70, cy=50, w=100, aspect=1.0),
                     canvas_w=100, canvas_h=100)
    with pytest.raises(StageError, match="frame 1"):
        bad.views(frames=5)


def _random_layout_case(rng: np.random.Generator, move: CameraMove) -> tuple[CanvasLayout, float, float]:
    """A photo of any shape, one to three heads anywhere on it (often spread wider than the frame can
    hold), a subject around them, an aspect and a clip length: the canvas laid out as the renderer does."""
    pw = int(rng.integers(300, 4000))
    ph = max(50, round(pw / float(rng.choice([3.0, 2.33, 1.5, 1.0, 0.75, 0.5]))))
    aspect = float(rng.choice(ASPECTS))
    heads = []
    for _ in range(int(rng.integers(1, 4))):
        w, h = float(rng.uniform(0.03, 0.3)), float(rng.uniform(0.03, 0.4))
        heads.append(Box(x=float(rng.uniform(0, 1 - w)), y=float(rng.uniform(0, 1 - h)), w=w, h=h))
    x0, y0 = min(b.x for b in heads), min(b.y for b in heads)
    x1, y1 = max(b.x + b.w for b in heads), max(b.y + b.h for b in heads)
    focus = Box(x=x0, y=y0, w=x1 - x0, h=y1 - y0)
    duration = float(rng.uniform(0.5, 8.0))
    framing = Framing.blurred_fill if rng.uniform() < 0.2 else Framing.cover
    layout = layout_canvas(framing=framing, photo_w=pw, photo_h=ph, focus=focus, faces=heads, move=move,
                           aspect=aspect, duration=duration)
    return layout, aspect, duration


@pytest.mark.parametrize("move", list(CameraMove))
def test_heads_stay_whole_on_every_frame_of_every_move(move: CameraMove) -> None:
    """Whatever the move (a user may ask for a pan over a portrait), the heads are in every frame: where
    the photo cannot give a view that wide, the canvas grows around it, and views cover as much photo as
    they can."""
    rng = np.random.default_rng(sum(map(ord, move.value)) + 1)
    grown = 0
    for _ in range(300):
        layout, aspect, duration = _random_layout_case(rng, move)
        assert layout.keep is not None
        path = plan_path(move=move, canvas_w=layout.width, canvas_h=layout.height, focus=layout.focus,
                         keep=layout.keep, photo=layout.photo, aspect=aspect, duration=duration)
        views = path.views(frames=40)
        case = (move, layout, aspect, duration)
        assert all(_inside(v, layout.width, layout.height) for v in views), case
        assert all(_holds(v, layout.keep) for v in views), case
        p = layout.photo
        grown += layout.width > p.w or layout.height > p.h
        for v in views:
            r = v.rect
            tol = 1e-6 * max(layout.width, layout.height)
            # Along each axis a view shows as much photo as its size allows (within 1 %): fill only where
            # the view is longer than the photo. (The two ends do so exactly; frames between them zoom
            # about a centre of similarity and may slide a sliver.)
            for a0, a1, b0, b1 in ((r.x, r.right, p.x, p.right), (r.y, r.bottom, p.y, p.bottom)):
                overlap = min(a1, b1) - max(a0, b0)
                assert overlap >= min(a1 - a0, b1 - b0) - 0.01 * (a1 - a0), case
        for r in (views[0].rect, views[-1].rect):
            for a0, a1, b0, b1 in ((r.x, r.right, p.x, p.right), (r.y, r.bottom, p.y, p.bottom)):
                assert (a0 >= b0 - tol and a1 <= b1 + tol) or (a0 <= b0 + tol and a1 >= b1 - tol), case
        if move in (CameraMove.push_in, CameraMove.pull_out, CameraMove.drift):
            # A zoom that holds the heads still zooms as far as it would without them, up to MIN_PUSH_ZOOM:
            # the canvas leaves room for it.
            own = push_zoom(duration=duration) ** (DRIFT_ZOOM_SHARE if move == CameraMove.drift else 1.0)
            assert max(v.w for v in views) / min(v.w for v in views) >= min(own, MIN_PUSH_ZOOM) - 1e-6, case
    assert grown > 30, "the cases must include heads spread wider than the frame"


@pytest.mark.parametrize("move", [CameraMove.pan_left, CameraMove.pan_right, CameraMove.pan_up, CameraMove.pan_down])
def test_a_pan_shows_every_part_of_a_wide_subject_at_a_followable_pace(move: CameraMove) -> None:
    rng = np.random.default_rng(sum(map(ord, move.value)) + 2)
    horizontal = move in (CameraMove.pan_left, CameraMove.pan_right)
    for _ in range(300):
        pw = int(rng.integers(300, 4000))
        ph = max(50, round(pw / float(rng.choice([3.0, 2.33, 1.5, 1.0, 0.75, 0.5, 0.33]))))
        aspect = float(rng.choice(ASPECTS))
        w, h = float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.05, 1.0))
        focus = Box(x=float(rng.uniform(0, 1 - w)), y=float(rng.uniform(0, 1 - h)), w=w, h=h)
        duration = float(rng.uniform(0.5, 8.0))
        layout = layout_canvas(framing=Framing.cover, photo_w=pw, photo_h=ph, focus=focus, faces=[], move=move,
                               aspect=aspect, duration=duration)
        path = plan_path(move=move, canvas_w=layout.width, canvas_h=layout.height, focus=layout.focus,
                         photo=layout.photo, aspect=aspect, duration=duration)
        views = path.views(frames=40)
        f = layout.focus
        rects = [v.rect for v in views]
        case = (move, pw, ph, focus, aspect, duration)
        tol = 1e-6 * max(layout.width, layout.height)
        lo, hi, across_lo, across_hi, size, across = (
            ("x", "right", "y", "bottom", views[0].w, f.h)
            if horizontal
            else ("y", "bottom", "x", "right", views[0].h, f.w)
        )
        assert min(getattr(r, lo) for r in rects) <= getattr(f, lo) + tol, case
        assert max(getattr(r, hi) for r in rects) >= getattr(f, hi) - tol, case
        # Across the pan, the subject is in frame but for CUT_MARGIN of it.
        span = getattr(rects[0], across_hi) - getattr(rects[0], across_lo)
        assert span >= across * (1 - CUT_MARGIN) - tol, case
        centre = "cx" if horizontal else "cy"
        travel = abs(getattr(views[-1], centre) - getattr(views[0], centre))
        assert travel <= pan_travel_views(duration=duration) * size + tol, case
