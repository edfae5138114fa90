from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from functions.product.dataset import opencv_to_opengl
from functions.product.orbit import (
    ReconstructionError,
    axes_focus,
    estimate_up,
    fit_orbit,
    look_at,
    orbit_poses,
    robust_centre,
)

RNG = np.random.default_rng(7)
CENTRE = np.array([1.0, 2.0, 0.5])
UP = np.array([0.2, -0.1, 1.0]) / np.linalg.norm([0.2, -0.1, 1.0])  # a tilted world, like COLMAP's
W, H, F = 640, 480, 500.0


def ring_cameras(*, count: int = 24, radius: float = 3.0, elevation_deg: float = 20.0, arc: float = 2 * np.pi,
                 jitter: float = 0.0) -> list[np.ndarray]:
    ref = np.cross(UP, [1.0, 0.0, 0.0])
    ref /= np.linalg.norm(ref)
    side = np.cross(UP, ref)
    e = np.radians(elevation_deg)
    poses = []
    for a in np.linspace(0, arc, count, endpoint=arc < 2 * np.pi):
        eye = CENTRE + radius * (np.cos(e) * (np.cos(a) * ref + np.sin(a) * side) + np.sin(e) * UP)
        target = CENTRE + jitter * RNG.normal(size=3)
        poses.append(look_at(eye=eye, target=target, up=UP))
    return poses


def project(pose: np.ndarray, point: np.ndarray) -> np.ndarray:
    cam = np.linalg.inv(pose) @ np.append(point, 1.0)
    assert cam[2] > 0, "point behind the camera"
    return np.array([F * cam[0] / cam[2] + W / 2, F * cam[1] / cam[2] + H / 2])


def test_centre_ignores_background_points_seen_by_few_cameras() -> None:
    obj = CENTRE + 0.3 * RNG.normal(size=(400, 3))
    background = CENTRE + RNG.uniform(-8, 8, size=(1200, 3)) + np.array([6.0, 0, 0])
    points = np.vstack([obj, background])
    seen_by = np.concatenate([RNG.integers(12, 24, size=400), RNG.integers(2, 8, size=1200)])
    # the plain mean is pulled far off; the robust centre is not
    assert np.linalg.norm(points.mean(axis=0) - CENTRE) > 2.0
    assert np.linalg.norm(robust_centre(points=points, seen_by=seen_by) - CENTRE) < 0.1


def test_centre_refuses_an_empty_cloud() -> None:
    with pytest.raises(ReconstructionError, match="sparse points"):
        robust_centre(points=np.zeros((3, 3)), seen_by=np.ones(3))


def test_fit_recovers_radius_elevation_and_tilted_up_from_a_ring() -> None:
    poses = ring_cameras(jitter=0.05)
    orbit = fit_orbit(cam_to_world=poses)
    assert np.linalg.norm(np.array(orbit.centre) - CENTRE) < 0.1
    assert np.degrees(np.arccos(np.clip(np.dot(orbit.up, UP), -1, 1))) < 1.0
    assert orbit.radius == pytest.approx(3.0, rel=0.03)
    assert orbit.elevation_deg == pytest.approx(20.0, abs=1.5)


def test_half_ring_capture_still_gives_up_and_focus() -> None:
    poses = ring_cameras(count=10, arc=np.pi / 2, elevation_deg=35.0)
    assert np.degrees(np.arccos(np.clip(estimate_up(cam_to_world=poses) @ UP, -1, 1))) < 2.0
    assert np.linalg.norm(axes_focus(cam_to_world=poses) - CENTRE) < 1e-6
    assert fit_orbit(cam_to_world=poses, centre=CENTRE).elevation_deg == pytest.approx(35.0, abs=0.5)


def test_orbit_poses_circle_the_centre_and_keep_it_in_the_middle_of_every_frame() -> None:
    orbit = fit_orbit(cam_to_world=ring_cameras(), centre=CENTRE)
    poses = orbit_poses(orbit=orbit, count=36)
    assert len(poses) == 36
    eyes = np.array([p[:3, 3] for p in poses])
    assert np.allclose(np.linalg.norm(eyes - CENTRE, axis=1), orbit.radius)
    for pose in poses:
        assert np.allclose(project(pose, CENTRE), [W / 2, H / 2], atol=1e-6)
        assert np.allclose(pose[:3, :3] @ pose[:3, :3].T, np.eye(3), atol=1e-9)
        assert -pose[:3, 1] @ UP > 0  # image up is world up: the product stands upright
    # even spacing, a full turn without repeating the first frame (loops cleanly)
    steps = np.linalg.norm(np.diff(np.vstack([eyes, eyes[:1]]), axis=0), axis=1)
    assert np.allclose(steps, steps[0], rtol=1e-6)


def test_too_few_cameras_is_an_input_error() -> None:
    with pytest.raises(ReconstructionError, match="registered camera"):
        fit_orbit(cam_to_world=ring_cameras()[:1])


def test_fox_orbit_keeps_the_figurine_centre_in_every_frame(media_dir: Path) -> None:
    given = json.loads((media_dir / "multiview" / "fox" / "transforms.json").read_text())
    poses = [opencv_to_opengl(cam_to_world=np.array(f["transform_matrix"])) for f in given["frames"]]
    orbit = fit_orbit(cam_to_world=poses)
    centre = np.array(orbit.centre)
    w, h, fx, fy = given["w"], given["h"], given["fl_x"], given["fl_y"]
    # every real photo shows the fitted centre well inside the frame (the fox is in all of them)
    for pose in poses:
        cam = np.linalg.inv(pose) @ np.append(centre, 1.0)
        u, v = fx * cam[0] / cam[2] + given["cx"], fy * cam[1] / cam[2] + given["cy"]
        assert cam[2] > 0 and 0.15 * w < u < 0.85 * w and 0.15 * h < v < 0.85 * h
    # the turntable keeps the real cameras' distance and height
    dists = [np.linalg.norm(p[:3, 3] - centre) for p in poses]
    assert min(dists) < orbit.radius < max(dists)
    for pose in orbit_poses(orbit=orbit, count=24):
        cam = np.linalg.inv(pose) @ np.append(centre, 1.0)
        assert cam[2] > 0 and np.allclose(cam[:2], 0, atol=1e-6)
