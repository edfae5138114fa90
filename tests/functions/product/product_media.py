"""Media the product tests make themselves: a walk-around video of the real fox photos, and projection helpers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.pipeline.ingest import expand_photo_paths, ingest_photos
from functions.product.capture import prepare_capture
from shared.media.ffmpeg import ffmpeg_exe
from shared.models.product import ProductCapture, ProductRequest
from shared.settings import Settings
from shared.store import LocalStore


def fox_walk_video(*, fox_images: list[Path], dest: Path, width: int = 360, height: int = 640,
                   repeat: int = 3) -> list[int]:
    """An H.264 video walking around the fox: each real photo (in capture order) held for `repeat` frames,
    all but one of them motion-blurred, as a hand-held phone gives. Returns the indices of the sharp frames."""
    sharp = []
    frames = dest.with_suffix(".frames")
    frames.mkdir(parents=True, exist_ok=True)
    n = 0
    kernel = np.zeros((1, 15), np.float32)
    kernel[0, :] = 1.0 / 15  # a horizontal smear: the camera panning while the shutter is open
    for path in fox_images:
        image = cv2.resize(cv2.imread(str(path)), (width, height), interpolation=cv2.INTER_AREA)
        blurred = cv2.filter2D(image, -1, kernel)
        for k in range(repeat):
            cv2.imwrite(str(frames / f"{n:05d}.png"), image if k == repeat // 2 else blurred)
            if k == repeat // 2:
                sharp.append(n)
            n += 1
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-framerate", "30", "-i",
                    str(frames / "%05d.png"), "-c:v", "libx264", "-preset", "veryfast", "-crf", "16",
                    "-pix_fmt", "yuv420p", str(dest)], check=True)
    return sharp


def project(*, point: np.ndarray, cam_to_world: np.ndarray, fx: float, fy: float, cx: float,
            cy: float) -> tuple[float, float, float]:
    """(u, v, depth) of a world point in a pinhole camera with OpenCV axes."""
    cam = np.linalg.inv(np.asarray(cam_to_world, dtype=float)) @ np.append(point, 1.0)
    return fx * cam[0] / cam[2] + cx, fy * cam[1] / cam[2] + cy, float(cam[2])


def alpha_centroid(rgba: np.ndarray, *, threshold: int = 128) -> tuple[float, float, float]:
    """(u, v, share of the frame) of the opaque pixels."""
    ys, xs = np.nonzero(rgba[:, :, 3] >= threshold)
    if len(xs) == 0:
        return float("nan"), float("nan"), 0.0
    return float(xs.mean()), float(ys.mean()), len(xs) / (rgba.shape[0] * rgba.shape[1])


def shared_fox_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder per test session for everything that registers the fox: COLMAP on 50 photos costs
    ~17 s, and the product stage's content keys let every later user (the CLI included) reuse the cameras."""
    return tmp_path_factory.getbasetemp() / "fox-shared-data"


def fox_capture(*, media_dir: Path, data_dir: Path) -> tuple[ProductCapture, LocalStore]:
    """The fox's capture (cameras, sparse points, dataset, orbit) as `momentloop product --data-dir data_dir
    <fox images>` makes it: the same store and the same request, so whichever runs first registers."""
    store = LocalStore(Settings(data_dir=data_dir).artifacts_dir)
    photos = expand_photo_paths([media_dir / "multiview" / "fox" / "images"])
    request = ProductRequest(photos=ingest_photos(store=store, paths=photos), renderer="preview")
    return prepare_capture(request=request, store=store), store
