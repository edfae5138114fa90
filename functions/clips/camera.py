"""Camera paths: where the virtual camera looks on a canvas, frame by frame.

A view is a rectangle of the output's aspect on the canvas (canvas units: photo pixels for cover,
output pixels for blurred fill). A move is a start view and an end view; frames in between follow an
ease-in-out curve that spans the whole clip, lead-in and lead-out included, so the camera is still
moving while a crossfade blends it with its neighbour.

Between two views the camera zooms about their common centre of similarity (a homothety): the width
changes geometrically (a zoom that feels steady) and every edge of the view moves monotonically from
its start to its end value. Two consequences the renderer relies on: a path whose two ends lie inside
the canvas never leaves it, and a box inside both ends stays in frame on every frame.

Two boxes steer a move. The focus (the subject) is where the camera goes and what it shows: zooms and
drifts hold it, a pan travels over it so that every part of it is seen. The keep box (the faces' heads)
is held whole on every frame, whatever the move. When the photo alone cannot give a view wide enough for
that (faces spread wider than the frame's shape allows, a subject too wide to travel over in the clip's
time), the canvas around the photo is widened with a fill (see framing.py): `widest_needed` says how far."""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.errors import StageError
from shared.models.base import RectGeometry
from shared.models.plan import CameraMove

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
CUT_MARGIN = 0.05
"""A zoom or drift may leave this share of the focus box's width or height out of its widest view (a
subject's outskirts); a pan, of its height (width) across the pan. The keep box is never cut."""

_EPS = 1e-6


def smootherstep(u: float) -> float:
    """Ken Perlin's ease-in-out: 0 at 0, 1 at 1, zero speed and acceleration at both ends, monotonic."""
    u = min(1.0, max(0.0, u))
    return u * u * u * (u * (u * 6.0 - 15.0) + 10.0)


@dataclass(frozen=True)
class Rect(RectGeometry):
    """An axis-aligned rectangle in canvas units."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def bounding(cls, rects: list[Rect]) -> Rect:
        """The smallest rectangle holding every one of `rects`."""
        x0, y0 = min(r.x for r in rects), min(r.y for r in rects)
        return cls(x=x0, y=y0, w=max(r.right for r in rects) - x0, h=max(r.bottom for r in rects) - y0)

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


def _centres(
    *, size: float, extent: float, photo: tuple[float, float], keep: tuple[float, float] | None
) -> tuple[float, float]:
    """The centres a view `size` long may take on one axis of a canvas [0, extent]: inside the canvas,
    over as much photo as it can (inside the photo when it fits, else holding all of it: fill only where
    the photo ends), and holding `keep` (lo, hi) whole."""
    p_lo, p_hi = photo
    if size <= p_hi - p_lo:
        lo, hi = p_lo + size / 2, p_hi - size / 2
    else:
        lo, hi = max(size / 2, p_hi - size / 2), min(extent - size / 2, p_lo + size / 2)
    if keep is not None:
        lo, hi = max(lo, keep[1] - size / 2), min(hi, keep[0] + size / 2)
    if lo > hi:  # a view too small for the keep box: the caller zooms no further than it allows
        lo = hi = (lo + hi) / 2
    return lo, hi


def _place(*, want: float, lo: float, hi: float, size: float, allowed: tuple[float, float]) -> float:
    """A view centre near `want`, among the `allowed` ones, that holds the focus [lo, hi] when it can
    (centred on it when it is longer than the view; as near as allowed otherwise)."""
    a, b = allowed
    s_lo, s_hi = (hi - size / 2, lo + size / 2) if hi - lo <= size else ((lo + hi) / 2, (lo + hi) / 2)
    if max(a, s_lo) <= min(b, s_hi):
        return min(max(want, a, s_lo), b, s_hi)
    return min(max((s_lo + s_hi) / 2, a), b)


@dataclass(frozen=True)
class _Bounds:
    """The fixed facts a move is planned against (canvas units)."""

    focus: Rect
    keep: Rect | None
    photo: Rect
    canvas_w: float
    canvas_h: float
    aspect: float

    def widest(self) -> tuple[float, float]:
        return widest_view_size(canvas_w=self.canvas_w, canvas_h=self.canvas_h, aspect=self.aspect)

    def keep_zoom(self) -> float:
        """The most the camera may zoom in and still hold the keep box (inf without one)."""
        if self.keep is None:
            return math.inf
        w0, h0 = self.widest()
        return min(w0 / self.keep.w, h0 / self.keep.h)

    def centres(self, *, size: float, horizontal: bool) -> tuple[float, float]:
        p, k = self.photo, self.keep
        if horizontal:
            return _centres(size=size, extent=self.canvas_w, photo=(p.x, p.right),
                            keep=None if k is None else (k.x, k.right))
        return _centres(size=size, extent=self.canvas_h, photo=(p.y, p.bottom),
                        keep=None if k is None else (k.y, k.bottom))

    def view(self, *, want_x: float, want_y: float, zoom: float) -> View:
        """The view at `zoom` centred as near (want_x, want_y) as the canvas, the keep box and the focus
        allow."""
        w0, h0 = self.widest()
        w, h = w0 / zoom, h0 / zoom
        f = self.focus
        cx = _place(want=want_x, lo=f.x, hi=f.right, size=w, allowed=self.centres(size=w, horizontal=True))
        cy = _place(want=want_y, lo=f.y, hi=f.bottom, size=h, allowed=self.centres(size=h, horizontal=False))
        return View(cx=cx, cy=cy, w=w, aspect=self.aspect)


def _pan_axis(move: CameraMove) -> bool | None:
    """True for a horizontal pan, False for a vertical one, None for any other move."""
    if move in (CameraMove.pan_left, CameraMove.pan_right):
        return True
    if move in (CameraMove.pan_up, CameraMove.pan_down):
        return False
    return None


def pan_travel_views(*, duration: float) -> float:
    """How far (in views) a pan over a clip of `duration` seconds travels at most."""
    return max(PAN_MIN_VIEWS, PAN_VIEWS_PER_S * duration)


def widest_needed(*, move: CameraMove, focus: Rect, keep: Rect | None, aspect: float, duration: float) -> float:
    """The width (canvas units) of the widest view `move` needs over a clip of `duration` seconds: wide
    enough for a zoom or drift to show the focus box (but CUT_MARGIN of it) and for a pan to travel over
    all of it at the pan's pace, and to hold the keep box with room for the move (MIN_PUSH_ZOOM of zoom,
    PAN_MIN_VIEWS of travel)."""

    def width(w: float, h: float) -> float:
        return max(w, h * aspect)

    horizontal = _pan_axis(move)
    if horizontal is None:
        need = width(focus.w, focus.h) * (1 - CUT_MARGIN)
        if keep is not None:
            need = max(need, width(keep.w, keep.h) * MIN_PUSH_ZOOM)
        return need
    travel = 1 + pan_travel_views(duration=duration)
    room = 1 / (1 - PAN_MIN_VIEWS)
    if horizontal:
        need = width(focus.w / travel, focus.h * (1 - CUT_MARGIN))
        return need if keep is None else max(need, width(keep.w * room, keep.h))
    need = width(focus.w * (1 - CUT_MARGIN), focus.h / travel)
    return need if keep is None else max(need, width(keep.w, keep.h * room))


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
    keep: Rect | None = None,
    photo: Rect | None = None,
) -> CameraPath:
    """The start and end views of `move` over a clip of `duration` seconds.

    `focus` (canvas units) is what the camera shows: in full on every frame of zooms and drifts; in a
    pan, whose travel is centred on it, every part of it on some frame (in full mid-pan when it fits the
    view, or near a canvas edge where the travel passes it). `keep` is held whole on every frame of every
    move. `photo` is where the photo lies on the canvas (all of it by default): views stay on it where
    they fit, and hold all of it along an axis where they do not."""
    photo = photo or Rect(x=0.0, y=0.0, w=canvas_w, h=canvas_h)
    focus = _clipped_to(focus, photo)
    keep = None if keep is None else _clipped_to(keep, photo)
    bounds = _Bounds(focus=focus, keep=keep, photo=photo, canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    centre_x, centre_y = photo.cx, photo.cy
    fit = focus_fit_zoom(focus=focus, canvas_w=canvas_w, canvas_h=canvas_h, aspect=aspect)
    zoom = push_zoom(duration=duration)
    # Never so far in that the keep box is cut; never out past the widest view.
    limit = max(1.0, bounds.keep_zoom())

    if move in (CameraMove.push_in, CameraMove.pull_out):
        end_zoom = min(zoom, max(fit, min(zoom, MIN_PUSH_ZOOM)), limit)
        wide = bounds.view(want_x=centre_x, want_y=centre_y, zoom=1.0)
        close = bounds.view(want_x=focus.cx, want_y=focus.cy, zoom=end_zoom)
        start, end = (wide, close) if move == CameraMove.push_in else (close, wide)
    elif move == CameraMove.drift:
        drift_zoom = math.exp(math.log(zoom) * DRIFT_ZOOM_SHARE)
        end_zoom = min(drift_zoom, max(fit, min(drift_zoom, MIN_PUSH_ZOOM)), limit)
        start = bounds.view(want_x=centre_x, want_y=centre_y, zoom=1.0)
        side = focus.cx - start.cx
        direction = (1.0 if side > 0 else -1.0) if abs(side) > 0.02 * canvas_w else (1.0 if seed % 2 == 0 else -1.0)
        glide = min(DRIFT_GLIDE_MAX, DRIFT_GLIDE_PER_S * duration) * start.w * direction
        end = bounds.view(want_x=start.cx + glide, want_y=start.cy, zoom=end_zoom)
    else:
        cap = min(PAN_MAX_ZOOM, max(fit, MIN_PUSH_ZOOM), limit)
        start, end = _pan(move=move, zoom_cap=cap, duration=duration, bounds=bounds)
    return CameraPath(start=start, end=end, canvas_w=canvas_w, canvas_h=canvas_h)


def _clipped_to(box: Rect, area: Rect) -> Rect:
    inner = Rect(x=box.x - area.x, y=box.y - area.y, w=box.w, h=box.h).clipped(width=area.w, height=area.h)
    return Rect(x=inner.x + area.x, y=inner.y + area.y, w=inner.w, h=inner.h)


def _pan(*, move: CameraMove, zoom_cap: float, duration: float, bounds: _Bounds) -> tuple[View, View]:
    focus, photo, aspect = bounds.focus, bounds.photo, bounds.aspect
    horizontal = _pan_axis(move) is True
    forward = move in (CameraMove.pan_right, CameraMove.pan_down)
    w0, h0 = bounds.widest()
    # Work along the pan's axis: `size` is the view's extent along it, `extent` the photo's.
    size0, extent = (w0, photo.w) if horizontal else (h0, photo.h)
    lo_f, hi_f = (focus.x, focus.right) if horizontal else (focus.y, focus.bottom)
    across0, across_f = (h0, focus.h) if horizontal else (w0, focus.w)
    travel_views = pan_travel_views(duration=duration)
    # Zoom in only where the photo has too little room to travel (never on a panorama), within the cap,
    # and never so far that the travel can no longer pass over the whole subject, nor that the subject
    # loses more than CUT_MARGIN across the pan.
    zoom = min(zoom_cap, max(1.0, size0 * (1 + min(travel_views, PAN_ROOM_VIEWS)) / extent))
    zoom = min(zoom, size0 * (1 + travel_views) / (hi_f - lo_f), across0 / (across_f * (1 - CUT_MARGIN)))
    zoom = max(1.0, zoom)
    size = size0 / zoom
    first_c, last_c = bounds.centres(size=size, horizontal=horizontal)
    travel = min(travel_views * size, last_c - first_c)
    # Centred on the subject, so it is in full view mid-pan (or, longer than the view, every part of it
    # on some frame). Near a canvas edge the travel is pushed back inside; the subject is then in full
    # view where the travel passes it.
    first = min(max((lo_f + hi_f) / 2 - travel / 2, first_c), last_c - travel)
    a, b = (first, first + travel) if forward else (first + travel, first)
    w, h = w0 / zoom, h0 / zoom
    if horizontal:
        across = bounds.centres(size=h, horizontal=False)
        cy = _place(want=focus.cy, lo=focus.y, hi=focus.bottom, size=h, allowed=across)
        return View(cx=a, cy=cy, w=w, aspect=aspect), View(cx=b, cy=cy, w=w, aspect=aspect)
    across = bounds.centres(size=w, horizontal=True)
    cx = _place(want=focus.cx, lo=focus.x, hi=focus.right, size=w, allowed=across)
    return View(cx=cx, cy=a, w=w, aspect=aspect), View(cx=cx, cy=b, w=w, aspect=aspect)
