"""Camera poses for a product capture with COLMAP (pycolmap), on CPU.

Phases, each its own function so progress and failures are attributable: downscale the photos,
extract SIFT features, match, incremental mapping. A poor first attempt is retried with more features;
when under half the photos register the capture cannot make a turntable, and `PoorCaptureError` says
how to reshoot instead of producing a garbage render.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageOps

from shared.errors import InputError
from shared.models.product import Intrinsics, PosedImage, RegistrationSummary
from shared.models.product import RegistrationAttempt as Attempt
from shared.progress import Reporter, silent

__all__ = ["RESHOOT_HINT", "Attempt", "PoorCaptureError", "PoseResult", "RegistrationSummary", "estimate_poses"]

log = logging.getLogger(__name__)

Matcher = Literal["exhaustive", "sequential"]
RESHOOT_HINT = (
    "reshoot walking slowly around the object with each photo overlapping the last by about two thirds, "
    "on a textured surface (not a plain white table), in even light without moving shadows or reflections"
)
MIN_REGISTERED = 0.5
GOOD_REGISTERED = 0.9


class PoorCaptureError(InputError):
    """Too few photos could be placed in 3D to build the object."""

    def __init__(self, *, registered: int, total: int) -> None:
        super().__init__(
            f"only {registered} of {total} photos could be placed in 3D (need at least {MIN_REGISTERED:.0%})",
            hint=RESHOOT_HINT,
        )
        self.registered = registered
        self.total = total


@dataclass
class PoseResult:
    """Registered images (original file names, original pixel intrinsics, OpenCV camera-to-world) and the
    sparse cloud (xyz, colour, number of images that see each point)."""

    images: list[PosedImage]
    summary: RegistrationSummary
    points_xyz: np.ndarray = field(repr=False)
    points_rgb: np.ndarray = field(repr=False)
    points_seen_by: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class _Prepared:
    work_name: str
    source: Path
    width: int
    height: int
    scale: float  # work pixels per original pixel


def prepare_images(*, paths: Sequence[Path], image_dir: Path, max_side: int) -> list[_Prepared]:
    """Upright (EXIF-rotated) RGB copies no larger than `max_side`, named 0000.jpg… so duplicate names cannot clash."""
    image_dir.mkdir(parents=True, exist_ok=True)
    prepared = []
    for i, path in enumerate(paths):
        with Image.open(path) as raw:
            im = ImageOps.exif_transpose(raw).convert("RGB")
        width, height = im.size
        scale = min(1.0, max_side / max(width, height))
        if scale < 1.0:
            im = im.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
        name = f"{i:04d}.jpg"
        im.save(image_dir / name, quality=92)
        prepared.append(_Prepared(work_name=name, source=Path(path), width=width, height=height, scale=scale))
    return prepared


def extract_features(
    *, database: Path, image_dir: Path, max_features: int, threads: int, single_camera: bool
) -> None:
    import pycolmap

    mode = pycolmap.CameraMode.SINGLE if single_camera else pycolmap.CameraMode.AUTO

    opts = pycolmap.FeatureExtractionOptions()
    opts.sift.max_num_features = max_features
    opts.num_threads = threads
    pycolmap.extract_features(
        database, image_dir, camera_mode=mode, extraction_options=opts, device=pycolmap.Device.cpu
    )


def match_features(*, database: Path, matcher: Matcher, threads: int) -> None:
    import pycolmap

    opts = pycolmap.FeatureMatchingOptions()
    opts.num_threads = threads
    if matcher == "exhaustive":
        pycolmap.match_exhaustive(database, matching_options=opts, device=pycolmap.Device.cpu)
    else:
        pycolmap.match_sequential(database, matching_options=opts, device=pycolmap.Device.cpu)


def map_cameras(*, database: Path, image_dir: Path, output_dir: Path, threads: int) -> Any:
    """The largest reconstruction incremental mapping finds, or None."""
    import pycolmap

    output_dir.mkdir(parents=True, exist_ok=True)
    opts = pycolmap.IncrementalPipelineOptions()
    opts.num_threads = threads
    models = pycolmap.incremental_mapping(database, image_dir, output_dir, options=opts)
    if not models:
        return None
    return max(models.values(), key=lambda rec: rec.num_reg_images())


def _intrinsics(camera: Any, *, prep: _Prepared) -> Intrinsics:
    """COLMAP camera (work pixels) → intrinsics of the original photo."""
    model = str(camera.model).rsplit(".", 1)[-1]
    p = [float(v) for v in camera.params]
    if model in ("SIMPLE_PINHOLE", "SIMPLE_RADIAL", "RADIAL"):
        fx = fy = p[0]
        cx, cy = p[1], p[2]
        k1 = p[3] if len(p) > 3 else 0.0
        k2 = p[4] if model == "RADIAL" else 0.0
        p1 = p2 = 0.0
    elif model in ("PINHOLE", "OPENCV"):
        fx, fy, cx, cy = p[:4]
        k1, k2, p1, p2 = (p[4:8] if model == "OPENCV" else [0.0] * 4)
    else:
        raise ValueError(f"unsupported COLMAP camera model {model}")
    s = 1.0 / prep.scale
    return Intrinsics(fx=fx * s, fy=fy * s, cx=cx * s, cy=cy * s, width=prep.width, height=prep.height,
                      k1=k1, k2=k2, p1=p1, p2=p2)


def _cam_to_world(image: Any) -> np.ndarray:
    w2c = np.eye(4)
    w2c[:3, :4] = image.cam_from_world().matrix()
    return np.asarray(np.linalg.inv(w2c))


def estimate_poses(
    *,
    paths: Sequence[Path],
    work_dir: Path,
    max_side: int = 480,
    threads: int = 2,
    sequential: bool = False,
    report: Reporter = silent,
) -> PoseResult:
    """Register the photos with COLMAP. Raises `PoorCaptureError` under 50 % registered after retries.

    `sequential`: the photos are frames of a video in time order, so each is matched only with its
    neighbours (linear in the count, where exhaustive matching is quadratic); a poor result is retried
    exhaustively with more features, which also closes the loop where the walk returns to its start."""
    if len(paths) < 3:
        raise PoorCaptureError(registered=0, total=len(paths))
    phases: dict[str, float] = {}
    t0 = time.monotonic()
    image_dir = work_dir / "images"
    report(percent=0.0, message=f"preparing {len(paths)} photos")
    prepared = prepare_images(paths=paths, image_dir=image_dir, max_side=max_side)
    phases["prepare"] = time.monotonic() - t0

    single_camera = len({(p.width, p.height) for p in prepared}) == 1
    plan: list[tuple[int, Matcher]] = (
        [(2048, "sequential"), (4096, "exhaustive")] if sequential else [(2048, "exhaustive"), (8192, "exhaustive")]
    )
    attempts: list[Attempt] = []
    best: Any = None
    for n, (max_features, matcher) in enumerate(plan):
        start = time.monotonic()
        run_dir = work_dir / f"attempt{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        database = run_dir / "database.db"
        base = 100.0 * n / len(plan)
        report(percent=base + 5, message=f"finding features (up to {max_features} per photo)")
        t = time.monotonic()
        # one phone, one size: one shared camera is far better conditioned than a focal length per photo
        extract_features(database=database, image_dir=image_dir, max_features=max_features, threads=threads,
                         single_camera=single_camera)
        phases[f"extract{n}"] = time.monotonic() - t
        report(percent=base + 15, message=f"matching photos ({matcher})")
        t = time.monotonic()
        match_features(database=database, matcher=matcher, threads=threads)
        phases[f"match{n}"] = time.monotonic() - t
        report(percent=base + 30, message="placing cameras")
        t = time.monotonic()
        rec = map_cameras(database=database, image_dir=image_dir, output_dir=run_dir / "sparse", threads=threads)
        phases[f"map{n}"] = time.monotonic() - t
        registered = rec.num_reg_images() if rec is not None else 0
        attempts.append(Attempt(max_features=max_features, matcher=matcher, registered=registered,
                                seconds=time.monotonic() - start))
        log.info("attempt %d: %d/%d registered", n, registered, len(prepared))
        if rec is not None and (best is None or registered > best.num_reg_images()):
            best = rec
        if registered >= GOOD_REGISTERED * len(prepared):
            break

    registered = best.num_reg_images() if best is not None else 0
    if registered < MIN_REGISTERED * len(prepared):
        raise PoorCaptureError(registered=registered, total=len(prepared))

    by_name = {p.work_name: p for p in prepared}
    images = []
    for image_id in sorted(best.reg_image_ids()):
        image = best.images[image_id]
        prep = by_name[image.name]
        c2w = _cam_to_world(image)
        images.append(PosedImage(
            file_path=prep.source.name,
            cam_to_world=tuple(tuple(float(v) for v in row) for row in c2w),
            intrinsics=_intrinsics(best.cameras[image.camera_id], prep=prep),
        ))
    pts = list(best.points3D.values())
    xyz = np.array([p.xyz for p in pts], dtype=float).reshape(-1, 3)
    rgb = np.array([p.color for p in pts], dtype=np.uint8).reshape(-1, 3)
    seen_by = np.array([p.track.length() for p in pts], dtype=int)
    summary = RegistrationSummary(
        total_images=len(prepared),
        registered_images=registered,
        registered_fraction=registered / len(prepared),
        mean_reprojection_error_px=float(best.compute_mean_reprojection_error()),
        points=len(pts),
        attempts=attempts,
        phase_seconds={k: round(v, 3) for k, v in phases.items()},
    )
    report(percent=100.0, message=f"{registered}/{len(prepared)} photos placed, {len(pts)} points")
    return PoseResult(images=images, summary=summary, points_xyz=xyz, points_rgb=rgb, points_seen_by=seen_by)
