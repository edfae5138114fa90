"""Ghibli-like soft painting: texture flattened into soft painted shapes, a lifted, warm, slightly pastel
palette with lush greens and clear sky blues, a soft glow around the lights, and thin gentle line art."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.focus import Focus, soft_face_mask
from functions.style.looks.ink import crisp_edges, drop_specks, work_copy

DESCRIPTION = "Soft anime painting: lush greens, sky blues, warm light, gentle glow and thin line art"

WORK_SIDE = 896
TEXTURE_FLAT = 3.0
"""Local lightness spread (0..255) at or below which an area counts as smooth: sky, a plain wall."""
TEXTURE_BUSY = 10.0
"""Local lightness spread from which an area counts as fully busy: foliage, stonework, fabric."""
SKY_MIN_SHARE = 0.03
"""A sky covers at least this share of the picture."""
SKY_CALM = 0.6
"""A sky's mean busyness (0..1, see _texture) stays below this, however its clouds are drawn."""
CEL = 0.6
"""How far lightness moves toward its cel bands where the photo is busy (0: not at all, 1: all the way)."""
PAINT_RANGE = 0.45
"""Colour range (0..1) within which the edge-preserving filter merges neighbours into one painted shape."""


def _hue_adjust(hue: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hue shift (degrees) and saturation gain for hues in degrees (0..360): foliage is pulled toward a
    fresh yellow-green, skies toward a clear azure, and both made richer; other hues are left mostly
    alone. Smooth in the hue, so neighbouring pixels of one colour are moved alike."""

    def bump(centre: float, width: float) -> np.ndarray:
        d = np.abs(hue - centre)
        d = np.minimum(d, 360.0 - d)
        return np.exp(-((d / width) ** 2))

    green, sky, warm = bump(110, 36), bump(208, 28), bump(28, 20)
    shift = green * (104 - hue) * 0.45 + sky * (204 - hue) * 0.5
    gain = 1.0 + 0.6 * green + 0.5 * sky + 0.15 * warm
    return shift, gain


def _grade(image: np.ndarray) -> np.ndarray:
    """The painted palette, on a float BGR picture (0..1): greens and blues made lush, colours pastel,
    shadows lifted, the light warm. Computed in floating point: 8-bit hue and saturation of dark
    pixels are coarse, and rounding them streaks a night sky."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    shift, gain = _hue_adjust(hue)
    # The shift follows how colourful a pixel is: the hue of a grey-blue sky or a white wall is mostly
    # noise, and shifting it paints blotches.
    colourful = np.clip((sat - 0.08) / 0.24, 0.0, 1.0)
    hsv[..., 0] = np.mod(hue + shift * colourful, 360.0)
    s = sat * (1.0 + (gain - 1.0) * colourful)
    # Pastel: strong colours are reined in, dull ones lifted a little, nothing turns grey.
    hsv[..., 1] = np.clip(s * 0.9 + 0.063 * np.clip(s / 0.094, 0.0, 1.0), 0.0, 0.86)
    # Lifted shadows and a gentle highlight roll-off: the airy light of painted backgrounds.
    hsv[..., 2] = 0.12 + 0.86 * np.power(val, 0.78)
    warm = np.array([-10.0, 0.0, 9.0], np.float32) / 255.0  # warm sunlight: less blue, more red
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR).astype(np.float32) + warm
    return np.clip(out, 0.0, 1.0)


def _glow(image: np.ndarray) -> np.ndarray:
    """Soft bloom: bright areas bleed light into their surroundings (screen blend); float BGR 0..1."""
    lum = image.max(axis=2, keepdims=True)
    bright = image * np.clip((lum - 0.65) / 0.3, 0, 1)
    blur = cv2.GaussianBlur(bright, (0, 0), max(image.shape[:2]) / 70)
    return 1.0 - (1.0 - image) * (1.0 - 0.55 * blur)


def _texture(image: np.ndarray) -> np.ndarray:
    """How busy the photo is around each pixel (0 in a clear sky or on a plain wall, 1 in foliage or
    on a detailed facade): the local spread of its lightness, over a window about 1/80 of its size.

    Pixel noise and compression blocks are averaged away first (a noisy night sky is still a calm
    sky), and the result is smoothed, so what is drawn differently in busy areas fades in gently."""
    side = max(image.shape[:2])
    gray = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), 1.5)
    k = max(3, side // 80) | 1
    mean = cv2.blur(gray, (k, k))
    std = np.sqrt(np.maximum(cv2.blur(gray * gray, (k, k)) - mean * mean, 0.0))
    busy = np.clip((std - TEXTURE_FLAT) / (TEXTURE_BUSY - TEXTURE_FLAT), 0.0, 1.0).astype(np.float32)
    # A window straddling an outline is busy though both sides may be plain: the least busy window
    # around each pixel decides, so a plain backdrop stays plain right up to the figure against it
    # (else it is shaded differently there, and a halo shows).
    calmest = cv2.erode(busy, np.ones((k, k), np.uint8))
    return cv2.GaussianBlur(calmest, (0, 0), side / 200)


def _cel(image: np.ndarray, *, strength: np.ndarray, bands: int = 6, hold: float = 0.5) -> np.ndarray:
    """Soft cel shading of a float BGR picture (0..1): lightness gathers into a few flat bands with
    smooth steps between them, the way painted anime shades a form, as far as `strength` (0..1 per
    pixel) says; hue and saturation stay as they were."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2Lab)
    step = 100.0 / bands
    pos = lab[..., 0] / step
    base = np.floor(pos)
    t = np.clip((pos - base - hold / 2) / (1 - hold), 0, 1)
    banded = (base + t * t * (3 - 2 * t)) * step
    lab[..., 0] += (banded - lab[..., 0]) * (CEL * strength)
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2BGR), 0.0, 1.0)


def _sky(*, image: np.ndarray, busy: np.ndarray) -> np.ndarray:
    """Mask (float32 0..1) of the sky: a large sky-coloured area (blue, or grey to white, and lit) that
    reaches the top edge and is calm on the whole. Painters shade clouds, they do not outline them; a
    plain ceiling or backdrop that passes for sky goes unlined too, which suits it as well."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    coloured = (val >= 110) & (((hue >= 90) & (hue <= 130)) | (sat < 50))
    k = max(3, max(image.shape[:2]) // 150) | 1
    candidate = cv2.morphologyEx(coloured.astype(np.uint8), cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=4)
    calm = np.bincount(labels.ravel(), weights=busy.ravel(), minlength=n) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    sky = np.zeros(n, np.float32)
    sky[1:] = ((stats[1:, cv2.CC_STAT_TOP] == 0) & (stats[1:, cv2.CC_STAT_AREA] >= SKY_MIN_SHARE * candidate.size)
               & (calm[1:] < SKY_CALM)).astype(np.float32)
    # Pulled back from its border a little, so the horizon and rooflines against it keep their lines.
    return cv2.erode(sky[labels], np.ones((k, k), np.uint8))


def _line_art(*, smooth: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """Thin contour lines (0..1) where painted shapes meet, as far as `gate` (0..1) allows: never on a
    face, never in a smooth sky or on a plain wall, and only along edges long enough to be a shape."""
    gray = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 50, 130)
    edges[gate < 0.5] = 0
    edges = drop_specks(mask=edges, min_area=max(smooth.shape[:2]) // 16)
    lines = cv2.GaussianBlur(edges.astype(np.float32) / 255.0, (0, 0), 0.8) * 1.6
    return lines * gate


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    del seed  # nothing random: the painting follows the photo
    h, w = image.shape[:2]
    work = work_copy(image=image, long_side=WORK_SIDE)
    wh, ww = work.shape[:2]
    side = max(wh, ww)
    # Edge-preserving smoothing (domain transform): texture and grain flatten into painted shapes,
    # gradients such as a sky's stay smooth gradients, outlines stay sharp.
    smooth = cv2.edgePreservingFilter(work, flags=cv2.RECURS_FILTER, sigma_s=side / 40, sigma_r=PAINT_RANGE)
    face = soft_face_mask(focus=focus, height=wh, width=ww)
    busy = _texture(work)
    # Calm areas (a sky, a backdrop, deep shadow) are washed smooth in floating point: the filter's 8-bit
    # steps there would show as contour lines once the shadows are lifted.
    paint = smooth.astype(np.float32) / 255.0
    calm = (1.0 - busy)[..., None]
    paint = paint * (1.0 - calm) + cv2.GaussianBlur(paint, (0, 0), side / 300) * calm
    # Shapes are shaded in bands where the photo is busy; skies and faces keep their soft gradients.
    shaded = _cel(paint, strength=busy * (1.0 - face))
    painted: np.ndarray = np.clip(_glow(_grade(shaded)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    sky = _sky(image=work, busy=busy)
    lines = _line_art(smooth=smooth, gate=(1.0 - face) * (1.0 - sky) * crisp_edges(work))
    if painted.shape[:2] != (h, w):
        painted = cv2.resize(painted, (w, h), interpolation=cv2.INTER_CUBIC)
        # Lines are scaled on their own, as soft coverage, so they stay smooth strokes, not stairs.
        lines = cv2.resize(lines, (w, h), interpolation=cv2.INTER_LINEAR)
    # Line art in a dark warm brown at partial strength: drawn softly, not inked.
    ink_colour = np.array([38, 48, 72], np.float32)
    a = np.clip(lines * 0.7, 0, 0.55)[..., None]
    out = painted.astype(np.float32) * (1 - a) + ink_colour * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
