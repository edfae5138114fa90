"""Our cameras in a trained nerfstudio model's frame: a point seen at pixel (u, v) by one of our OpenCV
cameras is seen at the same pixel by the converted nerfstudio camera, with nerfstudio's documented
conventions (OpenGL camera axes, the dataparser's transform then scale, its ray generation)."""

from __future__ import annotations

import numpy as np
import pytest

from functions.product.dataset import Intrinsics, PosedImage, build_transforms
from functions.product.nerf_cameras import (
    DataparserTransform,
    crop_box,
    fit_intrinsics,
    from_nerfstudio_pose,
    object_half_size,
    project_nerfstudio,
    project_opencv,
    straight_rgba,
    to_nerfstudio_points,
    to_nerfstudio_pose,
)
from functions.product.orbit import fit_orbit, look_at, orbit_poses

INTR = Intrinsics(fx=1375.5, fy=1374.5, cx=554.6, cy=965.3, width=1080, height=1920)


def random_transform(seed: int, scale: float) -> DataparserTransform:
    """A rotation + translation like auto_orient_and_center_poses makes, and an auto-scale factor."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = q * np.sign(np.diag(r))
    if np.linalg.det(rot) < 0:
        rot[:, 0] *= -1
    m = np.concatenate([rot, rng.normal(size=(3, 1)) * 3.0], axis=1)
    return DataparserTransform(transform=tuple(tuple(float(v) for v in row) for row in m), scale=scale)


def nerfstudio_ray(*, pose: np.ndarray, u: float, v: float, intr: Intrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Origin and direction of pixel (u, v) the way nerfstudio's Cameras generate rays: camera-space
    direction ((u − cx)/fx, −(v − cy)/fy, −1), rotated by the camera-to-world, from its translation."""
    d_cam = np.array([(u - intr.cx) / intr.fx, -(v - intr.cy) / intr.fy, -1.0])
    d = pose[:3, :3] @ d_cam
    return pose[:3, 3], d / np.linalg.norm(d)


@pytest.mark.parametrize(("seed", "scale"), [(0, 1.0), (1, 0.137), (2, 4.5)])
def test_a_point_lands_on_the_same_pixel_in_nerfstudios_frame(seed: int, scale: float) -> None:
    transform = random_transform(seed, scale)
    rng = np.random.default_rng(100 + seed)
    target = rng.normal(size=3)
    eye = target + np.array([2.0, -4.0, 1.5])
    c2w = look_at(eye=eye, target=target, up=np.array([0.0, 0.0, 1.0]))
    for _ in range(20):
        point = target + rng.normal(scale=0.4, size=3)
        u, v = project_opencv(point=point, cam_to_world=c2w, intrinsics=INTR)
        pose = to_nerfstudio_pose(cam_to_world=c2w, transform=transform)
        point_ns = to_nerfstudio_points(points=point, transform=transform)[0]
        np.testing.assert_allclose(project_nerfstudio(point=point_ns, pose=pose, intrinsics=INTR), [u, v],
                                   atol=1e-6)
        origin, direction = nerfstudio_ray(pose=pose, u=u, v=v, intr=INTR)
        to_point = point_ns - origin
        along = to_point @ direction
        assert along > 0, "the point is in front of the nerfstudio camera"
        assert np.linalg.norm(to_point - along * direction) < 1e-6 * max(1.0, along), "the pixel's ray hits it"


def test_render_cameras_match_the_training_cameras_nerfstudio_builds_from_transforms_json() -> None:
    """The dataparser reads transforms.json (written by dataset.py), then `transform @ pose` and
    `pose[:3, 3] *= scale`; a render camera at a training pose must be that same camera."""
    orbit = fit_orbit(cam_to_world=[look_at(eye=np.array([np.cos(a) * 3, np.sin(a) * 3, 1.0]),
                                            target=np.zeros(3), up=np.array([0.0, 0.0, 1.0]))
                                    for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)])
    poses = orbit_poses(orbit=orbit, count=8)
    images = [PosedImage(file_path=f"images/{i:04d}.jpg", cam_to_world=tuple(tuple(float(v) for v in row) for row in p),
                         intrinsics=INTR) for i, p in enumerate(poses)]
    meta = build_transforms(images=images)
    transform = random_transform(7, 0.25)
    frames = np.array([f["transform_matrix"] for f in meta["frames"]], dtype=float)
    as_trained = transform.matrix() @ frames
    as_trained[:, :3, 3] *= transform.scale
    for trained, c2w in zip(as_trained, poses, strict=True):
        np.testing.assert_allclose(to_nerfstudio_pose(cam_to_world=c2w, transform=transform), trained[:3],
                                   atol=1e-9)


def test_nerfstudios_inverse_brings_the_camera_back() -> None:
    transform = random_transform(3, 0.6)
    c2w = look_at(eye=np.array([1.0, 2.0, 3.0]), target=np.array([0.2, -0.1, 0.4]), up=np.array([0.0, -1.0, 0.0]))
    back = from_nerfstudio_pose(pose=to_nerfstudio_pose(cam_to_world=c2w, transform=transform), transform=transform)
    np.testing.assert_allclose(back, c2w, atol=1e-9)


def test_dataparser_transforms_json_is_read_as_nerfstudio_writes_it(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "dataparser_transforms.json"
    # the exact layout of DataparserOutputs.save_dataparser_transform (json.dump(..., indent=4))
    path.write_text('{\n    "transform": [\n        [1.0, 0.0, 0.0, -0.5],\n        [0.0, 0.0, 1.0, 0.25],\n'
                    '        [0.0, -1.0, 0.0, 2.0]\n    ],\n    "scale": 0.125\n}')
    t = DataparserTransform.read(path)
    assert t.scale == 0.125
    np.testing.assert_allclose(t.matrix()[:3, 3], [-0.5, 0.25, 2.0])
    with pytest.raises(ValueError, match="scale"):
        DataparserTransform(transform=t.transform, scale=0.0)


def test_render_intrinsics_cover_the_frame_and_keep_the_centre() -> None:
    square = fit_intrinsics(intrinsics=INTR, width=512, height=512)
    s = 512 / 1080
    assert square.fx == pytest.approx(INTR.fx * s) and square.fy == pytest.approx(INTR.fy * s)
    c2w = look_at(eye=np.array([0.0, -3.0, 0.5]), target=np.zeros(3), up=np.array([0.0, 0.0, 1.0]))
    for point in (np.zeros(3), np.array([0.3, 0.0, 0.2]), np.array([-0.2, 0.1, -0.3])):
        u, v = project_opencv(point=point, cam_to_world=c2w, intrinsics=INTR)
        u2, v2 = project_opencv(point=point, cam_to_world=c2w, intrinsics=square)
        # the capture scaled to 512 wide, 910 high, then 199 rows cropped off the top
        assert u2 == pytest.approx(u * s) and v2 == pytest.approx(v * s - (1920 * s - 512) / 2)
    centred = INTR.model_copy(update={"cx": 540.0, "cy": 960.0})
    wide = fit_intrinsics(intrinsics=centred, width=1280, height=720)
    assert (wide.cx, wide.cy) == (pytest.approx(640.0), pytest.approx(360.0))


def test_the_crop_box_holds_what_the_world_cube_holds() -> None:
    transform = random_transform(5, 0.3)
    centre, half = np.array([0.5, -1.0, 2.0]), 0.8
    box = crop_box(centre=centre, half_size=half, transform=transform)
    rng = np.random.default_rng(9)
    points = centre + rng.uniform(-2 * half, 2 * half, size=(2000, 3))
    inside_world = np.abs(points - centre).max(axis=1) < half
    assert 200 < inside_world.sum() < 1800
    np.testing.assert_array_equal(box.contains(to_nerfstudio_points(points=points, transform=transform)),
                                  inside_world)


def test_object_half_size_follows_the_well_seen_points_not_the_room() -> None:
    rng = np.random.default_rng(4)
    obj = rng.uniform(-1, 1, size=(400, 3))
    room = rng.normal(size=(300, 3))
    room = 10 * room / np.linalg.norm(room, axis=1, keepdims=True)
    points = np.concatenate([obj, room])
    seen = np.concatenate([rng.integers(20, 40, 400), rng.integers(2, 5, 300)])
    half = object_half_size(points=points, seen_by=seen, centre=np.zeros(3))
    assert 1.0 < half < 1.6


def test_colour_rendered_over_black_comes_back_straight() -> None:
    colour = np.array([[[0.8, 0.2, 0.4], [1.0, 1.0, 1.0]], [[0.1, 0.9, 0.5], [0.3, 0.3, 0.3]]])
    alpha = np.array([[[1.0], [0.5]], [[0.25], [0.0]]])
    over_black = colour * alpha
    rgba = straight_rgba(rgb=over_black, alpha=alpha)
    assert rgba.dtype == np.uint8 and rgba.shape == (2, 2, 4)
    np.testing.assert_array_equal(rgba[..., 3], [[255, 128], [64, 0]])
    np.testing.assert_allclose(rgba[0, 0, :3], np.round(colour[0, 0] * 255), atol=1)
    np.testing.assert_allclose(rgba[0, 1, :3], [255, 255, 255], atol=1)
    np.testing.assert_allclose(rgba[1, 0, :3], np.round(colour[1, 0] * 255), atol=2)
    np.testing.assert_array_equal(rgba[1, 1], [0, 0, 0, 0])


def test_colour_rendered_over_a_grey_background_comes_back_straight() -> None:
    """splatfacto's eval background for `random` is a dark grey it reports with the render."""
    grey = np.array([0.149, 0.1647, 0.2157])
    colour = np.array([[[0.9, 0.5, 0.1], [0.2, 0.4, 0.6]]])
    alpha = np.array([[[0.75], [0.0]]])
    composited = colour * alpha + (1 - alpha) * grey
    rgba = straight_rgba(rgb=composited, alpha=alpha, background=grey)
    np.testing.assert_allclose(rgba[0, 0, :3], np.round(colour[0, 0] * 255), atol=1)
    np.testing.assert_array_equal(rgba[0, 1], [0, 0, 0, 0])  # pure background is transparent, not grey
    assert rgba[0, 0, 3] == 191
