"""Framing: the canvas the camera moves over.

The canvas is the photo itself (canvas units are photo pixels), so the camera's views fill the frame
with it (cover), unless the move needs a view wider than the photo gives (camera.widest_needed): faces
spread wider than the frame's shape can hold, or a subject too wide for a pan to travel over in the
scene's time. Then the canvas grows around the photo, on its short side and only as far as needed, and
what lies beyond the photo is a blurred, darkened, cover-fitted copy of it (never black bars): the camera
zooms out no further than it must, and the frame shows the photo alone wherever it can.

The plan's framing says what must be seen. cover: every part of the subject (a pan travels over it), the
faces' heads whole on every frame. blurred_fill: the whole subject box, and the heads, on every frame.

The layout (where things are, in canvas units) is decided before the camera path; the raster is built
afterwards, once, at the resolution the path needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from functions.clips.camera import CameraPath, Rect, View, plan_path, widest_needed
from shared.models.base import Box
from shared.models.plan import CameraMove, Framing

FILL_DOWNSCALE = 8
"""The blurred fill is blurred at 1/8 of the raster's size: as soft, and ~60x cheaper."""
FILL_BLUR = 0.03
"""Blur sigma of the fill, as a share of the canvas's longer side."""
FILL_BRIGHTNESS = 0.55
"""The fill is darkened so the photo in front stands out."""


@dataclass(frozen=True)
class CanvasLayout:
    """Where the photo, the focus box and the keep box lie on the canvas, in canvas units (photo pixels)."""

    framing: Framing
    width: float
    height: float
    photo: Rect
    focus: Rect
    keep: Rect | None
    """Held whole on every frame: the faces' heads (and, for blurred_fill, the focus box)."""

    def camera_path(self, *, move: CameraMove, aspect: float, duration: float, seed: int = 0) -> CameraPath:
        """`move` over this canvas, holding its focus and keep boxes as camera.plan_path says."""
        return plan_path(move=move, canvas_w=self.width, canvas_h=self.height, focus=self.focus, keep=self.keep,
                         photo=self.photo, aspect=aspect, duration=duration, seed=seed)


@dataclass(frozen=True)
class Canvas:
    """Part of a layout rendered to pixels: `image` shows `region` (canvas units) at `kx` (`ky`) raster
    pixels per canvas unit across (down)."""

    layout: CanvasLayout
    region: Rect
    image: np.ndarray

    @property
    def kx(self) -> float:
        return self.image.shape[1] / self.region.w

    @property
    def ky(self) -> float:
        return self.image.shape[0] / self.region.h


def box_rect(box: Box, *, photo: Rect) -> Rect:
    """A normalised box of the photo, in canvas units."""
    return Rect(
        x=photo.x + box.x * photo.w,
        y=photo.y + box.y * photo.h,
        w=min(box.w, 1 - box.x) * photo.w,
        h=min(box.h, 1 - box.y) * photo.h,
    )


def layout_canvas(
    *,
    framing: Framing,
    photo_w: int,
    photo_h: int,
    focus: Box,
    faces: list[Box],
    move: CameraMove,
    aspect: float,
    duration: float,
) -> CanvasLayout:
    """The photo, grown on its short side by as much fill as `move` needs (none when a cover-fit frame
    can show what must be seen), in whole photo pixels."""
    at_origin = Rect(x=0.0, y=0.0, w=float(photo_w), h=float(photo_h))
    subject = box_rect(focus, photo=at_origin)
    keeps = [box_rect(face, photo=at_origin) for face in faces]
    if framing == Framing.blurred_fill:
        keeps.append(subject)
    keep = Rect.bounding(keeps) if keeps else None
    need = widest_needed(move=move, focus=subject, keep=keep, aspect=aspect, duration=duration)
    # Whole pixels of fill on each side: the photo then starts on a canvas pixel.
    pad_x = math.ceil(max(0.0, need - photo_w) / 2)
    pad_y = math.ceil(max(0.0, need / aspect - photo_h) / 2)

    def moved(r: Rect) -> Rect:
        return Rect(x=r.x + pad_x, y=r.y + pad_y, w=r.w, h=r.h)

    return CanvasLayout(
        framing=framing,
        width=float(photo_w + 2 * pad_x),
        height=float(photo_h + 2 * pad_y),
        photo=moved(at_origin),
        focus=moved(subject),
        keep=None if keep is None else moved(keep),
    )


def fill_share(*, view: View, photo: Rect) -> float:
    """The share of a frame showing `view` that is fill, not photo."""
    r = view.rect
    iw = max(0.0, min(r.right, photo.right) - max(r.x, photo.x))
    ih = max(0.0, min(r.bottom, photo.bottom) - max(r.y, photo.y))
    return max(0.0, 1.0 - iw * ih / (r.w * r.h))


def _resized(image: np.ndarray, *, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    shrink = width < w or height < h
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _cover_crop(image: np.ndarray, *, aspect: float) -> np.ndarray:
    """The largest centred crop of `image` with aspect `aspect` (width / height)."""
    h, w = image.shape[:2]
    if w / h > aspect:
        cw = max(1, round(h * aspect))
        x0 = (w - cw) // 2
        return image[:, x0 : x0 + cw]
    ch = max(1, round(w / aspect))
    y0 = (h - ch) // 2
    return image[y0 : y0 + ch, :]


def blurred_fill(*, photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """A blurred, darkened copy of `photo` cover-fitted to width x height, at 1/FILL_DOWNSCALE of that size."""
    small_w, small_h = max(2, width // FILL_DOWNSCALE), max(2, height // FILL_DOWNSCALE)
    small = _resized(_cover_crop(photo, aspect=width / height), width=small_w, height=small_h)
    sigma = FILL_BLUR * max(width, height) / FILL_DOWNSCALE
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    return cv2.convertScaleAbs(small, alpha=FILL_BRIGHTNESS)


def _even(n: float) -> int:
    return max(2, 2 * round(n / 2))


def _inside(inner: Rect, outer: Rect) -> bool:
    return inner.x >= outer.x and inner.y >= outer.y and inner.right <= outer.right and inner.bottom <= outer.bottom


def render_canvas(*, layout: CanvasLayout, photo: np.ndarray, scale: float, visits: Rect | None = None) -> Canvas:
    """Rasterise `layout` at about `scale` raster pixels per canvas unit (once per clip), to an even size.

    Only the part of the canvas the camera `visits` (canvas units) is rasterised, with a pixel of margin
    for the bilinear sampling at its edge: a pan over a third of a 12 MP photo need not resample the
    rest. Where that part reaches past the photo, the photo lies over its blurred fill."""
    region = Rect(x=0.0, y=0.0, w=layout.width, h=layout.height)
    if visits is not None:
        x0, y0 = max(0, math.floor(visits.x) - 1), max(0, math.floor(visits.y) - 1)
        x1 = min(round(layout.width), math.ceil(visits.right) + 1)
        y1 = min(round(layout.height), math.ceil(visits.bottom) + 1)
        region = Rect(x=float(x0), y=float(y0), w=float(x1 - x0), h=float(y1 - y0))
    p = layout.photo
    rw, rh = _even(region.w * scale), _even(region.h * scale)
    if _inside(region, p):
        # Canvas and photo pixels coincide: crop, then resample once.
        x0, y0 = round(region.x - p.x), round(region.y - p.y)
        crop = photo[y0 : y0 + round(region.h), x0 : x0 + round(region.w)]
        return Canvas(layout=layout, region=region, image=_resized(crop, width=rw, height=rh))
    kx, ky = rw / region.w, rh / region.h
    # The fill is made for the whole canvas (small, so cheap), then the region's part of it enlarged.
    small = blurred_fill(photo=photo, width=_even(layout.width * scale), height=_even(layout.height * scale))
    sx, sy = small.shape[1] / layout.width, small.shape[0] / layout.height
    to_small = np.array(
        [[sx / kx, 0.0, region.x * sx + 0.5 * sx / kx - 0.5], [0.0, sy / ky, region.y * sy + 0.5 * sy / ky - 0.5]]
    )
    image = cv2.warpAffine(small, to_small, (rw, rh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    # The photo's part inside the region, in whole canvas units (the photo starts on a canvas pixel).
    ix0, iy0 = max(region.x, p.x), max(region.y, p.y)
    ix1, iy1 = min(region.right, p.right), min(region.bottom, p.bottom)
    if ix1 > ix0 and iy1 > iy0:
        crop = photo[round(iy0 - p.y) : round(iy1 - p.y), round(ix0 - p.x) : round(ix1 - p.x)]
        x0, y0 = round((ix0 - region.x) * kx), round((iy0 - region.y) * ky)
        x1, y1 = round((ix1 - region.x) * kx), round((iy1 - region.y) * ky)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(rw, max(x1, x0 + 1)), min(rh, max(y1, y0 + 1))
        image[y0:y1, x0:x1] = _resized(crop, width=x1 - x0, height=y1 - y0)
    return Canvas(layout=layout, region=region, image=image)
