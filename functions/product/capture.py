"""The CPU half of a product: photos (or frames of a walk-around video) → COLMAP camera poses → the
nerfstudio dataset and the sparse points in the store → the orbit around the object. Its key hashes its
inputs only, so a new turntable length or size reuses the cameras placed before."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from functions.product.dataset import build_transforms
from functions.product.orbit import ReconstructionError, axes_focus, fit_orbit, robust_centre
from functions.product.phases import PHASES, phase_reporter
from functions.product.poses import PoseResult, estimate_poses
from functions.product.splats import object_cloud
from functions.product.video import sample_video_frames
from shared.errors import PhotoError
from shared.hashing import content_key
from shared.media.photos import decode_photo
from shared.models.base import Frozen
from shared.models.media import PhotoRejection, PhotoSource
from shared.models.product import ProductCapture, ProductRequest
from shared.progress import Reporter, silent
from shared.settings import PHOTO_MAX_PIXELS
from shared.store import ArtifactStore, get_model, put_model

log = logging.getLogger(__name__)

CAPTURE_VERSION = "2"
"""Bump when the poses, dataset or orbit change for the same inputs."""
POSE_MAX_SIDE = 480
DATASET_MAX_SIDE = 1920
PHOTO_FILL = 0.9
"""The share of a photo's narrower field of view a person fills with the product."""


class _CaptureBasis(Frozen):
    photos: list[PhotoSource]
    video: PhotoSource | None
    pose_max_side: int
    dataset_max_side: int


def capture_key(*, request: ProductRequest) -> str:
    basis = _CaptureBasis(photos=request.photos, video=request.video, pose_max_side=POSE_MAX_SIDE,
                          dataset_max_side=DATASET_MAX_SIDE)
    return f"product/{content_key(stage='product-capture', version=CAPTURE_VERSION, request=basis)}"


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


def load_points(*, capture: ProductCapture, store: ArtifactStore) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with store.local_path(capture.points_key) as path, np.load(path) as data:
        return data["xyz"], data["rgb"], data["seen_by"]
