"""The first frame a video model animates: the styled picture framed for the output, in the model's shape.

The picture is framed the way the local renderer would (cover-fit around the scene's focus, or the
whole picture over a blurred fill when cover would cut the subject). When the model cannot return the
output's shape (Veo and Sora have no 1:1), that frame is centred on a canvas of the model's shape over a
blurred fill: compose's centre crop then gives back exactly the framed picture."""

from __future__ import annotations

import cv2
import numpy as np

from functions.clips.providers.video_models import ratio_value
from shared.models.base import Box
from shared.models.plan import Framing, Scene


def _blurred_cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    big = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))),
                     interpolation=cv2.INTER_AREA)
    y, x = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    crop = big[y : y + height, x : x + width]
    small = cv2.resize(crop, (max(1, width // 16), max(1, height // 16)), interpolation=cv2.INTER_AREA)
    fill = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(fill, (0, 0), sigmaX=max(2.0, width / 80))


def _contain(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The whole picture inside width x height over a blurred copy of itself."""
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    pw, ph = max(1, round(w * scale)), max(1, round(h * scale))
    out = _blurred_cover(image, width, height)
    x, y = (width - pw) // 2, (height - ph) // 2
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    out[y : y + ph, x : x + pw] = cv2.resize(image, (pw, ph), interpolation=interp)
    return out


def _cover(image: np.ndarray, *, focus: Box, width: int, height: int) -> np.ndarray:
    """The largest region of the output's shape, centred on the focus as far as the picture allows."""
    h, w = image.shape[:2]
    r = width / height
    cw, ch = (w, w / r) if w / h <= r else (h * r, h)
    cx = min(max(focus.cx * w, cw / 2), w - cw / 2)
    cy = min(max(focus.cy * h, ch / 2), h - ch / 2)
    x0, y0 = round(cx - cw / 2), round(cy - ch / 2)
    region = image[y0 : y0 + round(ch), x0 : x0 + round(cw)]
    interp = cv2.INTER_AREA if region.shape[1] > width else cv2.INTER_CUBIC
    return cv2.resize(region, (width, height), interpolation=interp)


def frame_for_model(
    *, image: np.ndarray, scene: Scene, output_aspect: str, model_aspect: str, size: tuple[int, int]
) -> np.ndarray:
    """The first frame at `size` (the model's shape and resolution)."""
    width, height = size
    out_r = ratio_value(output_aspect)
    model_r = width / height
    # The output-shaped frame, as large as it can be inside the model's canvas.
    if abs(out_r - model_r) / model_r < 0.01:
        fw, fh = width, height
    elif out_r > model_r:
        fw, fh = width, round(width / out_r)
    else:
        fw, fh = round(height * out_r), height
    if scene.framing == Framing.blurred_fill:
        framed = _contain(image, fw, fh)
    else:
        framed = _cover(image, focus=scene.focus, width=fw, height=fh)
    if (fw, fh) == (width, height):
        return framed
    canvas = _blurred_cover(framed, width, height)
    x, y = (width - fw) // 2, (height - fh) // 2
    canvas[y : y + fh, x : x + fw] = framed
    return canvas


def jpeg(image: np.ndarray, *, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the first frame")
    return buf.tobytes()

