"""Framing: the canvas the camera moves over.

cover: the photo itself; the camera's widest view fills the frame with it (cropping to the output's
aspect). blurred_fill: a canvas of the output's aspect holding the whole photo, fitted, over a
blurred, darkened, cover-fitted copy of itself, so nothing is cut and there are never black bars.

The layout (where things are, in canvas units) is decided before the camera path; the raster is built
afterwards, once, at the resolution the path needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from functions.clips.camera import Rect, widest_view_size
from shared.models import Box, Framing

CUT_MARGIN = 0.05
"""Cover may cut up to this share of the focus box's width or height; beyond it the renderer uses a
blurred fill even when the plan asked for cover."""
FILL_DOWNSCALE = 8
"""The blurred fill is blurred at 1/8 of the canvas size: as soft, and ~60x cheaper."""
FILL_BLUR = 0.03
"""Blur sigma of the fill, as a share of the canvas's longer side."""
FILL_BRIGHTNESS = 0.55
"""The fill is darkened so the photo in front stands out."""


@dataclass(frozen=True)
class CanvasLayout:
    """Where the photo and the focus box lie on the canvas, in canvas units."""

    framing: Framing
    width: float
    height: float
    photo: Rect
    focus: Rect


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


def cover_cut(*, photo_w: int, photo_h: int, focus: Box, aspect: float) -> float:
    """The share of the focus box's width or height (the larger) that no cover-fit view can show."""
    w0, h0 = widest_view_size(canvas_w=photo_w, canvas_h=photo_h, aspect=aspect)
    fw, fh = focus.w * photo_w, focus.h * photo_h
    return max(0.0, (fw - w0) / fw, (fh - h0) / fh)


def choose_framing(*, planned: Framing, photo_w: int, photo_h: int, focus: Box, aspect: float) -> Framing:
    """The plan's framing, unless cover would cut the subject by more than CUT_MARGIN."""
    cut = cover_cut(photo_w=photo_w, photo_h=photo_h, focus=focus, aspect=aspect)
    if planned == Framing.cover and cut > CUT_MARGIN:
        return Framing.blurred_fill
    return planned


def layout_canvas(*, framing: Framing, photo_w: int, photo_h: int, focus: Box, out_w: int, out_h: int) -> CanvasLayout:
    """Cover: canvas units are photo pixels. Blurred fill: output pixels, with the photo fitted inside."""
    if framing == Framing.cover:
        photo = Rect(x=0.0, y=0.0, w=float(photo_w), h=float(photo_h))
        width, height = float(photo_w), float(photo_h)
    else:
        fit = min(out_w / photo_w, out_h / photo_h)
        pw, ph = photo_w * fit, photo_h * fit
        photo = Rect(x=(out_w - pw) / 2, y=(out_h - ph) / 2, w=pw, h=ph)
        width, height = float(out_w), float(out_h)
    box = Rect(
        x=photo.x + focus.x * photo.w,
        y=photo.y + focus.y * photo.h,
        w=min(focus.w, 1 - focus.x) * photo.w,
        h=min(focus.h, 1 - focus.y) * photo.h,
    )
    return CanvasLayout(framing=framing, width=width, height=height, photo=photo, focus=box)


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
    """A blurred, darkened copy of `photo` cover-fitted to width x height."""
    small_w, small_h = max(2, width // FILL_DOWNSCALE), max(2, height // FILL_DOWNSCALE)
    small = _resized(_cover_crop(photo, aspect=width / height), width=small_w, height=small_h)
    sigma = FILL_BLUR * max(width, height) / FILL_DOWNSCALE
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    small = cv2.convertScaleAbs(small, alpha=FILL_BRIGHTNESS)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _even(n: float) -> int:
    return max(2, 2 * round(n / 2))


def render_canvas(*, layout: CanvasLayout, photo: np.ndarray, scale: float, visits: Rect | None = None) -> Canvas:
    """Rasterise `layout` at about `scale` raster pixels per canvas unit (once per clip), to an even size.

    For cover, only the part of the photo the camera `visits` (canvas units) is rasterised, with a
    pixel of margin for the bilinear sampling at its edge: a pan over a third of a 12 MP photo need not
    resample the rest."""
    if layout.framing == Framing.cover:
        region = Rect(x=0.0, y=0.0, w=layout.width, h=layout.height)
        if visits is not None:
            x0, y0 = max(0, math.floor(visits.x) - 1), max(0, math.floor(visits.y) - 1)
            x1 = min(photo.shape[1], math.ceil(visits.right) + 1)
            y1 = min(photo.shape[0], math.ceil(visits.bottom) + 1)
            region = Rect(x=float(x0), y=float(y0), w=float(x1 - x0), h=float(y1 - y0))
            photo = photo[y0:y1, x0:x1]
        image = _resized(photo, width=_even(region.w * scale), height=_even(region.h * scale))
        return Canvas(layout=layout, region=region, image=image)
    rw, rh = _even(layout.width * scale), _even(layout.height * scale)
    image = blurred_fill(photo=photo, width=rw, height=rh)
    kx, ky = rw / layout.width, rh / layout.height
    x0, y0 = round(layout.photo.x * kx), round(layout.photo.y * ky)
    x1, y1 = round(layout.photo.right * kx), round(layout.photo.bottom * ky)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(rw, max(x1, x0 + 1)), min(rh, max(y1, y0 + 1))
    image[y0:y1, x0:x1] = _resized(photo, width=x1 - x0, height=y1 - y0)
    return Canvas(layout=layout, region=Rect(x=0.0, y=0.0, w=layout.width, h=layout.height), image=image)
