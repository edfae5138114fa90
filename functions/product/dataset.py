"""The nerfstudio `transforms.json` for a posed capture, built as a plain dict (no nerfstudio import).

Poses come in as camera-to-world matrices in OpenCV camera axes (x right, y down, z forward), which is
what COLMAP gives; nerfstudio wants OpenGL camera axes (x right, y up, z backward), so the y and z
columns of the rotation are negated. World axes are left as they are: nerfstudio orients and scales
the scene itself (`orientation_method`, `auto_scale_poses`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from shared.errors import InputError
from shared.models.product import Intrinsics, PosedImage

__all__ = ["CAMERA_MODELS", "Intrinsics", "PosedImage", "build_transforms", "opencv_to_opengl"]

# nerfstudio's OPENCV model carries k1 k2 p1 p2; PINHOLE carries none.
CAMERA_MODELS = ("OPENCV", "PINHOLE")
_OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0, 1.0])


def opencv_to_opengl(*, cam_to_world: np.ndarray) -> np.ndarray:
    """Camera-to-world with OpenCV camera axes → the same camera with OpenGL axes (and back: an involution)."""
    return np.asarray(cam_to_world, dtype=float) @ _OPENCV_TO_OPENGL


def _intrinsic_fields(intr: Intrinsics, *, camera_model: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "fl_x": intr.fx,
        "fl_y": intr.fy,
        "cx": intr.cx,
        "cy": intr.cy,
        "w": intr.width,
        "h": intr.height,
    }
    if camera_model == "OPENCV":
        fields.update(k1=intr.k1, k2=intr.k2, p1=intr.p1, p2=intr.p2)
    return fields


def build_transforms(*, images: Sequence[PosedImage], camera_model: str = "OPENCV") -> dict[str, Any]:
    """The nerfstudio `transforms.json` content for these images.

    Shared intrinsics go at the top level; when the images disagree (mixed phones, mixed sizes) each frame
    carries its own, which nerfstudio's dataparser reads per frame.
    """
    if camera_model not in CAMERA_MODELS:
        raise InputError(f"unknown camera model {camera_model!r}", hint=f"use one of {', '.join(CAMERA_MODELS)}")
    if not images:
        raise InputError("no posed image to write", hint="the reconstruction registered no image")
    names = [img.file_path for img in images]
    if len(set(names)) != len(names):
        raise InputError("two posed images share a file path", hint="give each image a distinct file name")

    shared = len({img.intrinsics for img in images}) == 1
    out: dict[str, Any] = {"camera_model": camera_model}
    if shared:
        out.update(_intrinsic_fields(images[0].intrinsics, camera_model=camera_model))
    frames = []
    for img in images:
        gl = opencv_to_opengl(cam_to_world=np.asarray(img.cam_to_world, dtype=float))
        frame: dict[str, Any] = {"file_path": img.file_path, "transform_matrix": gl.tolist()}
        if not shared:
            frame.update(_intrinsic_fields(img.intrinsics, camera_model=camera_model))
        frames.append(frame)
    out["frames"] = frames
    return out
