"""The turntable's last piece: the rendered RGBA frames → a VP9 WebM with alpha and its PNG poster, and
the result (with the capture's registration figures) that `momentloop product --report` writes out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from functions.product.turntable import encode_turntable, read_rgba_png, write_rgba_png
from shared.models.product import ProductCapture, ProductRenderPlan, ProductRequest, ProductResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore, put_model


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
