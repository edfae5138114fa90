"""Working resolution, smoothing and ink lines shared by the drawn looks (cartoon, comic, painting)."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.palette import lab_of


def work_copy(*, image: np.ndarray, long_side: int) -> np.ndarray:
    """The picture with its long side at most `long_side`: drawn looks are computed there, then scaled
    back up, which keeps a 2048-px photo to well under a second and the strokes the same size."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def flatten(*, image: np.ndarray, passes: int, sigma_color: float, diameter: int = 9) -> np.ndarray:
    """Edge-preserving smoothing: repeated bilateral filtering flattens texture, keeps outlines."""
    out = image
    for _ in range(passes):
        out = cv2.bilateralFilter(out, diameter, sigma_color, diameter / 2)
    return out


def region_borders(*, index: np.ndarray, palette: np.ndarray, min_delta_e: float) -> np.ndarray:
    """Mask (bool) of pixels where the palette region changes to a clearly different colour.

    Borders between two shades of one colour (ΔE below `min_delta_e`) are left out: a cartoonist
    inks objects, not shading bands."""
    lab = lab_of(palette)
    delta = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=-1))
    strong = delta >= min_delta_e
    mask = np.zeros(index.shape, bool)
    mask[:, 1:] |= strong[index[:, 1:], index[:, :-1]]
    mask[1:, :] |= strong[index[1:, :], index[:-1, :]]
    return mask


def thicken(*, mask: np.ndarray, width: int) -> np.ndarray:
    """Grow a one-pixel line mask to about `width` pixels with a round brush (uint8 0/255)."""
    m = mask.astype(np.uint8) * 255
    if width <= 1:
        return m
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.dilate(m, brush)


def drop_specks(*, mask: np.ndarray, min_area: int) -> np.ndarray:
    """Remove line fragments smaller than `min_area` pixels: they read as dirt, not ink."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(n, np.uint8)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= min_area).astype(np.uint8) * 255
    return keep[labels]


def upscale_mask(*, mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 0/255 line mask scaled to full size as float coverage 0..1, anti-aliased."""
    m = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    # Sharpen the soft bilinear ramp back to a crisp, slightly anti-aliased stroke.
    return np.clip((m - 0.5) * 3.0 + 0.5, 0.0, 1.0)


def ink(*, image: np.ndarray, coverage: np.ndarray, colour: tuple[int, ...] = (20, 20, 20)) -> np.ndarray:
    """Lay ink of `colour` (BGR) over `image` where `coverage` (float32 0..1) says."""
    cover = np.ascontiguousarray(coverage, dtype=np.float32)
    solid = np.empty_like(image)
    solid[...] = colour
    return cv2.blendLinear(solid, image, cover, 1.0 - cover)
