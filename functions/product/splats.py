"""The CPU preview renderer: the COLMAP sparse points drawn as depth-sorted discs, with alpha.

Without a GPU there is no NeRF or Gaussian splatting to train, but the sparse cloud already holds the
object's shape and colours. Each point becomes a disc whose world size is its spacing to its neighbours
(so the discs close the surface without bleeding far past it), projected with the orbit camera and
painted far to near (painter's algorithm). Pixels no disc covers stay transparent. The discs' own
colours are one per point; with the photos at hand, the covered pixels take their colour from the
photos instead (texture.py), so the surface shows the object's real texture while the discs give its
shape and alpha. Its silhouette is still the discs': every frame carries a small "PREVIEW" mark so
nobody mistakes it for the final render.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from functions.product.texture import SourceViews, smooth_depth, texture_pixels
from shared.models.product import Intrinsics

PREVIEW_LABEL = "PREVIEW"


@dataclass(frozen=True)
class SplatCloud:
    """Points of the object (world frame), their colours (RGB uint8) and disc radii (world units)."""

    xyz: np.ndarray
    rgb: np.ndarray
    radius: np.ndarray

    def __len__(self) -> int:
        return len(self.xyz)


def object_cloud(
    *,
    points: np.ndarray,
    colors: np.ndarray,
    seen_by: np.ndarray,
    centre: np.ndarray,
    crop_radius: float,
    min_seen: int = 3,
    neighbours: int = 4,
    drop_plane: bool = True,
) -> SplatCloud:
    """The points of the object: within `crop_radius` of `centre`, seen by at least `min_seen` photos
    (points seen by two are mostly noise). Disc radius: the mean distance to the `neighbours` nearest
    points, capped at the 95th percentile so an isolated stray point does not become a blot. With
    `drop_plane`, the table or wall the object stands on or hangs from is left out (see `support_plane`)."""
    from scipy.spatial import cKDTree

    xyz = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    rgb = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    seen = np.asarray(seen_by).reshape(-1)
    keep = (seen >= min_seen) & (np.linalg.norm(xyz - np.asarray(centre, dtype=np.float64), axis=1) <= crop_radius)
    keep &= np.all(np.isfinite(xyz), axis=1)
    xyz, rgb = xyz[keep], rgb[keep]
    if len(xyz) <= neighbours:
        return SplatCloud(xyz=xyz, rgb=rgb, radius=np.full(len(xyz), 0.02 * crop_radius))
    dist, _ = cKDTree(xyz).query(xyz, k=neighbours + 1)
    spacing = dist[:, 1:].mean(axis=1)
    if drop_plane:
        off = support_plane(xyz=xyz, centre=np.asarray(centre, dtype=np.float64), crop_radius=crop_radius,
                            tolerance=2.0 * float(np.median(spacing)))
        if off is not None:
            xyz, rgb, spacing = xyz[off], rgb[off], spacing[off]
    radius = np.clip(spacing, np.quantile(spacing, 0.05), np.quantile(spacing, 0.95))
    return SplatCloud(xyz=xyz, rgb=rgb, radius=radius)


def support_plane(*, xyz: np.ndarray, centre: np.ndarray, crop_radius: float, tolerance: float,
                  min_share: float = 0.2, iterations: int = 300) -> np.ndarray | None:
    """The points off the table or wall the product stands on or hangs from (a mask), or None to keep all.

    Textured surfaces around a product give COLMAP most of its points; drawn as splats they become a
    disc of table under the object. The dominant plane (RANSAC, deterministic) is that surface when it
    holds at least `min_share` of the points and the object centre lies clearly off it (a flat object,
    a book on a table, lies in it: then nothing is dropped)."""
    if len(xyz) < 30:
        return None
    rng = np.random.default_rng(0)
    best_count, best = 0, None
    for _ in range(iterations):
        a, b, c = xyz[rng.choice(len(xyz), 3, replace=False)]
        normal = np.cross(b - a, c - a)
        norm = np.linalg.norm(normal)
        if norm < 1e-12:
            continue
        normal /= norm
        count = int(np.count_nonzero(np.abs((xyz - a) @ normal) < tolerance))
        if count > best_count:
            best_count, best = count, (normal, a)
    if best is None or best_count < min_share * len(xyz):
        return None
    normal, origin = best
    if abs(float((centre - origin) @ normal)) < 0.1 * crop_radius:
        return None
    off = np.abs((xyz - origin) @ normal) >= tolerance
    return off if np.count_nonzero(off) >= 30 else None


def render_splats(
    *,
    cloud: SplatCloud,
    cam_to_world: np.ndarray,
    intrinsics: Intrinsics,
    disc_scale: float = 0.75,
    max_radius_px: int = 60,
    label: bool = True,
    texture: SourceViews | None = None,
) -> np.ndarray:
    """One RGBA frame (H, W, 4 uint8) of `cloud` seen by the camera (`cam_to_world`, OpenCV axes). With
    `texture`, the discs give shape and alpha and the photos give the colour (see texture.py)."""
    w, h = intrinsics.width, intrinsics.height
    frame = np.zeros((h, w, 4), np.uint8)
    if len(cloud):
        w2c = np.linalg.inv(np.asarray(cam_to_world, dtype=np.float64))
        cam = cloud.xyz @ w2c[:3, :3].T + w2c[:3, 3]
        z = cam[:, 2]
        front = z > 1e-6
        cam, z = cam[front], z[front]
        u = intrinsics.fx * cam[:, 0] / z + intrinsics.cx
        v = intrinsics.fy * cam[:, 1] / z + intrinsics.cy
        r = np.clip(disc_scale * intrinsics.fx * cloud.radius[front] / z, 1.0, max_radius_px)
        inside = (u + r >= 0) & (u - r < w) & (v + r >= 0) & (v - r < h)
        order = np.argsort(-z[inside], kind="stable")  # far first: near discs paint over them
        # cv2 draws at integer pixels; 4 fractional bits keep the disc centres sub-pixel exact
        shift = 4
        uu = np.round(u[inside][order] * (1 << shift)).astype(np.int64)
        vv = np.round(v[inside][order] * (1 << shift)).astype(np.int64)
        rr = np.round(r[inside][order] * (1 << shift)).astype(np.int64)
        colours = cloud.rgb[front][inside][order]
        depths = z[inside][order]
        depth = np.full((h, w), np.inf, np.float32)
        for x, y, rad, (cr, cg, cb), d in zip(uu.tolist(), vv.tolist(), rr.tolist(), colours.tolist(),
                                              depths.tolist(), strict=True):
            cv2.circle(frame, (x, y), rad, (cr, cg, cb, 255), thickness=-1, lineType=cv2.LINE_8, shift=shift)
            cv2.circle(depth, (x, y), rad, d, thickness=-1, lineType=cv2.LINE_8, shift=shift)
        rows, cols = np.nonzero(frame[:, :, 3].any(axis=1))[0], np.nonzero(frame[:, :, 3].any(axis=0))[0]
        if len(rows):
            size = int(np.clip(2 * float(np.median(r[inside])), 3, 15))
            # the object's bounding box, with room for the filters: the empty rest of the frame needs no work
            pad = 2 * size + 2
            y0, y1 = max(0, rows[0] - pad), min(h, rows[-1] + pad + 1)
            x0, x1 = max(0, cols[0] - pad), min(w, cols[-1] + pad + 1)
            box = frame[y0:y1, x0:x1]
            if texture is not None:
                _paint_from_photos(box, depth=depth[y0:y1, x0:x1], origin=(x0, y0), cam_to_world=cam_to_world,
                                   intrinsics=intrinsics, views=texture, sigma=max(1.0, float(np.median(r[inside]))))
            _close_pinholes(box, depth=depth[y0:y1, x0:x1], tolerance=3.0 * float(np.median(cloud.radius)),
                            size=size)
            _soften_edges(box)
    if label:
        draw_preview_label(frame)
    return frame


def _paint_from_photos(frame: np.ndarray, *, depth: np.ndarray, origin: tuple[int, int], cam_to_world: np.ndarray,
                       intrinsics: Intrinsics, views: SourceViews, sigma: float) -> None:
    """Recolour the covered pixels of `frame` (a box of the whole frame at `origin`) from the photos, in
    place; a pixel no chosen photo sees keeps its disc's colour."""
    covered = (frame[:, :, 3] > 0) & np.isfinite(depth)
    if not covered.any():
        return
    smooth = smooth_depth(np.where(covered, depth, 0.0).astype(np.float32), covered=covered, sigma=sigma)
    rows, cols = np.nonzero(covered)
    texel = texture_pixels(rows=rows + origin[1], cols=cols + origin[0],
                                 depth=smooth[rows, cols].astype(np.float64), cam_to_world=cam_to_world,
                                 intrinsics=intrinsics, views=views)
    seen = texel.weight > 0.5
    frame[rows[seen], cols[seen], :3] = np.clip(texel.colour[seen], 0, 255).round().astype(np.uint8)


def _close_pinholes(frame: np.ndarray, *, depth: np.ndarray, tolerance: float, size: int) -> None:
    """Where the discs of the near surface leave a gap, the far side of the object (or nothing) shows
    through: find those pixels (empty inside the closed silhouette, or much deeper than the nearest surface
    around them) and fill them with the mean colour of the near surface around them, in place."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size | 1, size | 1))
    occupied = frame[:, :, 3] > 0
    nearest = cv2.erode(depth, kernel)
    leak = occupied & (depth > nearest + tolerance)
    closed = cv2.morphologyEx(occupied.view(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
    bad = leak | (closed & ~occupied)
    if not bad.any():
        return
    good = (occupied & ~leak).astype(np.float32)
    window = (2 * size + 1, 2 * size + 1)
    weight = cv2.blur(good, window)
    colour = cv2.blur(frame[:, :, :3].astype(np.float32) * good[..., None], window)
    fillable = bad & (weight > 1e-3)
    frame[fillable, :3] = np.clip(colour[fillable] / weight[fillable][:, None], 0, 255).astype(np.uint8)
    frame[fillable, 3] = 255


def _soften_edges(frame: np.ndarray) -> None:
    """Anti-aliased silhouette, in place: a light blur of alpha; the pixels just outside the discs that it
    makes partly opaque take their neighbours' colour (straight alpha: no dark fringe)."""
    alpha = frame[:, :, 3].copy()
    soft = cv2.GaussianBlur(alpha, (3, 3), 0.6)
    fringe = (soft > 0) & (alpha == 0)
    if fringe.any():
        spread = cv2.dilate(np.ascontiguousarray(frame[:, :, :3]), np.ones((3, 3), np.uint8))
        frame[fringe, :3] = spread[fringe]
    frame[:, :, 3] = soft


def draw_preview_label(frame: np.ndarray, *, opacity: float = 0.9) -> None:
    """A small "PREVIEW" mark in the bottom-right corner: white letters on a dark outline, composited over
    the frame with straight alpha (so it reads over the object and over a transparent background alike)."""
    h, w = frame.shape[:2]
    scale = max(0.35, min(w, h) / 1400)
    thick = max(1, round(2 * scale))
    (tw, th), base = cv2.getTextSize(PREVIEW_LABEL, cv2.FONT_HERSHEY_SIMPLEX, scale, thick + 2)
    margin = max(4, round(0.02 * min(w, h)))
    x0, y0 = max(0, w - tw - 2 * margin), max(0, h - th - base - 2 * margin)
    region = frame[y0:, x0:]
    org = (w - tw - margin - x0, h - margin - base - y0)
    for colour, weight in (((20, 20, 20), thick + 2), ((255, 255, 255), thick)):
        cover = np.zeros(region.shape[:2], np.uint8)
        cv2.putText(cover, PREVIEW_LABEL, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, weight, cv2.LINE_AA)
        _over(region, colour=colour, alpha=cover.astype(np.float32) * (opacity / 255.0))


def _over(dest: np.ndarray, *, colour: tuple[int, int, int], alpha: np.ndarray) -> None:
    """Paint `colour` with per-pixel `alpha` (0..1) over the straight-alpha RGBA `dest`, in place."""
    a_dst = dest[:, :, 3].astype(np.float32) / 255.0
    a_out = alpha + a_dst * (1.0 - alpha)
    src = np.asarray(colour, np.float32)
    rgb = (src * alpha[..., None] + dest[:, :, :3].astype(np.float32) * (a_dst * (1.0 - alpha))[..., None])
    rgb /= np.maximum(a_out, 1e-6)[..., None]
    dest[:, :, :3] = np.clip(rgb, 0, 255).round().astype(np.uint8)
    dest[:, :, 3] = np.clip(a_out * 255.0, 0, 255).round().astype(np.uint8)
