"""The preview's colour comes from the photos: a sphere whose points are all one grey, photographed (ray
traced by the test) with a pattern only the photos show, must come out with that pattern on it."""

from __future__ import annotations

import numpy as np

from functions.product.orbit import look_at
from functions.product.splats import object_cloud, render_splats
from functions.product.texture import SourceViews, smooth_depth
from shared.models.product import Intrinsics
from tests.functions.product.test_product_splats import INTR, SIZE, UP, sphere

PHOTO = Intrinsics(fx=600.0, fy=600.0, cx=240.0, cy=240.0, width=480, height=480)


def pattern(points: np.ndarray) -> np.ndarray:
    """The sphere's true colours: eight longitude stripes, alternately orange and teal."""
    stripe = (np.floor((np.arctan2(points[:, 1], points[:, 0]) + np.pi) / (np.pi / 4)).astype(int)) % 2
    return np.where(stripe[:, None] == 0, [[240, 140, 20]], [[20, 160, 170]]).astype(np.uint8)


def ray_trace(cam_to_world: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """The unit sphere with its true colours, seen by the camera: RGBA, the background transparent black."""
    yy, xx = np.mgrid[:intrinsics.height, :intrinsics.width].astype(np.float64)
    rays = np.stack([(xx - intrinsics.cx) / intrinsics.fx, (yy - intrinsics.cy) / intrinsics.fy, np.ones_like(xx)],
                    axis=-1)
    rays = rays @ cam_to_world[:3, :3].T
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    origin = cam_to_world[:3, 3]
    b = rays @ origin
    disc = b**2 - (origin @ origin - 1.0)
    hit = disc > 0
    t = -b - np.sqrt(np.where(hit, disc, 0.0))
    out = np.zeros((intrinsics.height, intrinsics.width, 4), np.uint8)
    out[hit, :3] = pattern(origin + t[hit][:, None] * rays[hit])
    out[hit, 3] = 255
    return out


def photograph(cam_to_world: np.ndarray) -> np.ndarray:
    """A photo of the sphere: RGB, the background black."""
    return np.ascontiguousarray(ray_trace(cam_to_world, PHOTO)[:, :, :3])


def test_the_photos_paint_the_preview_and_the_splat_colours_do_not() -> None:
    xyz, _ = sphere(4000)
    grey = np.full((len(xyz), 3), 128, np.uint8)
    cloud = object_cloud(points=xyz, colors=grey, seen_by=np.full(len(xyz), 5), centre=np.zeros(3), crop_radius=2)
    # Photos from every 30° around the sphere, at the orbit's height; the frame is rendered between two.
    angles = np.radians(np.arange(0, 360, 30))
    cams = [look_at(eye=4 * np.array([np.sin(a), -np.cos(a), 0.0]), target=np.zeros(3), up=UP) for a in angles]
    views = SourceViews(cam_to_world=cams, intrinsics=[PHOTO] * len(cams), load=lambda i: photograph(cams[i]),
                        centre=np.zeros(3))
    between = look_at(eye=4 * np.array([np.sin(np.radians(15)), -np.cos(np.radians(15)), 0.0]), target=np.zeros(3),
                      up=UP)
    frame = render_splats(cloud=cloud, cam_to_world=between, intrinsics=INTR, label=False, texture=views)
    plain = render_splats(cloud=cloud, cam_to_world=between, intrinsics=INTR, label=False)

    truth = ray_trace(between, INTR)
    inner = (frame[:, :, 3] == 255) & (truth[:, :, 3] == 255)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    inner &= np.hypot(xx - SIZE / 2, yy - SIZE / 2) < 100  # away from the silhouette's soft edge
    error = np.abs(frame[inner, :3].astype(int) - truth[inner, :3].astype(int)).mean(axis=1)
    # The discs' depth is approximate, so the stripes' edges blur a little; their bodies are right.
    assert np.mean(error < 40) > 0.8 and np.median(error) < 15, "the stripes of the photos are where they belong"
    grey_error = np.abs(plain[inner, :3].astype(int) - truth[inner, :3].astype(int)).mean(axis=1)
    assert np.mean(grey_error < 40) < 0.1, "without the photos the sphere is grey (the check can fail)"
    assert np.array_equal(frame[:, :, 3], plain[:, :, 3]), "the photos colour; the discs keep the shape"


def test_depth_smoothing_stays_inside_the_silhouette() -> None:
    depth = np.full((50, 50), np.inf, np.float32)
    covered = np.zeros((50, 50), bool)
    covered[10:40, 10:40] = True
    depth[covered] = 3.0
    depth[10:40, 25:40] = 3.5  # two discs at different depths
    smooth = smooth_depth(np.where(covered, depth, 0.0).astype(np.float32), covered=covered, sigma=3)
    assert np.all(np.isclose(smooth[12:38, 12:16], 3.0, atol=1e-2))  # far from the step: unchanged
    assert 3.0 < smooth[20, 25] < 3.5  # across the step: a ramp, not a cliff
    assert np.all(smooth[~covered] == 0.0)  # the background is left alone
    assert abs(float(smooth[10, 12]) - 3.0) < 1e-3, "the silhouette's depth does not fade toward the empty background"
