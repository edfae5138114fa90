from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from functions.product.dataset import Intrinsics, PosedImage, build_transforms, opencv_to_opengl
from shared.errors import InputError

INTR = Intrinsics(fx=800.0, fy=810.0, cx=320.0, cy=240.0, width=640, height=480, k1=0.01)


def look_at_opencv(*, eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Camera-to-world with OpenCV axes (z toward the target, y down)."""
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


def posed(name: str, m: np.ndarray, intr: Intrinsics = INTR) -> PosedImage:
    return PosedImage(file_path=name, cam_to_world=tuple(tuple(r) for r in m.tolist()), intrinsics=intr)


def test_opengl_camera_looks_down_minus_z_at_the_object_and_keeps_its_centre() -> None:
    eye = np.array([3.0, -1.0, 2.0])
    m = look_at_opencv(eye=eye, target=np.zeros(3), up=np.array([0.0, 0.0, 1.0]))
    out = build_transforms(images=[posed("images/a.png", m)])
    gl = np.array(out["frames"][0]["transform_matrix"])
    forward = -gl[:3, 2]
    assert np.allclose(forward, -eye / np.linalg.norm(eye))
    assert np.allclose(gl[:3, 3], eye)
    # OpenGL y is up: the world up (+z) must project positively on it for an upright camera
    assert gl[:3, 1] @ np.array([0.0, 0.0, 1.0]) > 0.5
    assert np.allclose(opencv_to_opengl(cam_to_world=gl), m)


def test_shared_intrinsics_sit_at_top_level_with_nerfstudio_names() -> None:
    ms = [look_at_opencv(eye=np.array([np.cos(a), np.sin(a), 0.3]) * 4, target=np.zeros(3), up=np.array([0, 0, 1.0]))
          for a in np.linspace(0, 6, 5)]
    out = build_transforms(images=[posed(f"images/{i}.png", m) for i, m in enumerate(ms)])
    json.dumps(out)  # must be plain JSON
    assert out["camera_model"] == "OPENCV"
    got = (out["fl_x"], out["fl_y"], out["cx"], out["cy"], out["w"], out["h"])
    assert got == (800.0, 810.0, 320.0, 240.0, 640, 480)
    assert out["k1"] == 0.01
    assert [f["file_path"] for f in out["frames"]] == [f"images/{i}.png" for i in range(5)]
    assert all("fl_x" not in f for f in out["frames"])


def test_mixed_intrinsics_go_per_frame_and_pinhole_drops_distortion() -> None:
    m = look_at_opencv(eye=np.array([0.0, -4.0, 1.0]), target=np.zeros(3), up=np.array([0, 0, 1.0]))
    half = INTR.scaled(factor=0.5)
    assert (half.width, half.height, half.fx, half.cx) == (320, 240, 400.0, 160.0)
    out = build_transforms(images=[posed("a.png", m), posed("b.png", m, half)], camera_model="PINHOLE")
    assert "fl_x" not in out
    assert [f["w"] for f in out["frames"]] == [640, 320]
    assert all("k1" not in f for f in out["frames"])


def test_bad_inputs_are_refused() -> None:
    m = np.eye(4)
    with pytest.raises(InputError):
        build_transforms(images=[])
    with pytest.raises(InputError):
        build_transforms(images=[posed("a.png", m), posed("a.png", m)])
    with pytest.raises(InputError):
        build_transforms(images=[posed("a.png", m)], camera_model="FISHEYE")
    with pytest.raises(ValueError):
        posed("a.png", np.diag([1.0, 1.0, -1.0, 1.0]))  # a reflection is not a camera pose


def test_fox_poses_round_trip_through_opencv_axes(media_dir: Path) -> None:
    fox = media_dir / "multiview" / "fox"
    given = json.loads((fox / "transforms.json").read_text())
    intr = Intrinsics(fx=given["fl_x"], fy=given["fl_y"], cx=given["cx"], cy=given["cy"],
                      width=int(given["w"]), height=int(given["h"]),
                      k1=given["k1"], k2=given["k2"], p1=given["p1"], p2=given["p2"])
    present = {p.name for p in (fox / "images").iterdir()}
    frames = [f for f in given["frames"] if Path(f["file_path"]).name in present]
    assert len(frames) == 50
    images = [posed(f["file_path"], opencv_to_opengl(cam_to_world=np.array(f["transform_matrix"]))) for f in frames]
    images = [img.model_copy(update={"intrinsics": intr}) for img in images]
    out = build_transforms(images=images)
    assert out["fl_x"] == given["fl_x"] and out["k2"] == given["k2"]
    for f, g in zip(out["frames"], frames, strict=True):
        assert np.allclose(f["transform_matrix"], g["transform_matrix"], atol=1e-6)
