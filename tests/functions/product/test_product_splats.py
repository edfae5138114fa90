"""The CPU preview renderer, measured on a cloud whose picture we know: a sphere, green in front."""

from __future__ import annotations

import time

import numpy as np
import pytest

from functions.product.orbit import look_at
from functions.product.splats import SplatCloud, object_cloud, render_splats
from shared.models.product import Intrinsics

SIZE = 400
INTR = Intrinsics(fx=500.0, fy=500.0, cx=SIZE / 2, cy=SIZE / 2, width=SIZE, height=SIZE)
EYE = np.array([0.0, -4.0, 0.0])
UP = np.array([0.0, 0.0, 1.0])


def sphere(count: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on the unit sphere: green where they face the camera (y < 0), magenta behind, and a red cap on
    top (z > 0.6) so image-up is checkable."""
    rng = np.random.default_rng(seed)
    xyz = rng.normal(size=(count, 3))
    xyz /= np.linalg.norm(xyz, axis=1, keepdims=True)
    rgb = np.where(xyz[:, 1:2] < 0, [[0, 200, 0]], [[200, 0, 200]]).astype(np.uint8)
    rgb[xyz[:, 2] > 0.6] = (220, 0, 0)
    return xyz, rgb


def test_object_cloud_keeps_well_seen_points_near_the_centre_with_discs_from_their_spacing() -> None:
    xyz, rgb = sphere(2000)
    far = np.random.default_rng(1).uniform(5, 9, size=(300, 3))
    seen = np.concatenate([np.full(2000, 5), np.full(300, 9)])
    seen[:100] = 2  # seen by two photos only: dropped as noise
    cloud = object_cloud(points=np.vstack([xyz, far]), colors=np.vstack([rgb, rgb[:300]]), seen_by=seen,
                         centre=np.zeros(3), crop_radius=1.5)
    assert len(cloud) == 1900
    assert np.all(np.linalg.norm(cloud.xyz, axis=1) < 1.01)
    # 2000 points on a sphere of area 4π: neighbours sit about sqrt(4π/2000) ≈ 0.08 apart
    assert 0.03 < float(np.median(cloud.radius)) < 0.12


def test_the_sphere_renders_solid_upright_with_the_near_side_in_front_and_a_transparent_background() -> None:
    xyz, rgb = sphere()
    cloud = object_cloud(points=xyz, colors=rgb, seen_by=np.full(len(xyz), 5), centre=np.zeros(3), crop_radius=2)
    frame = render_splats(cloud=cloud, cam_to_world=look_at(eye=EYE, target=np.zeros(3), up=UP), intrinsics=INTR,
                          label=False)
    assert frame.shape == (SIZE, SIZE, 4) and frame.dtype == np.uint8
    alpha = frame[:, :, 3]
    yy, xx = np.mgrid[:SIZE, :SIZE]
    r = np.hypot(xx - SIZE / 2, yy - SIZE / 2)
    silhouette = 500 * np.tan(np.arcsin(1 / 4))  # the unit sphere seen from 4 away: 129 px
    assert np.mean(alpha[r < 0.9 * silhouette] == 255) > 0.95  # the discs close the surface (few pinholes)
    assert np.all(alpha[r > 1.25 * silhouette] == 0)  # nothing but the object is drawn
    ys, xs = np.nonzero(alpha > 128)
    assert abs(xs.mean() - SIZE / 2) < 3 and abs(ys.mean() - SIZE / 2) < 3
    centre = frame[SIZE // 2 - 20:SIZE // 2 + 20, SIZE // 2 - 20:SIZE // 2 + 20].reshape(-1, 4).astype(int)
    centre = centre[centre[:, 3] == 255]
    green = (centre[:, 1] > 150) & (centre[:, 0] < 60)
    assert np.mean(green) > 0.97  # the near side (green) hides the far side (magenta)
    top = frame[int(SIZE / 2 - 0.95 * silhouette):int(SIZE / 2 - 0.8 * silhouette), SIZE // 2 - 10:SIZE // 2 + 10]
    bottom = frame[int(SIZE / 2 + 0.8 * silhouette):int(SIZE / 2 + 0.95 * silhouette), SIZE // 2 - 10:SIZE // 2 + 10]
    red_top = (top[:, :, 0] > 150) & (top[:, :, 1] < 60)
    red_bottom = (bottom[:, :, 0] > 150) & (bottom[:, :, 1] < 60)
    assert red_top.mean() > 0.9 and red_bottom.mean() < 0.05  # the red cap is at the top of the image


def test_every_frame_is_marked_preview_in_its_corner() -> None:
    cloud = SplatCloud(xyz=np.zeros((0, 3)), rgb=np.zeros((0, 3), np.uint8), radius=np.zeros(0))
    pose = look_at(eye=EYE, target=np.zeros(3), up=UP)
    marked = render_splats(cloud=cloud, cam_to_world=pose, intrinsics=INTR)
    assert not render_splats(cloud=cloud, cam_to_world=pose, intrinsics=INTR, label=False)[:, :, 3].any()
    ys, xs = np.nonzero(marked[:, :, 3])
    assert len(xs) > 100 and xs.min() > SIZE / 2 and ys.min() > 0.85 * SIZE  # bottom-right only
    letters = marked[marked[:, :, 3] > 200]
    assert letters[:, :3].max() > 220 and letters[:, :3].min() < 40  # white letters on a dark outline


def test_a_1080_frame_of_five_thousand_points_renders_fast() -> None:
    xyz, rgb = sphere(5000)
    cloud = object_cloud(points=xyz, colors=rgb, seen_by=np.full(len(xyz), 5), centre=np.zeros(3), crop_radius=2)
    intr = INTR.scaled(factor=1080 / SIZE)
    pose = look_at(eye=EYE * 0.8, target=np.zeros(3), up=UP)
    render_splats(cloud=cloud, cam_to_world=pose, intrinsics=intr)
    started = time.perf_counter()
    for _ in range(5):
        render_splats(cloud=cloud, cam_to_world=pose, intrinsics=intr)
    per_frame = (time.perf_counter() - started) / 5
    print(f"splats: {per_frame * 1000:.0f} ms per 1080x1080 frame of {len(cloud)} points")
    assert per_frame < 1.0  # several frames a second on one core; generous for a shared CI machine


@pytest.mark.parametrize("behind", [True, False])
def test_points_behind_the_camera_are_not_drawn(behind: bool) -> None:
    xyz, rgb = sphere(500)
    eye = np.zeros(3) if behind else EYE
    # from the sphere's centre looking away from a cloud shifted behind the camera: nothing visible
    shift = np.array([0.0, -10.0, 0.0]) if behind else np.zeros(3)
    cloud = object_cloud(points=xyz + shift, colors=rgb, seen_by=np.full(len(xyz), 5), centre=shift, crop_radius=2)
    frame = render_splats(cloud=cloud, cam_to_world=look_at(eye=eye, target=np.array([0.0, 1.0, 0.0]), up=UP),
                          intrinsics=INTR, label=False)
    assert bool(frame[:, :, 3].any()) == (not behind)
