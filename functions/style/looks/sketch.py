"""Pencil sketch: graphite contours from a colour-dodge of the photo, diagonal hatching that deepens to
cross-hatching in the shadows, on warm grained paper."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.focus import Focus
from functions.style.looks.ink import work_copy

DESCRIPTION = "Pencil sketch: graphite lines and cross-hatching on warm paper"

WORK_SIDE = 1280
PAPER = np.array([222, 236, 244], np.float32)  # warm off-white, BGR
GRAPHITE = np.array([58, 55, 52], np.float32)


def _strokes(*, height: int, width: int, angle: float, pitch: float, rng: np.random.Generator) -> np.ndarray:
    """Parallel pencil strokes (0..1) at `angle` degrees: lines `pitch` px apart whose pressure
    wanders along their length, as a hand-drawn hatch does."""
    # Noise stretched along the stroke direction gives each line its own uneven pressure.
    coarse = rng.random((height // 4 + 2, width // 4 + 2)).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    blur = max(3, int(pitch * 3)) | 1
    kernel = np.zeros((blur, blur), np.float32)
    c = blur // 2
    t = np.radians(angle)
    cv2.line(kernel, (round(c - c * np.cos(t)), round(c + c * np.sin(t))),
             (round(c + c * np.cos(t)), round(c - c * np.sin(t))), 1.0, 1)
    noise = cv2.filter2D(smooth, -1, kernel / kernel.sum())
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = (x * np.sin(t) + y * np.cos(t)) / pitch + noise * 0.8
    line = np.abs(phase - np.floor(phase) - 0.5) * 2.0  # 0 on a line, 1 between lines
    return np.clip((0.38 - line) / 0.25, 0, 1) * (0.55 + 0.45 * noise)


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    del focus  # graphite follows the photo's own light everywhere, so faces keep their shading as they are
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    work = work_copy(image=image, long_side=WORK_SIDE)
    wh, ww = work.shape[:2]
    gray = cv2.cvtColor(work, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
    side = max(wh, ww)

    # Colour dodge of the picture by its blurred negative: flat areas go white, edges stay as lines.
    blur = cv2.GaussianBlur(gray, (0, 0), side / 220)
    dodge = np.clip(gray / np.maximum(blur, 1e-3), 0, 1)
    lines = np.clip((1.0 - dodge) * 4.0, 0, 1) ** 1.2

    # Tone from a smoothed picture: hatching where it is mid-dark, cross-hatching where it is dark.
    tone = 1.0 - cv2.GaussianBlur(gray, (0, 0), side / 300)
    pitch = max(3.0, side / 200)
    hatch = _strokes(height=wh, width=ww, angle=35, pitch=pitch, rng=rng)
    cross = _strokes(height=wh, width=ww, angle=-50, pitch=pitch * 1.1, rng=rng)
    shading = hatch * np.clip((tone - 0.35) / 0.25, 0, 1) + cross * np.clip((tone - 0.6) / 0.2, 0, 1)
    shading += 0.18 * np.clip(tone - 0.2, 0, 1)  # soft graphite rubbed into the shadows

    graphite = np.clip(np.maximum(lines, 0.8 * shading), 0, 1)
    # Paper grain: the pencil catches on the paper's tooth, so marks break up a little.
    grain = cv2.GaussianBlur(rng.random((wh, ww)).astype(np.float32), (0, 0), 0.8)
    graphite *= 0.75 + 0.5 * grain
    graphite = np.clip(graphite, 0, 0.92)

    paper = PAPER * (0.97 + 0.06 * grain[..., None])
    out = paper * (1 - graphite[..., None]) + GRAPHITE * graphite[..., None]
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if (wh, ww) != (h, w):
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
    return out
