"""The turntable orbit: where the object is, which way is up, and the camera path around it.

All camera-to-world matrices here use OpenCV camera axes (x right, y down, z forward), like COLMAP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from shared.errors import InputError
from shared.models.product import Orbit

__all__ = ["Orbit", "ReconstructionError", "fit_orbit", "look_at", "orbit_poses", "robust_centre"]

log = logging.getLogger(__name__)

# a list of 4×4 matrices or one (N, 4, 4) array
Poses: TypeAlias = Sequence[np.ndarray] | np.ndarray


class ReconstructionError(InputError):
    """The capture gives no usable geometry for an orbit (too few cameras or points)."""


def _stack_poses(cam_to_world: Poses) -> np.ndarray:
    poses = np.asarray(cam_to_world, dtype=float)
    if poses.ndim != 3 or poses.shape[1:] != (4, 4):
        raise ValueError("cam_to_world must be a sequence of 4×4 matrices")
    if len(poses) < 2:
        raise ReconstructionError(
            f"only {len(poses)} registered camera", hint="shoot at least 20 photos walking around the object"
        )
    return poses


def robust_centre(*, points: np.ndarray, seen_by: np.ndarray, keep_fraction: float = 0.25) -> np.ndarray:
    """Centre of the object: the points seen by the most cameras (the object, not the background).

    Keeps the best-observed `keep_fraction` of points, takes their median, then drops points beyond
    3 robust spreads of it and takes the median again, so a few well-seen background points do not drag it.
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    counts = np.asarray(seen_by, dtype=float).reshape(-1)
    if len(pts) != len(counts):
        raise ValueError("points and seen_by must have the same length")
    finite = np.all(np.isfinite(pts), axis=1)
    pts, counts = pts[finite], counts[finite]
    if len(pts) < 10:
        raise ReconstructionError(
            f"only {len(pts)} sparse points", hint="give the object more texture or better light, and shoot sharper"
        )
    threshold = np.quantile(counts, 1.0 - keep_fraction)
    best = pts[counts >= threshold]
    centre = np.median(best, axis=0)
    dist = np.linalg.norm(best - centre, axis=1)
    spread = 1.4826 * np.median(np.abs(dist - np.median(dist))) + 1e-12
    inliers = best[dist <= np.median(dist) + 3.0 * spread]
    return np.median(inliers if len(inliers) >= 5 else best, axis=0)


def axes_focus(*, cam_to_world: Poses) -> np.ndarray:
    """The point nearest to every camera's optical axis (least squares): where the cameras all look."""
    poses = _stack_poses(cam_to_world)
    a = np.zeros((3, 3))
    b = np.zeros(3)
    for pose in poses:
        d = pose[:3, 2] / np.linalg.norm(pose[:3, 2])
        proj = np.eye(3) - np.outer(d, d)
        a += proj
        b += proj @ pose[:3, 3]
    if np.linalg.cond(a) > 1e8:
        raise ReconstructionError("the cameras all look the same way", hint="walk around the object while shooting")
    return np.asarray(np.linalg.solve(a, b))


def estimate_up(*, cam_to_world: Poses) -> np.ndarray:
    """World up from the cameras: people hold the camera upright, so the mean camera −y is up; when the
    cameras circle the object, the normal of their plane is a sharper estimate and takes its sign from it."""
    poses = _stack_poses(cam_to_world)
    mean_up = -poses[:, :3, 1].mean(axis=0)
    if np.linalg.norm(mean_up) < 1e-6:
        raise ReconstructionError("cannot tell which way is up", hint="hold the camera upright while shooting")
    up = mean_up / np.linalg.norm(mean_up)
    centres = poses[:, :3, 3]
    if len(centres) >= 4:
        _, sv, vt = np.linalg.svd(centres - centres.mean(axis=0))
        normal = vt[2] * np.sign(vt[2] @ up)
        # a real ring (two wide directions, one thin) whose normal roughly agrees with the camera up
        if sv[2] < 0.5 * sv[1] and normal @ up > np.cos(np.radians(35)):
            return np.asarray(normal)
    return up


def fit_orbit(*, cam_to_world: Poses, centre: np.ndarray | None = None) -> Orbit:
    """Orbit matching the capture: radius and elevation are the medians over the cameras, azimuth 0 at the first.

    Without `centre` the cameras' common focus is used.
    """
    poses = _stack_poses(cam_to_world)
    c = axes_focus(cam_to_world=poses) if centre is None else np.asarray(centre, dtype=float)
    up = estimate_up(cam_to_world=poses)
    offsets = poses[:, :3, 3] - c
    dist = np.linalg.norm(offsets, axis=1)
    if np.median(dist) <= 0:
        raise ReconstructionError("the cameras sit on the object centre", hint="step back from the object")
    elev = np.degrees(np.arcsin(np.clip((offsets @ up) / np.maximum(dist, 1e-12), -1.0, 1.0)))
    horiz = offsets - np.outer(offsets @ up, up)
    ref = horiz[int(np.argmax(np.linalg.norm(horiz, axis=1) > 1e-9 * np.median(dist)))]
    if np.linalg.norm(ref) < 1e-12:
        ref = np.cross(up, [1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.cross(up, [0.0, 1.0, 0.0])
    ref = ref / np.linalg.norm(ref)
    orbit = Orbit(
        centre=(float(c[0]), float(c[1]), float(c[2])),
        up=(float(up[0]), float(up[1]), float(up[2])),
        radius=float(np.median(dist)),
        elevation_deg=float(np.clip(np.median(elev), -89.0, 89.0)),
        reference=(float(ref[0]), float(ref[1]), float(ref[2])),
    )
    log.info("orbit: radius %.3f, elevation %.1f°", orbit.radius, orbit.elevation_deg)
    return orbit


def look_at(*, eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Camera-to-world (OpenCV axes) at `eye` looking at `target`, image up toward `up`."""
    z = np.asarray(target, dtype=float) - np.asarray(eye, dtype=float)
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise ValueError("view direction is parallel to up")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, y, z, eye
    return pose


def orbit_poses(*, orbit: Orbit, count: int, turns: float = 1.0) -> list[np.ndarray]:
    """`count` cameras evenly spaced over `turns` revolutions (counter-clockwise seen from above), loop-ready:
    the last pose stops one step short of the first."""
    if count < 1:
        raise ValueError("count must be at least 1")
    c = np.asarray(orbit.centre)
    up = np.asarray(orbit.up)
    ref = np.asarray(orbit.reference)
    side = np.cross(up, ref)
    elev = np.radians(orbit.elevation_deg)
    poses = []
    for i in range(count):
        az = 2.0 * np.pi * turns * i / count
        horiz = np.cos(az) * ref + np.sin(az) * side
        eye = c + orbit.radius * (np.cos(elev) * horiz + np.sin(elev) * up)
        poses.append(look_at(eye=eye, target=c, up=up))
    return poses
