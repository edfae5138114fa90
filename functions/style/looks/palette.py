"""Colour tools the looks share: palettes from hex, Lab conversion, k-means on a subsample, and a fast
nearest-palette lookup through a precomputed colour cube."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

# 5 bits per channel: a 32³ cube is fine enough for palettes whose colours lie well apart (every look's
# do), and small enough (32 768 entries) to build in a few milliseconds, even for a per-photo palette.
_CUBE_BITS = 5


def bgr_from_hex(*colors: str) -> np.ndarray:
    """'#RRGGBB' strings → (N, 3) uint8 BGR."""
    rgb = [[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colors]
    return np.array(rgb, dtype=np.uint8)[:, ::-1].copy()


def lab_of(colors_bgr: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 BGR → (N, 3) float32 CIE Lab (L 0..100)."""
    pixels = colors_bgr.reshape(-1, 1, 3).astype(np.float32) / 255.0
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2Lab).reshape(-1, 3)


def bgr_of_lab(colors_lab: np.ndarray) -> np.ndarray:
    """(N, 3) float Lab → (N, 3) uint8 BGR."""
    bgr = cv2.cvtColor(colors_lab.reshape(-1, 1, 3).astype(np.float32), cv2.COLOR_Lab2BGR)
    return np.clip(bgr.reshape(-1, 3) * 255.0 + 0.5, 0, 255).astype(np.uint8)


@lru_cache(maxsize=32)
def _cube(palette_bytes: bytes, weights: tuple[float, float, float]) -> np.ndarray:
    palette = np.frombuffer(palette_bytes, dtype=np.uint8).reshape(-1, 3)
    levels = (np.arange(1 << _CUBE_BITS, dtype=np.float32) + 0.5) * (256.0 / (1 << _CUBE_BITS))
    b, g, r = np.meshgrid(levels, levels, levels, indexing="ij")
    grid = np.stack([b, g, r], axis=-1).reshape(-1, 1, 3) / 255.0
    grid_lab = cv2.cvtColor(grid.astype(np.float32), cv2.COLOR_BGR2Lab).reshape(-1, 3)
    w = np.array(weights, dtype=np.float32)
    pal_lab = lab_of(palette) * w
    grid_lab = grid_lab * w
    # |x - p|² = |x|² - 2 x·p + |p|²; |x|² is the same for every p so it drops out of the argmin.
    scores = grid_lab @ pal_lab.T * -2.0 + (pal_lab**2).sum(axis=1)
    nearest = scores.argmin(axis=1).astype(np.uint8)
    nearest.setflags(write=False)  # shared by every caller through the cache
    return nearest


def nearest_index(
    *, image: np.ndarray, palette: np.ndarray, weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
) -> np.ndarray:
    """Index (uint8, image's height × width) of the perceptually nearest palette colour of each pixel.

    `weights` scale L, a and b before measuring distance: a look that cares more about hue than about
    lightness lowers the first."""
    if len(palette) > 256:
        raise ValueError("a palette holds at most 256 colours")
    cube = _cube(np.ascontiguousarray(palette, dtype=np.uint8).tobytes(), weights)
    shift = 8 - _CUBE_BITS
    q = (image >> shift).astype(np.int32)
    flat = (q[..., 0] << (2 * _CUBE_BITS)) | (q[..., 1] << _CUBE_BITS) | q[..., 2]
    return cube[flat]


def kmeans_lab(*, image: np.ndarray, k: int, seed: int, samples: int = 12_000, iterations: int = 12) -> np.ndarray:
    """k representative colours (BGR uint8) of `image`: k-means in Lab on a seeded subsample.

    A subsample is enough to find where the colours are; every pixel is then assigned with
    `nearest_index`, which is what keeps this fast on large pictures."""
    rng = np.random.default_rng(seed)
    flat = image.reshape(-1, 3)
    pick = rng.choice(len(flat), size=min(samples, len(flat)), replace=False)
    pick.sort()
    data = lab_of(flat[pick])
    # k-means++ seeding, seeded: the same picture and seed always give the same palette.
    centres = [data[rng.integers(len(data))]]
    d2 = ((data - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = float(d2.sum())
        if total <= 0:
            break
        nxt = data[rng.choice(len(data), p=d2 / total)]
        centres.append(nxt)
        d2 = np.minimum(d2, ((data - nxt) ** 2).sum(axis=1))
    c = np.array(centres, dtype=np.float32)
    for _ in range(iterations):
        labels = (((data[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)).argmin(axis=1)
        counts = np.bincount(labels, minlength=len(c)).astype(np.float32)
        sums = np.zeros_like(c)
        np.add.at(sums, labels, data)
        keep = counts > 0
        c[keep] = sums[keep] / counts[keep, None]
    return bgr_of_lab(c)
