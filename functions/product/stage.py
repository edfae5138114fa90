"""The product stage: photos (or a walk-around video) of a product → a 360° turntable clip with alpha.

Pieces, each callable on its own so Modal can run them on the right hardware:

- `prepare_capture` (CPU): frames from the video, COLMAP poses, the nerfstudio dataset, the orbit.
- `plan_render`: the turntable's cameras and where each frame goes.
- `render_preview_frames` (CPU) or `train_nerf` + `render_nerf_frames` (GPU): frames [start, stop).
- `encode_product` (CPU): RGBA frames → VP9 WebM with alpha + PNG poster → `ProductResult`.

`run_product` runs them in order on one machine. Every artifact lives under `product/<content key>/`:
the capture's key hashes its inputs only, the render's key the capture plus the turntable settings, so a
rerun reuses the poses when only the turntable changes, and everything when nothing does.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import cv2
import numpy as np

from functions.product.dataset import build_transforms
from functions.product.orbit import ReconstructionError, axes_focus, fit_orbit, orbit_poses, robust_centre
from functions.product.poses import PoseResult, estimate_poses
from functions.product.splats import object_cloud, render_splats
from functions.product.texture import SourceViews
from functions.product.turntable import encode_turntable, read_rgba_png, write_rgba_png
from functions.product.video import sample_video_frames
from shared.errors import OptionError, PhotoError
from shared.hashing import content_key
from shared.media.photos import decode_photo
from shared.models.base import Frozen
from shared.models.media import PhotoRejection, PhotoSource
from shared.models.product import (
    Intrinsics,
    ProductCapture,
    ProductMethod,
    ProductRenderPlan,
    ProductRequest,
    ProductResult,
)
from shared.progress import Reporter, silent
from shared.settings import PHOTO_MAX_PIXELS
from shared.store import ArtifactStore, get_model, put_model

log = logging.getLogger(__name__)

CAPTURE_VERSION = "2"
"""Bump when the poses, dataset or orbit change for the same inputs."""
RENDER_VERSION = "4"
TEXTURE_MAX_SIDE = 1280
"""Photos colouring the preview are read at most this big: sharp enough for a 1080 frame of the object,
light enough to keep every photo of a 200-photo capture in memory."""
"""Bump when the rendered frames change for the same capture and settings."""

POSE_MAX_SIDE = 480
DATASET_MAX_SIDE = 1920
FRAME_FILL = 0.8
"""The object's sphere fills this share of the turntable's short side."""
PHOTO_FILL = 0.9
"""The share of a photo's narrower field of view a person fills with the product."""

Renderer = Literal["preview", "nerf"]

# Overall percent spans of the phases, so one stage-level `report` carries them all: a message is
# "<phase>: <what>", and `phase_percent` turns the overall percent back into the phase's own.
PHASES: dict[str, tuple[float, float]] = {
    "frames": (0.0, 5.0),
    "poses": (5.0, 40.0),
    "dataset": (40.0, 45.0),
    "train": (45.0, 65.0),
    "render": (65.0, 93.0),
    "encode": (93.0, 100.0),
}


def phase_reporter(report: Reporter, phase: str) -> Reporter:
    """A reporter for one phase: its 0..100 mapped onto the phase's span of the stage's percent."""
    low, high = PHASES[phase]

    def _report(*, percent: float | None = None, message: str = "") -> None:
        overall = None if percent is None else low + (high - low) * min(100.0, max(0.0, percent)) / 100.0
        report(percent=overall, message=f"{phase}: {message}")

    return _report


def phase_percent(*, phase: str, percent: float) -> float:
    """The phase's own percent from the stage's overall percent (the inverse of `phase_reporter`)."""
    low, high = PHASES[phase]
    return 100.0 * min(1.0, max(0.0, (percent - low) / (high - low)))


class _CaptureBasis(Frozen):
    photos: list[PhotoSource]
    video: PhotoSource | None
    pose_max_side: int
    dataset_max_side: int


class _RenderBasis(Frozen):
    capture: str
    renderer: Renderer
    method: ProductMethod | None
    max_steps: int | None
    frames: int
    fps: int
    width: int
    height: int
    seed: int


def capture_key(*, request: ProductRequest) -> str:
    basis = _CaptureBasis(photos=request.photos, video=request.video, pose_max_side=POSE_MAX_SIDE,
                          dataset_max_side=DATASET_MAX_SIDE)
    return f"product/{content_key(stage='product-capture', version=CAPTURE_VERSION, request=basis)}"


# ---------------------------------------------------------------- renderer choice

def _nerf_module() -> ModuleType | None:
    """The GPU renderer (functions/product/nerf.py), imported late: it may be absent on CPU installs."""
    try:
        from functions.product import nerf  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    return nerf  # type: ignore[no-any-return, unused-ignore]


def choose_renderer(*, request: ProductRequest) -> Renderer:
    """preview when asked; nerf when asked (a GPU is then required); auto: nerf only where a GPU is."""
    if request.renderer == "preview":
        return "preview"
    nerf = _nerf_module()
    has_gpu = bool(nerf is not None and nerf.gpu_available())
    if request.renderer == "nerf" and not has_gpu:
        raise OptionError("the nerf renderer needs a GPU with nerfstudio (pip install 'momentloop[gpu]')",
                          hint="use the CPU preview renderer (--preview), or run on Modal")
    return "nerf" if has_gpu else "preview"


# ---------------------------------------------------------------- capture (CPU)

def _unique_name(name: str, taken: set[str]) -> str:
    stem = Path(name).stem or "photo"
    candidate, n = f"{stem}.jpg", 1
    while candidate in taken:
        candidate, n = f"{stem}_{n}.jpg", n + 1
    taken.add(candidate)
    return candidate


def _decode_photos(*, photos: list[PhotoSource], store: ArtifactStore, out_dir: Path,
                   rejected: list[PhotoRejection], names: dict[str, str]) -> list[Path]:
    """Upright 8-bit sRGB JPEG copies (long side <= DATASET_MAX_SIDE) named after the user's files (`names`
    maps each copy's name back to the user's); a photo that cannot be decoded is left out with its reason
    and the rest go on."""
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    paths = []
    for source in sorted(photos, key=lambda s: s.index):
        try:
            with store.local_path(source.key) as path:
                photo = decode_photo(path=path, max_pixels=PHOTO_MAX_PIXELS, max_side=DATASET_MAX_SIDE,
                                     name=source.name)
        except PhotoError as exc:
            log.warning("%s", exc)
            rejected.append(PhotoRejection(name=source.name, reason=str(exc)))
            continue
        dest = out_dir / _unique_name(source.name, taken)
        names[dest.name] = source.name
        cv2.imwrite(str(dest), cv2.cvtColor(photo.rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        paths.append(dest)
    return paths


def object_centre(*, cam_to_world: list[np.ndarray], points: np.ndarray, seen_by: np.ndarray) -> np.ndarray:
    """Where the object is: the point the photos aim at (nearest to every optical axis), which is what a
    person frames; the robust centre of the best-seen sparse points when the cameras do not converge in
    front of them.

    The points alone are pulled toward the textured wall or table around the product: on the fox capture
    their robust centre projects up to 37 % of the frame off-centre in the real photos (the aim point: 20 %),
    on the synthetic box 16 % (the aim point: 0 %)."""
    try:
        focus = axes_focus(cam_to_world=cam_to_world)
    except ReconstructionError:
        return robust_centre(points=points, seen_by=seen_by)
    poses = np.asarray(cam_to_world)
    depth = np.einsum("nj,nj->n", focus - poses[:, :3, 3], poses[:, :3, 2])
    if np.mean(depth > 0) < 0.9:  # behind many cameras: the axes do not meet at an object
        return robust_centre(points=points, seen_by=seen_by)
    return focus


def _object_radius(*, poses: PoseResult, orbit_radius: float) -> float:
    """What the photos frame around the centre: people fill the frame with the product, so the object fits
    in the narrower field of view of a typical photo, at the orbit's distance."""
    tan_half = float(np.median([min(img.intrinsics.width / (2 * img.intrinsics.fx),
                                    img.intrinsics.height / (2 * img.intrinsics.fy)) for img in poses.images]))
    return PHOTO_FILL * orbit_radius * tan_half


def _frame_radius(*, poses: PoseResult, centre: np.ndarray, object_radius: float) -> float:
    """How far the object's own points reach from its centre (95th percentile), its table or wall left
    out as the preview leaves them out; the whole object sphere when too few points remain to tell."""
    cloud = object_cloud(points=poses.points_xyz, colors=poses.points_rgb, seen_by=poses.points_seen_by,
                         centre=centre, crop_radius=object_radius)
    if len(cloud) < 30:
        return object_radius
    reach = float(np.quantile(np.linalg.norm(cloud.xyz - centre, axis=1), 0.95))
    return float(np.clip(reach, 0.25 * object_radius, object_radius))


def prepare_capture(*, request: ProductRequest, store: ArtifactStore, report: Reporter = silent) -> ProductCapture:
    """Frames (video input) → COLMAP poses → nerfstudio dataset → orbit, or the capture already made from the
    same inputs. Raises `PoorCaptureError` / `VideoError` (InputErrors with a reshoot hint) on a poor capture."""
    key = capture_key(request=request)
    if store.exists(f"{key}/capture.json"):
        report(percent=PHASES["dataset"][1], message="dataset: reused the cameras placed before")
        return get_model(store, f"{key}/capture.json", ProductCapture)
    phases: dict[str, float] = {}
    rejected: list[PhotoRejection] = []
    names: dict[str, str] = {}  # dataset image name → the name the user gave the photo
    with tempfile.TemporaryDirectory(prefix="momentloop-product-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        sampled = None
        if request.video is not None:
            with store.local_path(request.video.key) as video:
                sampled = sample_video_frames(video=video, out_dir=work / "frames", max_side=DATASET_MAX_SIDE,
                                              report=phase_reporter(report, "frames"))
            paths = sampled.paths
        else:
            phase_reporter(report, "frames")(percent=0.0, message=f"reading {len(request.photos)} photos")
            paths = _decode_photos(photos=request.photos, store=store, out_dir=work / "photos", rejected=rejected,
                                   names=names)
            phase_reporter(report, "frames")(percent=100.0, message=f"{len(paths)} photos read")
        phases["frames"] = time.monotonic() - started

        started = time.monotonic()
        poses = estimate_poses(paths=paths, work_dir=work / "colmap", max_side=POSE_MAX_SIDE,
                               sequential=request.video is not None, report=phase_reporter(report, "poses"))
        phases["poses"] = time.monotonic() - started

        started = time.monotonic()
        dataset_report = phase_reporter(report, "dataset")
        dataset_report(percent=0.0, message=f"writing {len(poses.images)} images and transforms.json")
        by_name = {p.name: p for p in paths}
        dataset_images = []
        files = []
        for img in poses.images:
            rel = f"images/{img.file_path}"
            store.put_file(f"{key}/dataset/{rel}", by_name[img.file_path])
            dataset_images.append(img.model_copy(update={"file_path": rel}))
            files.append(rel)
        transforms = build_transforms(images=dataset_images)
        store.put_bytes(f"{key}/dataset/transforms.json", json.dumps(transforms, indent=1).encode())
        files.append("transforms.json")
        with store.write_path(f"{key}/points.npz") as tmp_points, tmp_points.open("wb") as f:
            np.savez_compressed(f, xyz=poses.points_xyz, rgb=poses.points_rgb, seen_by=poses.points_seen_by)

        cam_to_world = [np.asarray(img.cam_to_world) for img in poses.images]
        centre = object_centre(cam_to_world=cam_to_world, points=poses.points_xyz, seen_by=poses.points_seen_by)
        orbit = fit_orbit(cam_to_world=cam_to_world, centre=centre)
        phases["dataset"] = time.monotonic() - started
        dataset_report(percent=100.0, message=f"orbit radius {orbit.radius:.2f}, elevation {orbit.elevation_deg:.0f}°")

    object_radius = _object_radius(poses=poses, orbit_radius=orbit.radius)
    capture = ProductCapture(
        key=key,
        registration=poses.summary,
        cameras=[img.model_copy(update={"file_path": names.get(img.file_path, img.file_path)}) for img in poses.images],
        orbit=orbit,
        object_radius=object_radius,
        frame_radius=_frame_radius(poses=poses, centre=np.asarray(orbit.centre), object_radius=object_radius),
        points_key=f"{key}/points.npz",
        dataset_key=f"{key}/dataset",
        dataset_files=files,
        sampled_frames=len(sampled.paths) if sampled is not None else None,
        rejected=rejected,
        phase_seconds={k: round(v, 3) for k, v in phases.items()},
    )
    put_model(store, f"{key}/capture.json", capture)
    return capture


def materialize_dataset(*, capture: ProductCapture, store: ArtifactStore, dest: Path) -> Path:
    """Copy the nerfstudio dataset (transforms.json + images/) out of the store into `dest`; return `dest`."""
    for rel in capture.dataset_files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.local_path(f"{capture.dataset_key}/{rel}") as src:
            target.write_bytes(src.read_bytes())
    return dest


# ---------------------------------------------------------------- render plan and frames

def render_intrinsics(*, capture: ProductCapture, width: int, height: int) -> Intrinsics:
    """A pinhole camera whose short side holds the object (`frame_radius`), seen from the orbit, at FRAME_FILL."""
    ratio = capture.frame_radius / capture.orbit.radius
    focal = 0.5 * FRAME_FILL * min(width, height) / np.tan(np.arcsin(min(0.99, ratio)))
    return Intrinsics(fx=float(focal), fy=float(focal), cx=width / 2, cy=height / 2, width=width, height=height)


def plan_render(*, request: ProductRequest, capture: ProductCapture, renderer: Renderer) -> ProductRenderPlan:
    nerf = renderer == "nerf"
    basis = _RenderBasis(capture=capture.key, renderer=renderer, method=request.method if nerf else None,
                         max_steps=request.max_steps if nerf else None, frames=request.frames, fps=request.fps,
                         width=request.width, height=request.height, seed=request.seed)
    key = f"product/{content_key(stage='product-render', version=RENDER_VERSION, request=basis)}"
    cameras = orbit_poses(orbit=capture.orbit, count=request.frames)
    return ProductRenderPlan(
        key=key,
        renderer=renderer,
        method=request.method if nerf else None,
        cameras=[tuple(tuple(float(v) for v in row) for row in pose) for pose in cameras],
        intrinsics=render_intrinsics(capture=capture, width=request.width, height=request.height),
        frame_keys=[f"{key}/frames/{i:05d}.png" for i in range(request.frames)],
        fps=request.fps,
    )


def load_points(*, capture: ProductCapture, store: ArtifactStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with store.local_path(capture.points_key) as path, np.load(path) as data:
        return data["xyz"], data["rgb"], data["seen_by"]


def source_views(*, capture: ProductCapture, store: ArtifactStore, max_side: int = TEXTURE_MAX_SIDE) -> SourceViews:
    """The capture's registered photos (from its dataset), for colouring the preview."""
    images = [f for f in capture.dataset_files if f != "transforms.json"]
    if len(images) != len(capture.cameras):
        raise ValueError(f"{len(images)} dataset images for {len(capture.cameras)} cameras")

    def load(index: int) -> np.ndarray:
        with store.local_path(f"{capture.dataset_key}/{images[index]}") as path:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"dataset image {images[index]} does not decode")
        scale = min(1.0, max_side / max(bgr.shape[:2]))
        if scale < 1.0:
            bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return SourceViews(cam_to_world=[np.asarray(c.cam_to_world) for c in capture.cameras],
                       intrinsics=[c.intrinsics for c in capture.cameras], load=load,
                       centre=np.asarray(capture.orbit.centre))


def render_preview_frames(*, capture: ProductCapture, plan: ProductRenderPlan, store: ArtifactStore, start: int = 0,
                          stop: int | None = None, report: Reporter = silent) -> list[str]:
    """Render frames [start, stop) with the CPU splat renderer into their keys (frames already there are
    kept: a killed render resumes). Returns their keys."""
    stop = len(plan.frame_keys) if stop is None else stop
    xyz, rgb, seen_by = load_points(capture=capture, store=store)
    cloud = object_cloud(points=xyz, colors=rgb, seen_by=seen_by, centre=np.asarray(capture.orbit.centre),
                         crop_radius=capture.object_radius)
    views = source_views(capture=capture, store=store)
    report(percent=0.0, message=f"{len(cloud)} points as splats, coloured from {len(capture.cameras)} photos, "
                                f"frames {start}-{stop - 1}")
    keys = []
    for i in range(start, stop):
        key = plan.frame_keys[i]
        if not store.exists(key):
            frame = render_splats(cloud=cloud, cam_to_world=np.asarray(plan.cameras[i]), intrinsics=plan.intrinsics,
                                  texture=views)
            with store.write_path(key, suffix=".png") as tmp:
                write_rgba_png(frame=frame, dest=tmp)
        keys.append(key)
        report(percent=100.0 * (i + 1 - start) / max(1, stop - start), message=f"frame {i + 1}/{len(plan.frame_keys)}")
    return keys


def train_nerf(*, capture: ProductCapture, request: ProductRequest, store: ArtifactStore, work_dir: Path,
               report: Reporter = silent) -> Path:
    """Train nerfstudio (`request.method`) on the capture's dataset in `work_dir`; return its config.yml."""
    nerf = _nerf_module()
    if nerf is None:
        raise OptionError("the nerf renderer is not installed here", hint="use the CPU preview renderer (--preview)")
    dataset = materialize_dataset(capture=capture, store=store, dest=work_dir / "dataset")
    # splatfacto starts its Gaussians from the sparse points (else from a random cube, needing far more steps)
    xyz, rgb, _ = load_points(capture=capture, store=store)
    nerf.write_seed_points(dataset_dir=dataset, points_xyz=xyz, points_rgb=rgb)
    config: Path = nerf.train(dataset_dir=dataset, output_dir=work_dir / "nerf", method=request.method,
                              max_steps=request.max_steps, report=report)
    return config


def render_nerf_frames(*, capture: ProductCapture, plan: ProductRenderPlan, store: ArtifactStore, config: Path,
                       work_dir: Path, start: int = 0, stop: int | None = None,
                       report: Reporter = silent) -> list[str]:
    """Render frames [start, stop) with the trained model (`config`) and put them at their keys. Only the
    object's neighbourhood is rendered (the room around it stays transparent)."""
    nerf = _nerf_module()
    if nerf is None:
        raise OptionError("the nerf renderer is not installed here", hint="use the CPU preview renderer (--preview)")
    stop = len(plan.frame_keys) if stop is None else stop
    out_dir = work_dir / f"frames-{start:05d}"
    paths: list[Path] = nerf.render_frames(
        config=config, cameras=[np.asarray(c) for c in plan.cameras[start:stop]], intrinsics=plan.intrinsics,
        width=plan.intrinsics.width, height=plan.intrinsics.height, out_dir=out_dir, start_index=start,
        report=report, crop_centre=capture.orbit.centre, crop_half_size=capture.object_radius,
    )
    if len(paths) != stop - start:
        raise RuntimeError(f"the nerf renderer returned {len(paths)} frames for {stop - start} cameras")
    keys = plan.frame_keys[start:stop]
    for key, path in zip(keys, paths, strict=True):
        store.put_file(key, path)
    return keys


# ---------------------------------------------------------------- encode

def _frames_from_store(*, plan: ProductRenderPlan, store: ArtifactStore, report: Reporter) -> Iterator[np.ndarray]:
    total = len(plan.frame_keys)
    for i, key in enumerate(plan.frame_keys):
        with store.local_path(key) as path:
            frame = read_rgba_png(path)
        if frame.shape[:2] != (plan.intrinsics.height, plan.intrinsics.width):
            frame = cv2.resize(frame, (plan.intrinsics.width, plan.intrinsics.height), interpolation=cv2.INTER_AREA)
        yield frame
        report(percent=100.0 * (i + 1) / total, message=f"frame {i + 1}/{total}")


def encode_product(*, request: ProductRequest, capture: ProductCapture, plan: ProductRenderPlan,
                   store: ArtifactStore, phase_seconds: dict[str, float] | None = None,
                   report: Reporter = silent) -> ProductResult:
    """Encode the rendered frames into the turntable (VP9 WebM with alpha) and its PNG poster. (`request`, the
    one the capture and plan were made for, keeps the pieces' arguments alike for the Modal wiring.)"""
    started = time.monotonic()
    turntable_key = f"{plan.key}/turntable.webm"
    poster_key = f"{plan.key}/poster.png"
    width, height = plan.intrinsics.width, plan.intrinsics.height
    with store.write_path(turntable_key, suffix=".webm") as tmp:
        written = encode_turntable(frames=_frames_from_store(plan=plan, store=store, report=report), dest=tmp,
                                   width=width, height=height, fps=plan.fps)
    with store.local_path(plan.frame_keys[0]) as first, store.write_path(poster_key, suffix=".png") as tmp:
        write_rgba_png(frame=read_rgba_png(first), dest=tmp)
    seconds = dict(capture.phase_seconds)
    seconds.update(phase_seconds or {})
    seconds["encode"] = round(time.monotonic() - started, 3)
    result = ProductResult(
        turntable_key=turntable_key,
        poster_key=poster_key,
        renderer=plan.renderer,
        preview=plan.renderer == "preview",
        method=plan.method,
        frames=written,
        fps=plan.fps,
        width=width,
        height=height,
        duration=written / plan.fps,
        registration=capture.registration,
        cameras=capture.cameras,
        orbit=capture.orbit,
        render_intrinsics=plan.intrinsics,
        object_radius=capture.object_radius,
        sampled_frames=capture.sampled_frames,
        rejected=capture.rejected,
        phase_seconds=seconds,
    )
    put_model(store, f"{plan.key}/result.json", result)
    return result


def run_product(*, request: ProductRequest, store: ArtifactStore, report: Reporter = silent) -> ProductResult:
    """The whole stage on this machine: capture → frames (preview on CPU, or nerf on a GPU) → turntable.

    Reuses the result, or the capture, made before from the same inputs and settings."""
    renderer = choose_renderer(request=request)
    capture = prepare_capture(request=request, store=store, report=report)
    plan = plan_render(request=request, capture=capture, renderer=renderer)
    if store.exists(f"{plan.key}/result.json"):
        report(percent=100.0, message="encode: reused the turntable made before")
        return get_model(store, f"{plan.key}/result.json", ProductResult)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    if renderer == "preview":
        render_preview_frames(capture=capture, plan=plan, store=store, report=phase_reporter(report, "render"))
    else:
        with tempfile.TemporaryDirectory(prefix="momentloop-nerf-") as tmp:
            config = train_nerf(capture=capture, request=request, store=store, work_dir=Path(tmp),
                                report=phase_reporter(report, "train"))
            seconds["train"] = round(time.monotonic() - started, 3)
            started = time.monotonic()
            render_nerf_frames(capture=capture, plan=plan, store=store, config=config, work_dir=Path(tmp),
                               report=phase_reporter(report, "render"))
    seconds["render"] = round(time.monotonic() - started, 3)
    return encode_product(request=request, capture=capture, plan=plan, store=store, phase_seconds=seconds,
                          report=phase_reporter(report, "encode"))


def product_report(*, result: ProductResult, turntable: Path, poster: Path) -> dict[str, Any]:
    """The JSON report of `momentloop product --report`: registration figures, and per registered photo its
    file name, camera-to-world pose (4×4, OpenCV camera axes: x right, y down, z forward) and intrinsics."""
    return {
        "turntable": str(turntable),
        "poster": str(poster),
        "renderer": result.renderer,
        "preview": result.preview,
        "method": result.method,
        "frames": result.frames,
        "fps": result.fps,
        "width": result.width,
        "height": result.height,
        "registration": result.registration.model_dump(mode="json"),
        "camera_axes": "opencv",
        "cameras": [
            {"file_name": cam.file_path, "cam_to_world": [list(row) for row in cam.cam_to_world],
             "intrinsics": cam.intrinsics.model_dump(mode="json")}
            for cam in result.cameras
        ],
        "orbit": result.orbit.model_dump(mode="json"),
        "object_radius": result.object_radius,
        "render_intrinsics": result.render_intrinsics.model_dump(mode="json"),
        "sampled_frames": result.sampled_frames,
        "rejected": [r.model_dump(mode="json") for r in result.rejected],
        "phase_seconds": result.phase_seconds,
    }
