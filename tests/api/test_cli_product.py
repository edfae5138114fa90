"""`momentloop product` end to end on the real fox capture: a WebM with alpha out, measured from the file,
poses checked against the published ones, and the ways a capture can fail, each an exit 2 with a hint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from functions.product.dataset import opencv_to_opengl
from functions.product.orbit import orbit_poses
from functions.product.turntable import read_rgba_png, read_turntable_rgba
from shared.models.product import Orbit
from tests.functions.product.product_media import alpha_centroid, fox_walk_video, project, shared_fox_data_dir
from tests.functions.product.test_product_poses import umeyama

pytest.importorskip("pycolmap", reason="pycolmap is not installed (pip install pycolmap)")

FRAMES, SIZE = 24, 480
UNRELATED = ["astronaut.png", "chelsea_cat.png", "coffee.png", "camera.png", "hato_pigeon.jpg"]


def momentloop(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=timeout, env=dict(os.environ), check=False)


@pytest.fixture(scope="module")
def fox(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The fox through the CLI, in the session's shared data folder: the fox is registered once per session
    (here, or by the pose tests if they ran first) and every later run reuses its cameras."""
    root = tmp_path_factory.mktemp("fox-cli")
    out, report = root / "fox.webm", root / "fox.json"
    data = shared_fox_data_dir(tmp_path_factory)
    proc = momentloop("product", str(media_dir / "multiview" / "fox" / "images"), "-o", str(out), "--preview",
                      "--report", str(report), "--frames", str(FRAMES), "--size", f"{SIZE}x{SIZE}", data_dir=data)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"root": root, "data": data, "out": out, "report": json.loads(report.read_text()), "proc": proc}


def test_fox_turntable_is_a_webm_with_alpha_and_keeps_the_fox_centred(fox: dict[str, object]) -> None:
    out, report = Path(str(fox["out"])), dict(fox["report"])  # type: ignore[call-overload]
    proc = fox["proc"]
    assert isinstance(proc, subprocess.CompletedProcess)
    assert "PREVIEW" in proc.stdout and "50/50 photos placed" in proc.stdout
    assert "Traceback" not in proc.stderr
    assert report["preview"] is True and report["renderer"] == "preview" and report["frames"] == FRAMES
    frames = list(read_turntable_rgba(out))
    assert len(frames) == FRAMES
    orbit = Orbit.model_validate(report["orbit"])
    intr = report["render_intrinsics"]
    centre = np.array(orbit.centre)
    for i, (frame, camera) in enumerate(zip(frames, orbit_poses(orbit=orbit, count=FRAMES), strict=True)):
        assert frame.shape == (SIZE, SIZE, 4)
        alpha = frame[:, :, 3]
        assert alpha[:8, :8].max() <= 4 and alpha[:8, -8:].max() <= 4, f"frame {i}: background not transparent"
        assert np.mean(alpha >= 250) > 0.05, f"frame {i}: no solid object"
        u, v, depth = project(point=centre, cam_to_world=camera, fx=intr["fx"], fy=intr["fy"], cx=intr["cx"],
                              cy=intr["cy"])
        assert depth > 0 and 0 <= u < SIZE and 0 <= v < SIZE, f"frame {i}: the fox centre is out of frame"
        mu, mv, _ = alpha_centroid(frame)
        assert abs(mu - u) < 0.2 * SIZE and abs(mv - v) < 0.2 * SIZE, f"frame {i}: the fox is off-centre"
    poster = read_rgba_png(Path(report["poster"]))
    assert poster.shape == (SIZE, SIZE, 4) and poster[:, :, 3].min() == 0 and poster[:, :, 3].max() == 255


def test_report_poses_agree_with_the_published_fox_poses(fox: dict[str, object], media_dir: Path) -> None:
    report = dict(fox["report"])  # type: ignore[call-overload]
    reg = report["registration"]
    assert reg["registered_images"] == reg["total_images"] == 50
    assert reg["mean_reprojection_error_px"] < 1.5 and reg["points"] > 1000
    assert report["camera_axes"] == "opencv" and len(report["cameras"]) == 50
    given = json.loads((media_dir / "multiview" / "fox" / "transforms.json").read_text())
    truth = {Path(f["file_path"]).name: opencv_to_opengl(cam_to_world=np.array(f["transform_matrix"]))
             for f in given["frames"]}
    est = np.array([cam["cam_to_world"] for cam in report["cameras"]])
    ref = np.array([truth[cam["file_name"]] for cam in report["cameras"]])
    scale, rot, shift = umeyama(est[:, :3, 3], ref[:, :3, 3])
    centres = (scale * (rot @ est[:, :3, 3].T)).T + shift
    radius = np.median(np.linalg.norm(ref[:, :3, 3] - ref[:, :3, 3].mean(0), axis=1))
    centre_err = np.median(np.linalg.norm(centres - ref[:, :3, 3], axis=1)) / radius
    rel = np.einsum("nji,njk->nik", ref[:, :3, :3], rot @ est[:, :3, :3])
    angles = np.degrees(np.arccos(np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert centre_err < 0.01 and np.median(angles) < 1.5
    intrinsics = report["cameras"][0]["intrinsics"]
    assert intrinsics["width"] == 1080 and intrinsics["height"] == 1920
    assert intrinsics["fx"] == pytest.approx(given["fl_x"], rel=0.03)


def test_a_second_turntable_of_the_same_photos_reuses_their_cameras(fox: dict[str, object], media_dir: Path) -> None:
    root = Path(str(fox["root"]))
    out, report_path = root / "short.webm", root / "short.json"
    proc = momentloop("product", str(media_dir / "multiview" / "fox" / "images"), "-o", str(out), "--preview",
                      "--report", str(report_path), "--frames", "8", "--size", "320x240",
                      data_dir=Path(str(fox["data"])))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    # COLMAP's timings differ on every run: equal figures mean the cameras were not placed again
    assert report["registration"] == dict(fox["report"])["registration"]  # type: ignore[call-overload]
    frames = list(read_turntable_rgba(out))
    assert len(frames) == 8 and frames[0].shape == (240, 320, 4)


def test_unrelated_photos_exit_2_with_the_reshoot_hint(good_photos: list[Path], tmp_path: Path) -> None:
    photos = [p for p in good_photos if p.name in UNRELATED]
    assert len(photos) == 5
    out = tmp_path / "nothing.webm"
    proc = momentloop("product", *map(str, photos), "-o", str(out), "--preview", data_dir=tmp_path / "data")
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("momentloop: error: ")
    assert "of 5 photos could be placed" in lines[0]
    assert "hint:" in lines[0] and "overlap" in lines[0] and "textured" in lines[0] and "light" in lines[0]
    assert "Traceback" not in proc.stderr and not out.exists()


def test_too_few_photos_and_unreadable_videos_exit_2(good_photos: list[Path], media_dir: Path,
                                                      tmp_path: Path) -> None:
    few = momentloop("product", *map(str, good_photos[:2]), "-o", str(tmp_path / "a.webm"),
                     data_dir=tmp_path / "data")
    assert few.returncode == 2 and "only 2 photo(s)" in few.stderr and "overlap" in few.stderr
    empty = momentloop("product", str(media_dir / "videos" / "bad" / "zero_bytes.webm"), "-o",
                       str(tmp_path / "b.webm"), data_dir=tmp_path / "data")
    assert empty.returncode == 2 and "not a readable video" in empty.stderr and "hint:" in empty.stderr
    wrong = momentloop("product", *map(str, good_photos[:3]), "-o", str(tmp_path / "c.mp4"),
                       data_dir=tmp_path / "data")
    assert wrong.returncode == 2 and ".webm" in wrong.stderr
    for proc in (few, empty, wrong):
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_walk_around_video_makes_a_turntable_from_its_sharp_frames(media_dir: Path, tmp_path: Path) -> None:
    images = sorted((media_dir / "multiview" / "fox" / "images").iterdir())
    video = tmp_path / "walk.mp4"
    sharp = set(fox_walk_video(fox_images=images, dest=video))
    out, report_path = tmp_path / "walk.webm", tmp_path / "walk.json"
    proc = momentloop("product", str(video), "-o", str(out), "--preview", "--report", str(report_path),
                      "--frames", "12", "--size", "320x320", data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert report["sampled_frames"] >= 45  # about one per photo walked past
    used = {int(cam["file_name"].removeprefix("frame_").removesuffix(".jpg")) for cam in report["cameras"]}
    assert used <= sharp, f"blurred frames were used: {sorted(used - sharp)}"
    reg = report["registration"]
    assert reg["registered_images"] >= 0.9 * reg["total_images"]
    assert reg["attempts"][0]["matcher"] == "sequential"
    assert len(list(read_turntable_rgba(out))) == 12
