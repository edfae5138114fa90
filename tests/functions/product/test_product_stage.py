"""The product stage end to end on a capture the test renders itself (16 views of a textured box), with the
CPU preview renderer, and with a fake GPU renderer that speaks nerf.py's interface."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest

from functions.pipeline.ingest import ingest_photos
from functions.product import capture as capture_module
from functions.product import render as render_module
from functions.product import stage
from functions.product.orbit import look_at
from functions.product.phases import phase_percent, phase_reporter
from functions.product.turntable import read_turntable_rgba, write_rgba_png
from shared.errors import OptionError
from shared.models.product import Intrinsics, ProductRequest, ProductResult
from shared.progress import Reporter, silent
from shared.store import LocalStore
from tests.functions.product.product_media import alpha_centroid, project
from tests.functions.product.test_product_synthetic_poses import faces, render

pytest.importorskip("pycolmap", reason="pycolmap is not installed (pip install pycolmap)")

TW, TH = 320, 240


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalStore, list[Path]]:
    root = tmp_path_factory.mktemp("box")
    quads = faces()
    paths = []
    for i, az in enumerate(np.linspace(0, 2 * np.pi, 16, endpoint=False)):
        eye = 6.0 * np.array([np.cos(az) * np.cos(0.5), np.sin(az) * np.cos(0.5), np.sin(0.5)])
        path = root / f"view{i:02d}.png"
        cv2.imwrite(str(path), render(look_at(eye=eye, target=np.zeros(3), up=np.array([0.0, 0.0, 1.0])), quads))
        paths.append(path)
    broken = root / "broken.jpg"
    broken.write_bytes(b"")  # an empty upload: left out with its reason, the rest go on
    return LocalStore(root / "artifacts"), [*paths[:8], broken, *paths[8:]]


def request_for(store: LocalStore, paths: list[Path], **kw: Any) -> ProductRequest:
    settings: dict[str, Any] = {"frames": 16, "width": TW, "height": TH, "renderer": "preview", **kw}
    return ProductRequest(photos=ingest_photos(store=store, paths=paths), **settings)


@pytest.fixture(scope="module")
def preview(capture: tuple[LocalStore, list[Path]]) -> tuple[ProductResult, list[tuple[float | None, str]]]:
    store, paths = capture
    events: list[tuple[float | None, str]] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        events.append((percent, message))

    return stage.run_product(request=request_for(store, paths), store=store, report=report), events


def test_preview_turntable_holds_the_object_in_every_frame_with_alpha(
        capture: tuple[LocalStore, list[Path]], preview: tuple[ProductResult, list[tuple[float | None, str]]]) -> None:
    store, _ = capture
    result, _ = preview
    assert result.renderer == "preview" and result.preview and result.method is None
    assert result.registration.registered_images == 16 == len(result.cameras)
    assert [r.name for r in result.rejected] == ["broken.jpg"] and "empty" in result.rejected[0].reason
    assert sorted(c.file_path for c in result.cameras) == [f"view{i:02d}.png" for i in range(16)]
    with store.local_path(result.turntable_key) as path:
        frames = list(read_turntable_rgba(path))
    assert len(frames) == 16 == result.frames and result.duration == pytest.approx(16 / 30)
    centre = np.array(result.orbit.centre)
    intr = result.render_intrinsics
    for i, frame in enumerate(frames):
        assert frame.shape == (TH, TW, 4)
        alpha = frame[:, :, 3]
        corners = np.concatenate([alpha[:10, :10].ravel(), alpha[:10, -10:].ravel(), alpha[-10:, :10].ravel()])
        assert corners.max() <= 4, f"frame {i}: background not transparent"
        u, v, share = alpha_centroid(frame)
        assert 0.1 < share < 0.9, f"frame {i}: object covers {share:.0%}"
        # the orbit looks at the object centre: it projects to the image centre, where the object's mass is
        assert abs(u - intr.cx) < 0.12 * TW and abs(v - intr.cy) < 0.12 * TH, f"frame {i}: mass at {u:.0f},{v:.0f}"
    # the object centre is where the photos look: it projects near the middle of every real photo too
    for cam in result.cameras:
        i = cam.intrinsics
        u, v, depth = project(point=centre, cam_to_world=np.asarray(cam.cam_to_world), fx=i.fx, fy=i.fy, cx=i.cx,
                              cy=i.cy)
        assert depth > 0 and abs(u - i.cx) < 0.15 * i.width and abs(v - i.cy) < 0.15 * i.height
    with store.local_path(result.poster_key) as poster:
        image = cv2.imread(str(poster), cv2.IMREAD_UNCHANGED)
    assert image.shape == (TH, TW, 4) and image[:, :, 3].min() == 0 and image[:, :, 3].max() == 255


def test_progress_walks_through_the_phases_in_order(
        preview: tuple[ProductResult, list[tuple[float | None, str]]]) -> None:
    _, events = preview
    phases = [m.split(":")[0] for _, m in events]
    seen = list(dict.fromkeys(phases))
    assert seen == ["frames", "poses", "dataset", "render", "encode"]
    percents = [p for p, _ in events if p is not None]
    assert percents == sorted(percents) and percents[-1] == 100.0


def test_the_dataset_is_written_for_nerfstudio(capture: tuple[LocalStore, list[Path]],
                                               preview: tuple[ProductResult, list[tuple[float | None, str]]]) -> None:
    store, paths = capture
    captured = capture_module.prepare_capture(request=request_for(store, paths), store=store)
    transforms = json.loads(store.get_bytes(f"{captured.dataset_key}/transforms.json"))
    assert len(transforms["frames"]) == 16 and transforms["camera_model"] == "OPENCV"
    for frame in transforms["frames"]:
        assert frame["file_path"].startswith("images/") and store.exists(f"{captured.dataset_key}/{frame['file_path']}")
    assert captured.key.startswith("product/") and preview[0].turntable_key.startswith("product/")


def test_a_rerun_reuses_the_cameras_and_a_new_length_reuses_only_them(
        capture: tuple[LocalStore, list[Path]], preview: tuple[ProductResult, list[tuple[float | None, str]]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    store, paths = capture

    def no_colmap(**_: object) -> None:
        raise AssertionError("COLMAP ran again for the same photos")

    monkeypatch.setattr(capture_module, "estimate_poses", no_colmap)
    again = stage.run_product(request=request_for(store, paths), store=store)
    assert again == preview[0]
    shorter = stage.run_product(request=request_for(store, paths, frames=6), store=store)
    assert shorter.turntable_key != again.turntable_key and shorter.registration == again.registration
    with store.local_path(shorter.turntable_key) as path:
        assert sum(1 for _ in read_turntable_rgba(path)) == 6


def test_the_nerf_renderer_without_a_gpu_says_so(capture: tuple[LocalStore, list[Path]]) -> None:
    store, paths = capture
    with pytest.raises(OptionError, match="needs a GPU") as err:
        stage.run_product(request=request_for(store, paths, renderer="nerf"), store=store)
    assert "--preview" in err.value.hint


class FakeNerf:
    """Stands in for functions/product/nerf.py on a machine without a GPU: same functions, same arguments;
    it "renders" an opaque disc where the crop centre projects, so the frames it returns can be checked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.cameras: list[np.ndarray] = []

    def gpu_available(self) -> bool:
        return True

    def write_seed_points(self, *, dataset_dir: Path, points_xyz: np.ndarray, points_rgb: np.ndarray) -> Path:
        assert (dataset_dir / "transforms.json").is_file() and len(points_xyz) == len(points_rgb) > 100
        self.calls.append("seed")
        return dataset_dir / "sparse_pc.ply"

    def train(self, *, dataset_dir: Path, output_dir: Path, method: str, max_steps: int | None,
              report: Reporter = silent) -> Path:
        meta = json.loads((dataset_dir / "transforms.json").read_text())
        assert all((dataset_dir / f["file_path"]).is_file() for f in meta["frames"])
        assert method == "nerfacto" and max_steps == 50
        report(percent=50.0, message="step 25/50 loss 0.1")
        config = output_dir / "config.yml"
        (output_dir / "nerfstudio_models").mkdir(parents=True, exist_ok=True)
        config.write_text("method: nerfacto\n")
        # what nerfstudio writes beside it, which the run stored for the render takes along
        (output_dir / "dataparser_transforms.json").write_text("{}")
        (output_dir / "nerfstudio_models" / "step-000049.ckpt").write_bytes(b"weights")
        self.calls.append("train")
        return config

    def render_frames(self, *, config: Path, cameras: Sequence[np.ndarray], intrinsics: Intrinsics, width: int,
                      height: int, out_dir: Path, start_index: int = 0, report: Reporter = silent,
                      crop_centre: Sequence[float] | None = None, crop_half_size: float | None = None) -> list[Path]:
        assert config.is_file() and crop_centre is not None and crop_half_size is not None
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for i, cam in enumerate(cameras):
            self.cameras.append(np.asarray(cam))
            u, v, _ = project(point=np.asarray(crop_centre), cam_to_world=cam, fx=intrinsics.fx, fy=intrinsics.fy,
                              cx=intrinsics.cx, cy=intrinsics.cy)
            frame = np.zeros((height, width, 4), np.uint8)
            cv2.circle(frame, (round(u), round(v)), height // 4, (200, 100, 50, 255), -1)
            path = out_dir / f"frame_{start_index + i:05d}.png"
            write_rgba_png(frame=frame, dest=path)
            paths.append(path)
        self.calls.append("render")
        return paths


def test_auto_uses_the_gpu_renderer_where_there_is_one(capture: tuple[LocalStore, list[Path]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store, paths = capture
    fake = FakeNerf()
    monkeypatch.setattr(render_module, "_nerf_module", lambda: SimpleNamespace(
        gpu_available=fake.gpu_available, write_seed_points=fake.write_seed_points, train=fake.train,
        render_frames=fake.render_frames))
    result = stage.run_product(request=request_for(store, paths, renderer="auto", method="nerfacto", max_steps=50,
                                                   frames=10), store=store)
    assert fake.calls == ["seed", "train", "render"]
    assert result.renderer == "nerf" and not result.preview and result.method == "nerfacto"
    assert len(fake.cameras) == 10
    centre = np.array(result.orbit.centre)
    for cam in fake.cameras:  # OpenCV camera-to-world, looking at the orbit centre from the orbit radius
        assert np.allclose(cam[:3, :3] @ cam[:3, :3].T, np.eye(3), atol=1e-9)
        assert np.linalg.norm(cam[:3, 3] - centre) == pytest.approx(result.orbit.radius)
        assert np.allclose(cam[:3, 2], (centre - cam[:3, 3]) / result.orbit.radius)
    with store.local_path(result.turntable_key) as path:
        frames = list(read_turntable_rgba(path))
    assert len(frames) == 10
    for frame in frames:
        u, v, _ = alpha_centroid(frame)
        assert abs(u - TW / 2) < 2 and abs(v - TH / 2) < 2 and frame[0, 0, 3] <= 4


def test_phase_percent_inverts_phase_reporter() -> None:
    seen: list[tuple[float | None, str]] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        seen.append((percent, message))

    phase_reporter(report, "render")(percent=50.0, message="frame 3/6")
    percent, message = seen[0]
    assert message == "render: frame 3/6" and percent is not None
    assert phase_percent(phase="render", percent=percent) == pytest.approx(50.0)
    assert phase_percent(phase="poses", percent=percent) == 100.0
