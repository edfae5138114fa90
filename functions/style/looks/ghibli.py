"""Ghibli-like soft painting: texture flattened into soft painted shapes, a lifted, warm, slightly pastel
palette with lush greens and clear sky blues, a soft glow around the lights, and thin gentle line art."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from functions.style.looks.ink import drop_specks, flatten, work_copy

DESCRIPTION = "Soft anime painting: lush greens, sky blues, warm light, gentle glow and thin line art"

WORK_SIDE = 896


@lru_cache(maxsize=1)
def _hue_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per-hue (OpenCV 0..179) hue shift and saturation gain: foliage is pulled toward a fresh
    yellow-green, skies toward a clear azure, and both made richer; other hues are left mostly alone."""
    h = np.arange(180, dtype=np.float32)

    def bump(centre: float, width: float) -> np.ndarray:
        d = np.minimum(np.abs(h - centre), 180 - np.abs(h - centre))
        return np.exp(-((d / width) ** 2))

    green, sky, warm = bump(55, 18), bump(104, 14), bump(14, 10)
    shift = green * (52 - h) * 0.45 + sky * (102 - h) * 0.5
    gain = 1.0 + 0.6 * green + 0.5 * sky + 0.15 * warm
    return shift.astype(np.float32), gain.astype(np.float32)


def _grade(image: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.float32)
    hue = hsv[..., 0].astype(np.int32)
    shift, gain = _hue_tables()
    hsv[..., 0] = np.mod(hsv[..., 0] + shift[hue], 180)
    s = hsv[..., 1] * gain[hue]
    # Pastel: strong colours are reined in, dull ones lifted a little, nothing turns grey.
    hsv[..., 1] = np.clip(s * 0.9 + 16 * (s > 24), 0, 220)
    # Lifted shadows and a gentle highlight roll-off: the airy light of painted backgrounds.
    v = hsv[..., 2] / 255.0
    hsv[..., 2] = (0.12 + 0.86 * np.power(v, 0.78)) * 255.0
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    out += np.array([-10.0, 0.0, 9.0], np.float32)  # warm sunlight: less blue, more red
    return np.clip(out, 0, 255).astype(np.uint8)


def _glow(image: np.ndarray) -> np.ndarray:
    """Soft bloom: bright areas bleed light into their surroundings (screen blend)."""
    f = image.astype(np.float32) / 255.0
    lum = f.max(axis=2, keepdims=True)
    bright = f * np.clip((lum - 0.65) / 0.3, 0, 1)
    blur = cv2.GaussianBlur(bright, (0, 0), max(image.shape[:2]) / 70)
    out = 1.0 - (1.0 - f) * (1.0 - 0.55 * blur)
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _cel(image: np.ndarray, *, bands: int = 7, hold: float = 0.6) -> np.ndarray:
    """Soft cel shading: lightness gathers into a few flat bands with smooth steps between them,
    the way painted anime shades a form, while hue and saturation stay as they were."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2Lab).astype(np.float32)
    step = 255.0 / bands
    pos = lab[..., 0] / step
    base = np.floor(pos)
    t = np.clip((pos - base - hold / 2) / (1 - hold), 0, 1)
    banded = (base + t * t * (3 - 2 * t)) * step
    lab[..., 0] = 0.45 * lab[..., 0] + 0.55 * banded
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2BGR)


def _line_art(smooth: np.ndarray) -> np.ndarray:
    """Thin contour lines (0..1) where the painted shapes meet, without the texture's noise."""
    gray = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 60, 150)
    edges = drop_specks(mask=edges, min_area=max(smooth.shape[:2]) // 20)
    return cv2.GaussianBlur(edges.astype(np.float32) / 255.0, (0, 0), 0.8) * 1.6


def render(*, image: np.ndarray, seed: int) -> np.ndarray:
    del seed  # nothing random: the painting follows the photo
    h, w = image.shape[:2]
    work = work_copy(image=image, long_side=WORK_SIDE)
    smooth = flatten(image=work, passes=5, sigma_color=26, diameter=9)
    smooth = cv2.medianBlur(smooth, 5)  # rounds off the remaining grain into soft strokes
    painted = _glow(_grade(_cel(smooth)))
    lines = _line_art(smooth)
    if painted.shape[:2] != (h, w):
        painted = cv2.resize(painted, (w, h), interpolation=cv2.INTER_CUBIC)
        # Lines are scaled on their own, as soft coverage, so they stay smooth strokes, not stairs.
        lines = cv2.resize(lines, (w, h), interpolation=cv2.INTER_LINEAR)
    # Line art in a dark warm brown at partial strength: drawn softly, not inked.
    ink_colour = np.array([38, 48, 72], np.float32)
    a = np.clip(lines * 0.7, 0, 0.55)[..., None]
    out = painted.astype(np.float32) * (1 - a) + ink_colour * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
