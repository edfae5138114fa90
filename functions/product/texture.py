"""Colour for the CPU preview from the photos themselves (projective texturing).

The sparse cloud gives the preview its shape and alpha, but a few hundred points coloured one each look
like confetti. Every pixel the discs cover has a depth, so it is a point on the object's surface; seen
from the orbit camera, that point is also in the photos taken from nearby directions. Its colour comes
from the two photos whose viewpoints are closest to the orbit camera's (around the object's centre),
blended by how close each is, so the texture is the photos' own and changes smoothly as the turntable
turns. The disc depths are smoothed first: a flat disc per point would make the texture jump at every
disc's edge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from shared.models.product import Intrinsics

SOURCES_PER_PIXEL = 2
"""Photos blended per frame: the two nearest viewpoints (one alone would snap from photo to photo)."""


@dataclass
class SourceViews:
    """The registered photos: their cameras (OpenCV camera-to-world, intrinsics of the stored image) and
    a loader giving each photo as RGB uint8 at that size; photos are loaded when first needed."""

    cam_to_world: Sequence[np.ndarray]
    intrinsics: Sequence[Intrinsics]
    load: Callable[[int], np.ndarray]
    centre: np.ndarray
    _cache: dict[int, tuple[np.ndarray, Intrinsics]] = field(default_factory=dict, repr=False)

    def photo(self, index: int) -> tuple[np.ndarray, Intrinsics]:
        """Photo `index` and its intrinsics scaled to the pixels it was loaded at."""
        if index not in self._cache:
            image = self.load(index)
            intr = self.intrinsics[index]
            self._cache[index] = (image, intr.scaled(factor=image.shape[1] / intr.width))
        return self._cache[index]

    def nearest(self, *, cam_to_world: np.ndarray, count: int = SOURCES_PER_PIXEL) -> list[tuple[int, float]]:
        """The `count` photos taken from the directions closest to this camera's (seen from the object's
        centre), with blend weights that sum to 1 and favour the closer."""
        def direction(c2w: np.ndarray) -> np.ndarray:
            d = np.asarray(c2w, dtype=np.float64)[:3, 3] - self.centre
            return d / max(float(np.linalg.norm(d)), 1e-12)

        want = direction(cam_to_world)
        angles = np.array([np.arccos(np.clip(direction(c) @ want, -1.0, 1.0)) for c in self.cam_to_world])
        order = np.argsort(angles)[:count]
        closeness = 1.0 / (angles[order] + 1e-3)
        weights = closeness / closeness.sum()
        return [(int(i), float(w)) for i, w in zip(order, weights, strict=True)]


def smooth_depth(depth: np.ndarray, *, covered: np.ndarray, sigma: float) -> np.ndarray:
    """The covered pixels' depth, blurred over covered pixels only (normalised convolution): the disc
    steps go, the silhouette's depth does not leak into the empty background."""
    weight = covered.astype(np.float32)
    values = np.where(covered, depth, 0.0).astype(np.float32)
    blurred = cv2.GaussianBlur(values, (0, 0), sigma)
    norm = cv2.GaussianBlur(weight, (0, 0), sigma)
    return np.where(covered, blurred / np.maximum(norm, 1e-6), depth).astype(np.float32)


class Texel:
    """What the photos say about some pixels: their colour (N, 3 float) and the share of blend weight the
    photos could give (a point outside every chosen photo gets 0)."""

    def __init__(self, *, colour: np.ndarray, weight: np.ndarray) -> None:
        self.colour = colour
        self.weight = weight


def texture_pixels(
    *,
    rows: np.ndarray,
    cols: np.ndarray,
    depth: np.ndarray,
    cam_to_world: np.ndarray,
    intrinsics: Intrinsics,
    views: SourceViews,
) -> Texel:
    """The photos' view of the pixels (rows, cols) at camera depths `depth` of the orbit camera."""
    c2w = np.asarray(cam_to_world, dtype=np.float64)
    cam = np.stack([(cols - intrinsics.cx) / intrinsics.fx * depth, (rows - intrinsics.cy) / intrinsics.fy * depth,
                    depth], axis=1)
    world = cam @ c2w[:3, :3].T + c2w[:3, 3]
    colour = np.zeros((len(rows), 3), np.float64)
    got = np.zeros(len(rows), np.float64)
    for index, weight in views.nearest(cam_to_world=c2w):
        image, intr = views.photo(index)
        w2c = np.linalg.inv(np.asarray(views.cam_to_world[index], dtype=np.float64))
        p = world @ w2c[:3, :3].T + w2c[:3, 3]
        ahead = p[:, 2] > 1e-9
        z = np.where(ahead, p[:, 2], 1.0)
        u = intr.fx * p[:, 0] / z + intr.cx
        v = intr.fy * p[:, 1] / z + intr.cy
        inside = ahead & (u >= 0) & (v >= 0) & (u <= image.shape[1] - 1) & (v <= image.shape[0] - 1)
        if not inside.any():
            continue
        sampled = _sample(image, u=u[inside], v=v[inside])
        colour[inside] += weight * sampled
        got[inside] += weight
    return Texel(colour=colour / np.maximum(got, 1e-9)[:, None], weight=got)


REMAP_ROW = 1024
"""cv2.remap wants maps under 32767 on a side: the points are sampled as rows of this many."""


def _sample(image: np.ndarray, *, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Bilinear samples (N, 3 float) of `image` at pixel coordinates (u, v)."""
    n = len(u)
    rows = -(-n // REMAP_ROW)
    map_x = np.zeros(rows * REMAP_ROW, np.float32)
    map_y = np.zeros(rows * REMAP_ROW, np.float32)
    map_x[:n], map_y[:n] = u, v
    out = cv2.remap(image, map_x.reshape(rows, REMAP_ROW), map_y.reshape(rows, REMAP_ROW),
                    interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out.reshape(-1, 3)[:n].astype(np.float64)
