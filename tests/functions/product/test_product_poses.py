from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functions.product.capture import load_points
from functions.product.dataset import build_transforms, opencv_to_opengl
from functions.product.orbit import fit_orbit, orbit_poses, robust_centre
from functions.product.poses import PoorCaptureError, PoseResult, estimate_poses
from tests.functions.product.product_media import fox_capture, shared_fox_data_dir

pytest.importorskip("pycolmap", reason="pycolmap is not installed (pip install pycolmap)")


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (s, R, t) with dst ≈ s R src + t, least squares."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    u, d, vt = np.linalg.svd(xd.T @ xs / len(src))
    sign = np.eye(3)
    sign[2, 2] = np.sign(np.linalg.det(u @ vt))
    rot = u @ sign @ vt
    scale = np.trace(np.diag(d) @ sign) / (xs**2).sum(1).mean()
    return scale, rot, mu_d - scale * rot @ mu_s


@pytest.fixture(scope="session")
def fox(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[PoseResult, dict, float]:
    """estimate_poses' result on the fox, through the product stage's capture: the session registers the
    fox once and the CLI tests (same data folder, same content key) reuse it."""
    started = time.monotonic()
    capture, store = fox_capture(media_dir=media_dir, data_dir=shared_fox_data_dir(tmp_path_factory))
    seconds = time.monotonic() - started
    xyz, rgb, seen_by = load_points(capture=capture, store=store)
    result = PoseResult(images=capture.cameras, summary=capture.registration, points_xyz=xyz, points_rgb=rgb,
                        points_seen_by=seen_by)
    given = json.loads((media_dir / "multiview" / "fox" / "transforms.json").read_text())
    return result, given, seconds


def test_every_fox_frame_registers_with_low_reprojection_error(fox: tuple[PoseResult, dict, float]) -> None:
    result, _, seconds = fox
    s = result.summary
    print(f"fox: {s.registered_images}/{s.total_images} in {seconds:.1f}s, {s.points} points, "
          f"reproj {s.mean_reprojection_error_px:.2f}px, phases {s.phase_seconds}")
    assert s.registered_images == s.total_images == 50
    assert s.mean_reprojection_error_px < 1.5
    assert s.points > 1000
    assert result.images[0].intrinsics.width == 1080 and result.images[0].intrinsics.height == 1920


def test_fox_poses_agree_with_the_published_poses(fox: tuple[PoseResult, dict, float]) -> None:
    result, given, _ = fox
    truth = {Path(f["file_path"]).name: opencv_to_opengl(cam_to_world=np.array(f["transform_matrix"]))
             for f in given["frames"]}
    est = np.array([np.asarray(img.cam_to_world) for img in result.images])
    ref = np.array([truth[img.file_path] for img in result.images])
    scale, rot, shift = umeyama(est[:, :3, 3], ref[:, :3, 3])
    centres = (scale * (rot @ est[:, :3, 3].T)).T + shift
    radius = np.median(np.linalg.norm(ref[:, :3, 3] - ref[:, :3, 3].mean(0), axis=1))
    centre_err = np.median(np.linalg.norm(centres - ref[:, :3, 3], axis=1)) / radius
    rel = np.einsum("nij,njk->nik", np.transpose(ref[:, :3, :3], (0, 2, 1)), rot @ est[:, :3, :3])
    angles = np.degrees(np.arccos(np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    print(f"fox: median centre error {100 * centre_err:.2f}% of radius, median rotation {np.median(angles):.2f}°")
    assert centre_err < 0.01
    assert np.median(angles) < 1.5
    # the focal length, back in original pixels, matches the published calibration
    assert result.images[0].intrinsics.fx == pytest.approx(given["fl_x"], rel=0.03)


def test_fox_orbit_from_the_sparse_cloud_keeps_the_object_in_frame(fox: tuple[PoseResult, dict, float]) -> None:
    result, _, _ = fox
    centre = robust_centre(points=result.points_xyz, seen_by=result.points_seen_by)
    poses = [np.asarray(img.cam_to_world) for img in result.images]
    intr = result.images[0].intrinsics
    for pose in poses:  # the fox is in every photo, so its centre must project inside each
        cam = np.linalg.inv(pose) @ np.append(centre, 1.0)
        u, v = intr.fx * cam[0] / cam[2] + intr.cx, intr.fy * cam[1] / cam[2] + intr.cy
        assert cam[2] > 0 and 0 < u < intr.width and 0 < v < intr.height
    orbit = fit_orbit(cam_to_world=poses, centre=centre)
    for pose in orbit_poses(orbit=orbit, count=12):
        cam = np.linalg.inv(pose) @ np.append(centre, 1.0)
        assert cam[2] > 0 and np.allclose(cam[:2], 0, atol=1e-6)
    out = build_transforms(images=result.images)
    assert len(out["frames"]) == 50 and out["camera_model"] == "OPENCV"


def test_unrelated_pictures_give_a_reshoot_hint(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    paths = []
    for i in range(5):
        path = tmp_path / f"noise{i}.png"
        Image.fromarray(rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    with pytest.raises(PoorCaptureError) as err:
        estimate_poses(paths=paths, work_dir=tmp_path / "work")
    assert "of 5 photos" in str(err.value)
    assert "overlap" in err.value.hint and "textured" in err.value.hint and "light" in err.value.hint
