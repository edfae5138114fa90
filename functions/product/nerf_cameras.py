"""Cameras and points from our frame (COLMAP world, OpenCV camera axes) into a trained nerfstudio model's
frame, plus the pixel helpers of the renderer. Pure numpy: no nerfstudio, no torch.

How nerfstudio moves the world (nerfstudio/data/dataparsers/nerfstudio_dataparser.py, v1.1):
`auto_orient_and_center_poses` left-multiplies every OpenGL camera-to-world of transforms.json by a 3×4
`transform_matrix` (rotation + centring), then `poses[:, :3, 3] *= scale_factor` (auto-scale into ±1).
Sparse points get the same: `[p, 1] @ transform_matrix.T * scale_factor` (`_load_3D_points`). Both numbers
are saved beside config.yml as dataparser_transforms.json, `{"transform": 3×4, "scale": s}`
(`DataparserOutputs.save_dataparser_transform`); `transform_poses_to_original_space` in
base_dataparser.py undoes them in the opposite order, which the tests check against.

Camera axes: OpenCV (x right, y down, z forward) → OpenGL (x right, y up, z backward) is a right-multiply by
diag(1, −1, −1, 1) (dataset.py writes transforms.json the same way); nerfstudio's `Cameras` generate the
ray of pixel (u, v) as ((u − cx)/fx, −(v − cy)/fy, −1) in camera axes (cameras.py, `_generate_rays_from_coords`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from functions.product.dataset import Intrinsics, opencv_to_opengl


class DataparserTransform(BaseModel):
    """The world change nerfstudio's dataparser applied during training (dataparser_transforms.json)."""

    model_config = ConfigDict(frozen=True)

    transform: tuple[tuple[float, float, float, float], ...]
    scale: float

    @field_validator("transform")
    @classmethod
    def _three_by_four(cls, value: tuple[tuple[float, ...], ...]) -> tuple[tuple[float, ...], ...]:
        m = np.asarray(value, dtype=float)
        if m.shape != (3, 4) or not np.all(np.isfinite(m)):
            raise ValueError("transform must be a finite 3×4 matrix")
        return value

    @field_validator("scale")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not np.isfinite(value) or value <= 0:
            raise ValueError("scale must be a positive number")
        return value

    @classmethod
    def identity(cls) -> DataparserTransform:
        return cls(transform=tuple(tuple(float(v) for v in row) for row in np.eye(4)[:3]), scale=1.0)

    @classmethod
    def read(cls, path: Path) -> DataparserTransform:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(transform=tuple(tuple(float(v) for v in row) for row in data["transform"]),
                   scale=float(data["scale"]))

    def matrix(self) -> np.ndarray:
        """The transform as a 4×4 homogeneous matrix."""
        out = np.eye(4)
        out[:3] = np.asarray(self.transform, dtype=float)
        return out


def to_nerfstudio_pose(*, cam_to_world: np.ndarray, transform: DataparserTransform) -> np.ndarray:
    """Our camera-to-world (OpenCV axes, capture world) → the 3×4 `camera_to_worlds` row of a nerfstudio
    `Cameras` in the trained model's frame (OpenGL axes, oriented, centred and scaled)."""
    gl = opencv_to_opengl(cam_to_world=np.asarray(cam_to_world, dtype=float))
    out = transform.matrix() @ gl
    out[:3, 3] *= transform.scale
    return np.asarray(out[:3])


def from_nerfstudio_pose(*, pose: np.ndarray, transform: DataparserTransform) -> np.ndarray:
    """Inverse of `to_nerfstudio_pose`, written after nerfstudio's `transform_poses_to_original_space`
    (divide the translation by the scale, apply the inverse transform, flip to OpenCV axes)."""
    full = np.eye(4)
    full[:3] = np.asarray(pose, dtype=float).reshape(3, 4)
    full[:3, 3] /= transform.scale
    out = np.linalg.inv(transform.matrix()) @ full
    out[0:3, 1:3] *= -1
    return np.asarray(out)


def to_nerfstudio_points(*, points: np.ndarray, transform: DataparserTransform) -> np.ndarray:
    """Points of the capture world → the model's frame, as nerfstudio moves its seed points."""
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    homo = np.concatenate([pts, np.ones((len(pts), 1))], axis=1)
    return np.asarray((homo @ np.asarray(transform.transform, dtype=float).T) * transform.scale)


def fit_intrinsics(*, intrinsics: Intrinsics, width: int, height: int) -> Intrinsics:
    """The capture camera for a `width`×`height` render: scaled to cover the frame, centred, the overflow
    cropped equally on both sides (a 9:16 phone capture rendered square keeps its focal length per pixel).
    Distortion is dropped: a render is an ideal pinhole."""
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    s = max(width / intrinsics.width, height / intrinsics.height)
    return Intrinsics(
        fx=intrinsics.fx * s,
        fy=intrinsics.fy * s,
        cx=intrinsics.cx * s - (intrinsics.width * s - width) / 2.0,
        cy=intrinsics.cy * s - (intrinsics.height * s - height) / 2.0,
        width=width,
        height=height,
    )


def project_opencv(*, point: np.ndarray, cam_to_world: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pixel (u, v) of a world point seen by an OpenCV camera (pinhole, no distortion)."""
    w2c = np.linalg.inv(np.asarray(cam_to_world, dtype=float))
    x, y, z = (w2c @ np.append(np.asarray(point, dtype=float), 1.0))[:3]
    if z <= 0:
        raise ValueError("the point is behind the camera")
    return np.array([intrinsics.fx * x / z + intrinsics.cx, intrinsics.fy * y / z + intrinsics.cy])


def project_nerfstudio(*, point: np.ndarray, pose: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Pixel (u, v) of a point for a nerfstudio camera (3×4 OpenGL camera-to-world), the inverse of
    nerfstudio's ray generation: camera-space direction ((u − cx)/fx, −(v − cy)/fy, −1)."""
    p = np.asarray(pose, dtype=float).reshape(3, 4)
    x, y, z = p[:3, :3].T @ (np.asarray(point, dtype=float) - p[:3, 3])
    if z >= 0:
        raise ValueError("the point is behind the camera")
    return np.array([intrinsics.cx + intrinsics.fx * x / -z, intrinsics.cy - intrinsics.fy * y / -z])


class CropBox(BaseModel):
    """A box around the object in the model's frame: nerfstudio's `OrientedBox(R, T, S)` (scene_box.py),
    where a point is inside when R^T (p − T) lies within ±S/2."""

    model_config = ConfigDict(frozen=True)

    rotation: tuple[tuple[float, float, float], ...]
    centre: tuple[float, float, float]
    size: tuple[float, float, float]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """What `OrientedBox.within` answers, in numpy."""
        pts = np.asarray(points, dtype=float).reshape(-1, 3)
        local = (pts - np.asarray(self.centre)) @ np.asarray(self.rotation)
        half = np.asarray(self.size) / 2.0
        return np.asarray(np.all((local > -half) & (local < half), axis=1))


def crop_box(*, centre: Sequence[float], half_size: float, transform: DataparserTransform) -> CropBox:
    """The cube of half side `half_size` around `centre` (capture world, axis-aligned there) in the model's
    frame: the dataparser rotates it by the transform's rotation and scales it by its scale."""
    if half_size <= 0:
        raise ValueError("half_size must be positive")
    c = to_nerfstudio_points(points=np.asarray(centre, dtype=float), transform=transform)[0]
    rot = np.asarray(transform.transform, dtype=float)[:, :3]
    side = 2.0 * half_size * transform.scale
    return CropBox(
        rotation=tuple(tuple(float(v) for v in row) for row in rot),
        centre=(float(c[0]), float(c[1]), float(c[2])),
        size=(side, side, side),
    )


def object_half_size(
    *, points: np.ndarray, seen_by: np.ndarray, centre: Sequence[float], keep_fraction: float = 0.25,
    quantile: float = 0.9, margin: float = 1.3,
) -> float:
    """Half side of a cube holding the object: the `quantile` distance from `centre` of the best-seen
    sparse points (the object, as in orbit.robust_centre), with a margin for what COLMAP did not triangulate."""
    pts = np.asarray(points, dtype=float).reshape(-1, 3)
    counts = np.asarray(seen_by, dtype=float).reshape(-1)
    if len(pts) != len(counts) or len(pts) == 0:
        raise ValueError("points and seen_by must be non-empty and of the same length")
    best = pts[counts >= np.quantile(counts, 1.0 - keep_fraction)]
    dist = np.abs(best - np.asarray(centre, dtype=float)).max(axis=1)  # cube, not sphere: Chebyshev distance
    return float(np.quantile(dist, quantile) * margin)


def straight_rgba(*, rgb: np.ndarray, alpha: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """8-bit RGBA with straight (unassociated) alpha from a render composited over `background` (black when
    None).

    A renderer returns colour·alpha + (1 − alpha)·background: nerfstudio's RGBRenderer over the accumulated
    weight, splatfacto over the background it reports as `outputs["background"]` (its own eval colour in
    1.1, which ignores renderers' override). Removing the background and dividing by alpha recovers the
    colour; where alpha is ~0 there is none to recover and the pixel is transparent black."""
    a = np.clip(np.asarray(alpha, dtype=np.float64).reshape(np.asarray(rgb).shape[:2]), 0.0, 1.0)
    composited = np.clip(np.asarray(rgb, dtype=np.float64), 0.0, 1.0)
    bg = np.zeros(3) if background is None else np.asarray(background, dtype=np.float64).reshape(-1)[:3]
    premultiplied = composited - (1.0 - a[..., None]) * bg
    safe = np.where(a > 1e-4, a, 1.0)[..., None]
    colour = np.where(a[..., None] > 1e-4, np.clip(premultiplied / safe, 0.0, 1.0), 0.0)
    out = np.concatenate([colour, a[..., None]], axis=2)
    return np.asarray(np.round(out * 255.0), dtype=np.uint8)
