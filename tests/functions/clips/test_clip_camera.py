"""Camera paths on their own: easing, moves that go where they say, and views that never leave the
canvas nor lose the subject, over many random photo shapes, subjects and clip lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from functions.clips.camera import (
    MAX_ZOOM,
    CameraPath,
    Rect,
    View,
    check_inside,
    plan_path,
    push_zoom,
    smootherstep,
    widest_view_size,
)
from shared.errors import StageError
from shared.models import CameraMove

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
