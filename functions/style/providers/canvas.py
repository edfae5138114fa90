"""Fitting a photo to the shapes an image model can return, and getting the photo's own shape back.

Models return a few aspect ratios (gpt-image-1: three). The photo is centred on a canvas of the nearest
one over a blurred copy of itself (never cropped: the faces stay), sent, and the answer is cropped back
to where the photo sat and resized to the photo's own size. The styled picture lines up with the
original pixel for pixel, so the camera moves planned on the original still frame the subject."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Canvas:
    ratio: str
    """The model's aspect ratio name, e.g. "3:2"."""
    width: int
    height: int
    box: tuple[int, int, int, int]
    """Where the photo sits on the canvas: x, y, w, h."""


def ratio_value(ratio: str) -> float:
    w, _, h = ratio.partition(":")
    return float(w) / float(h)


def nearest_ratio(*, width: int, height: int, ratios: list[str]) -> str:
    """The ratio closest to width/height, in log space (3:2 is as far from 1:1 as 2:3 is)."""
    import math

    target = math.log(width / height)
    return min(ratios, key=lambda r: abs(math.log(ratio_value(r)) - target))


def plan_canvas(*, width: int, height: int, ratio: str, max_side: int) -> Canvas:
    """The smallest canvas of `ratio` holding the photo scaled to fit `max_side`."""
    scale = min(1.0, max_side / max(width, height))
    pw, ph = max(1, round(width * scale)), max(1, round(height * scale))
    r = ratio_value(ratio)
    if pw / ph >= r:
        cw, ch = pw, max(ph, round(pw / r))
    else:
        cw, ch = max(pw, round(ph * r)), ph
    return Canvas(ratio=ratio, width=cw, height=ch, box=((cw - pw) // 2, (ch - ph) // 2, pw, ph))


def place_on_canvas(*, image: np.ndarray, canvas: Canvas) -> np.ndarray:
    x, y, w, h = canvas.box
    photo = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA) if (w, h) != image.shape[1::-1] else image
    if (w, h) == (canvas.width, canvas.height):
        return np.ascontiguousarray(photo)
    small = cv2.resize(photo, (max(1, canvas.width // 16), max(1, canvas.height // 16)), interpolation=cv2.INTER_AREA)
    fill = cv2.resize(small, (canvas.width, canvas.height), interpolation=cv2.INTER_LINEAR)
    fill = cv2.GaussianBlur(fill, (0, 0), sigmaX=max(2.0, canvas.width / 100))
    out = fill.copy()
    out[y : y + h, x : x + w] = photo
    return out


def back_from_canvas(*, image: np.ndarray, canvas: Canvas, width: int, height: int) -> np.ndarray:
    """The photo's region of a model's answer, at the photo's size. An answer of another shape than the
    canvas is scaled to cover it first (centred), so a model that ignores the ratio still lines up."""
    oh, ow = image.shape[:2]
    scale = max(canvas.width / ow, canvas.height / oh)
    sw, sh = max(canvas.width, round(ow * scale)), max(canvas.height, round(oh * scale))
    resized = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    ox, oy = (sw - canvas.width) // 2, (sh - canvas.height) // 2
    x, y, w, h = canvas.box
    region = resized[oy + y : oy + y + h, ox + x : ox + x + w]
    interp = cv2.INTER_AREA if w > width else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(region, (width, height), interpolation=interp))


def encode_png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("could not encode the picture as PNG")
    return buf.tobytes()


def encode_jpeg(image: np.ndarray, *, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the picture as JPEG")
    return buf.tobytes()
