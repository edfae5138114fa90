"""Camera paths: where the virtual camera looks on a canvas, frame by frame.

A view is a rectangle of the output's aspect on the canvas (canvas units: photo pixels for cover,
output pixels for blurred fill). A move is a start view and an end view; frames in between follow an
ease-in-out curve that spans the whole clip, lead-in and lead-out included, so the camera is still
moving while a crossfade blends it with its neighbour.

Between two views the camera zooms about their common centre of similarity (a homothety): the width
changes geometrically (a zoom that feels steady) and every edge of the view moves monotonically from
its start to its end value. Two consequences the renderer relies on: a path whose two ends lie inside
the canvas never leaves it, and a box inside both ends stays in frame on every frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.errors import StageError
from shared.models import CameraMove

PUSH_ZOOM_AT_6S = 1.2
"""Zoom a push-in reaches over a 6 s clip. Magnitude grows with the square root of the length: short
clips still move visibly, long ones do not rush into the subject."""
MAX_ZOOM = 1.25
"""No move zooms further than this: beyond it an intermediate clip runs out of photo resolution and the
per-frame warp would have to downsample more than 1.5x at the wide end."""
MIN_PUSH_ZOOM = 1.04
"""Every move may zoom this much (a push-in up to what its length allows), even if a subject filling the
frame is then cut by a few percent: a camera that does not move looks like a frozen frame."""
FOCUS_PADDING = 0.08
"""Room kept around the focus box on each side when zooming toward it, as a share of the box."""
DRIFT_ZOOM_SHARE = 0.5
"""A drift zooms this share (in log scale) of what a push-in of the same length would."""
DRIFT_GLIDE_PER_S = 0.025
"""Lateral glide of a drift, in view widths per second of clip."""
DRIFT_GLIDE_MAX = 0.1
PAN_VIEWS_PER_S = 0.3
"""Most a pan travels, in view widths (heights) per second of clip: enough to cross a typical
panorama within a scene, while the peak speed (~1.9x this with the ease-in-out) stays where a 30 fps
pan reads as motion rather than judder."""
PAN_MIN_VIEWS = 0.06
"""Even a short pan travels this far, so it reads as a pan."""
PAN_MAX_ZOOM = 1.2
"""A pan over a photo with no room to travel zooms in up to this much to make room."""
PAN_ROOM_VIEWS = 0.25
"""Room (in views) a pan makes by zooming in when the photo has less; a panorama with more room is
travelled at zoom 1, as far as the clip's length allows."""

_EPS = 1e-6


def smootherstep(u: float) -> float:
    """Ken Perlin's ease-in-out: 0 at 0, 1 at 1, zero speed and acceleration at both ends, monotonic."""
    u = min(1.0, max(0.0, u))
    return u * u * u * (u * (u * 6.0 - 15.0) + 10.0)


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in canvas units."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def clipped(self, *, width: float, height: float) -> Rect:
        """This rectangle intersected with [0, width] x [0, height] (at least a sliver of it)."""
        x0, y0 = min(max(self.x, 0.0), width), min(max(self.y, 0.0), height)
        x1, y1 = min(max(self.right, x0 + _EPS), width), min(max(self.bottom, y0 + _EPS), height)
        return Rect(x=min(x0, x1 - _EPS), y=min(y0, y1 - _EPS), w=max(x1 - x0, _EPS), h=max(y1 - y0, _EPS))


@dataclass(frozen=True)
class View:
    """What the camera sees: a rectangle of aspect `aspect` (width / height) centred on (cx, cy)."""

    cx: float
    cy: float
    w: float
    aspect: float

    @property
    def h(self) -> float:
        return self.w / self.aspect

    @property
    def rect(self) -> Rect:
        return Rect(x=self.cx - self.w / 2, y=self.cy - self.h / 2, w=self.w, h=self.h)


@dataclass(frozen=True)
class CameraPath:
    """A move from `start` to `end` on a canvas of `canvas_w` x `canvas_h` units."""

    start: View
    end: View
    canvas_w: float
    canvas_h: float

    def at(self, e: float) -> View:
        """The view at eased progress `e` (0..1), zooming about the two views' centre of similarity."""
        s, t = self.start, self.end
        log_ratio = math.log(t.w / s.w)
        if abs(log_ratio) < 1e-9:
            w, k = s.w, e
        else:
            # The centre moves in step with the width, so each edge is an affine function of the width,
            # and the width changes monotonically: edges move monotonically from start to end.
            w = s.w * math.exp(e * log_ratio)
            k = math.expm1(e * log_ratio) / math.expm1(log_ratio)
        return View(cx=s.cx + (t.cx - s.cx) * k, cy=s.cy + (t.cy - s.cy) * k, w=w, aspect=s.aspect)

    def views(self, *, frames: int) -> list[View]:
        """One view per frame, eased over the whole clip; each checked to lie inside the canvas."""
        last = max(frames - 1, 1)
        views = [self.at(smootherstep(i / last)) for i in range(frames)]
        for i, view in enumerate(views):
            check_inside(view=view, canvas_w=self.canvas_w, canvas_h=self.canvas_h, frame=i)
        return views


def check_inside(*, view: View, canvas_w: float, canvas_h: float, frame: int) -> None:
    """Every pixel of every frame comes from the canvas: a view reaching outside it is a bug, not a look."""
    r = view.rect
    tol = 1e-6 * max(canvas_w, canvas_h)
    if r.x < -tol or r.y < -tol or r.right > canvas_w + tol or r.bottom > canvas_h + tol:
        raise StageError(
            f"frame {frame}: view ({r.x:.3f}, {r.y:.3f}, {r.w:.3f} x {r.h:.3f}) leaves the "
            f"{canvas_w:.1f} x {canvas_h:.1f} canvas",
            stage="clips",
        )


def widest_view_size(*, canvas_w: float, canvas_h: float, aspect: float) -> tuple[float, float]:
    """The largest view of the output's aspect that fits the canvas (zoom 1)."""
    w = min(canvas_w, canvas_h * aspect)
    return w, w / aspect


def push_zoom(*, duration: float) -> float:
    """How far a push-in zooms over a clip of `duration` seconds."""
    scale = math.sqrt(max(duration, 0.0) / 6.0)
    return min(MAX_ZOOM, math.exp(math.log(PUSH_ZOOM_AT_6S) * scale))


def _place(*, want: float, size: float, lo: float, hi: float, extent: float) -> float:
    """A view centre near `want` for a view `size` long on [0, extent] that keeps [lo, hi] inside it
    (centred on [lo, hi] when that is longer than the view)."""
    c = min(max(want, hi - size / 2), lo + size / 2) if hi - lo <= size else (lo + hi) / 2
    # Pulling the view back inside the canvas keeps [lo, hi] in it: the box lies in the canvas and is
    # no longer than the view.
    return min(max(c, size / 2), extent - size / 2)


@dataclass(frozen=True)
class _Bounds:
    """The fixed facts a move is planned against."""

    focus: Rect
    canvas_w: float
    canvas_h: float
    aspect: float

    def view(self, *, want_x: float, want_y: float, zoom: float) -> View:
        """The view at `zoom` centred as near (want_x, want_y) as the canvas and the focus box allow."""
        w0, h0 = widest_view_size(canvas_w=self.canvas_w, canvas_h=self.canvas_h, aspect=self.aspect)
        w, h = w0 / zoom, h0 / zoom
        f = self.focus
        cx = _place(want=want_x, size=w, lo=f.x, hi=f.right, extent=self.canvas_w)
        cy = _place(want=want_y, size=h, lo=f.y, hi=f.bottom, extent=self.canvas_h)
        return View(cx=cx, cy=cy, w=w, aspect=self.aspect)


def focus_fit_zoom(*, focus: Rect, canvas_w: float, canvas_h: float, aspect: float) -> float:
    """The largest zoom whose view still holds the focus box with FOCUS_PADDING around it (>= 1)."""
    w0, h0 = widest_view_size(canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    pad = 1 + 2 * FOCUS_PADDING
    return max(1.0, min(w0 / (focus.w * pad), h0 / (focus.h * pad)))


def plan_path(
    *,
    move: CameraMove,
    canvas_w: float,
    canvas_h: float,
    focus: Rect,
    aspect: float,
    duration: float,
    seed: int = 0,
) -> CameraPath:
    """The start and end views of `move` over a clip of `duration` seconds.

    `focus` (canvas units) is what the camera keeps in frame: in full on every frame of zooms and
    drifts; in a pan, whose travel is centred on it, in full mid-pan, or near a canvas edge where the
    travel passes it."""
    focus = focus.clipped(width=canvas_w, height=canvas_h)
    bounds = _Bounds(focus=focus, canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    centre_x, centre_y = canvas_w / 2, canvas_h / 2
    fit = focus_fit_zoom(focus=focus, canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    zoom = push_zoom(duration=duration)

    if move in (CameraMove.push_in, CameraMove.pull_out):
        end_zoom = min(zoom, max(fit, min(zoom, MIN_PUSH_ZOOM)))
        wide = bounds.view(want_x=centre_x, want_y=centre_y, zoom=1.0)
        close = bounds.view(want_x=focus.cx, want_y=focus.cy, zoom=end_zoom)
        start, end = (wide, close) if move == CameraMove.push_in else (close, wide)
    elif move == CameraMove.drift:
        drift_zoom = math.exp(math.log(zoom) * DRIFT_ZOOM_SHARE)
        end_zoom = min(drift_zoom, max(fit, min(drift_zoom, MIN_PUSH_ZOOM)))
        start = bounds.view(want_x=centre_x, want_y=centre_y, zoom=1.0)
        side = focus.cx - start.cx
        direction = (1.0 if side > 0 else -1.0) if abs(side) > 0.02 * canvas_w else (1.0 if seed % 2 == 0 else -1.0)
        glide = min(DRIFT_GLIDE_MAX, DRIFT_GLIDE_PER_S * duration) * start.w * direction
        end = bounds.view(want_x=start.cx + glide, want_y=start.cy, zoom=end_zoom)
    else:
        cap = min(PAN_MAX_ZOOM, max(fit, MIN_PUSH_ZOOM))
        start, end = _pan(move=move, zoom_cap=cap, duration=duration, bounds=bounds)
    return CameraPath(start=start, end=end, canvas_w=canvas_w, canvas_h=canvas_h)


def _pan(*, move: CameraMove, zoom_cap: float, duration: float, bounds: _Bounds) -> tuple[View, View]:
    focus, canvas_w, canvas_h, aspect = bounds.focus, bounds.canvas_w, bounds.canvas_h, bounds.aspect
    horizontal = move in (CameraMove.pan_left, CameraMove.pan_right)
    forward = move in (CameraMove.pan_right, CameraMove.pan_down)
    w0, h0 = widest_view_size(canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    # Work along the pan's axis: `size` is the view's extent along it, `extent` the canvas's.
    size0, extent = (w0, canvas_w) if horizontal else (h0, canvas_h)
    travel_views = max(PAN_MIN_VIEWS, PAN_VIEWS_PER_S * duration)
    # Zoom in only where the photo has too little room to travel (never on a panorama), within the cap.
    zoom = min(zoom_cap, max(1.0, size0 * (1 + min(travel_views, PAN_ROOM_VIEWS)) / extent))
    size = size0 / zoom
    travel = min(travel_views * size, extent - size)
    lo_f, hi_f = (focus.x, focus.right) if horizontal else (focus.y, focus.bottom)
    mid = (lo_f + hi_f) / 2
    # Centred on the subject, so it is in full view mid-pan. Near a canvas edge the travel is pushed
    # back inside; the subject is then in full view where the travel passes it.
    first = min(max(mid - travel / 2, size / 2), extent - size / 2 - travel)
    a, b = (first, first + travel) if forward else (first + travel, first)
    w, h = w0 / zoom, h0 / zoom
    if horizontal:
        cy = _place(want=focus.cy, size=h, lo=focus.y, hi=focus.bottom, extent=canvas_h)
        return View(cx=a, cy=cy, w=w, aspect=aspect), View(cx=b, cy=cy, w=w, aspect=aspect)
    cx = _place(want=focus.cx, size=w, lo=focus.x, hi=focus.right, extent=canvas_w)
    return View(cx=cx, cy=a, w=w, aspect=aspect), View(cx=cx, cy=b, w=w, aspect=aspect)
