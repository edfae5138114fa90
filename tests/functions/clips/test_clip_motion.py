"""Camera motion as a viewer sees it, measured from the decoded clip: smooth, monotonic, sub-pixel.

Each motion test runs the same metric on a naive renderer (integer crops of the same camera path,
encoded the same way) and shows that the metric catches its stair-steps, so the test can fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.clips import run_clip
from functions.clips.encode import encode_frames, intermediate_codec
from functions.clips.framing import render_canvas
from functions.clips.renderer import plan_shot
from functions.clips.yuv import Planes, bgr_to_planes
from shared.models.base import Box
from shared.models.plan import CameraMove
from shared.models.render import ClipRequest
from shared.store import LocalStore
from tests.functions.clips.clip_inputs import (
    clip_path,
    clip_request,
    log_scales,
    put_photo,
    roughness,
    textured_photo,
    translations,
)
from tests.videocheck import decode_gray_frames, decode_rgb_frames

SIZE = 320
PHOTO_W, PHOTO_H = 640, 480

MAX_PAN_ROUGHNESS = 0.12
"""px/frame: a sub-pixel camera measures 0.03..0.06 (phase-correlation noise); integer crops of a slow
pan 0.37."""
MAX_ZOOM_ROUGHNESS = 3e-4
"""log-scale/frame: a sub-pixel camera measures ~5e-5; integer crops ~1e-3."""
INTERIOR = 0.15
"""Between 15% and 85% of the clip the eased camera moves at >= 25% of its peak speed."""


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return textured_photo(width=PHOTO_W, height=PHOTO_H, seed=3)


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    return LocalStore(tmp_path_factory.mktemp("clips-motion"))


def _render(store: LocalStore, photo: np.ndarray, move: CameraMove, **kw: object) -> Path:
    key = put_photo(store, photo)
    request = clip_request(image_key=key, move=move, width=SIZE, height=SIZE, **kw)  # type: ignore[arg-type]
    return clip_path(store, run_clip(request=request, store=store).clip_key)


def _integer_crop_clip(photo: np.ndarray, request: ClipRequest, dest: Path) -> Path:
    """The negative control: the same camera path, but each frame an integer-pixel crop resized to the
    output (what a naive Ken Burns does), encoded with the same encoder."""
    shot = plan_shot(photo_w=photo.shape[1], photo_h=photo.shape[0], request=request)
    canvas = render_canvas(layout=shot.layout, photo=photo, scale=shot.scale)

    def frames() -> Iterator[Planes]:
        for view in shot.views:
            r = view.rect
            x0, y0 = round(r.x * canvas.kx), round(r.y * canvas.ky)
            x1, y1 = round(r.right * canvas.kx), round(r.bottom * canvas.ky)
            crop = canvas.image[y0:y1, x0:x1]
            yield bgr_to_planes(cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA))

    encode_frames(frames=frames(), dest=dest, width=SIZE, height=SIZE, fps=30,
                  codec=intermediate_codec(preset="ultrafast", crf=12))
    return dest


def _assert_smooth_monotonic(series: np.ndarray, *, sign: float, noise: float, max_roughness: float) -> None:
    moving = sign * series
    assert moving.min() > -noise, f"the camera reverses: {np.round(series, 4)}"
    skip = int(INTERIOR * len(moving))
    interior = moving[skip:-skip]
    assert interior.min() > 0.15 * moving.max(), f"a frame stands still between moving frames: {np.round(series, 4)}"
    assert roughness(series) < max_roughness, f"stair-steps or jitter: {np.round(series, 4)}"


def test_slow_pan_moves_smoothly_and_monotonically(module_store: LocalStore, tmp_path: Path) -> None:
    # A photo barely wider than the frame over 4 s: the camera moves well under 2 px per frame, where
    # whole-pixel steps would show as frames that stand still between frames that jump.
    photo = textured_photo(width=520, height=PHOTO_H, seed=4)
    frames = decode_gray_frames(_render(module_store, photo, CameraMove.pan_right, frames=120), size=(SIZE, SIZE))
    shifts = translations(frames)
    dx, dy = shifts[:, 0], shifts[:, 1]
    # pan_right: the camera travels right, so the picture slides left.
    _assert_smooth_monotonic(dx, sign=-1, noise=0.1, max_roughness=MAX_PAN_ROUGHNESS)
    assert np.abs(dx).sum() > 40, f"the pan barely moves: {dx.sum():.1f} px"
    assert np.abs(dx).max() < 2, "not a slow pan: the test would not show stair-steps"
    assert np.abs(dy).max() < 0.2, "a horizontal pan drifts vertically"

    request = clip_request(image_key="x", move=CameraMove.pan_right, frames=120)
    naive = _integer_crop_clip(photo, request, tmp_path / "naive.mp4")
    naive_dx = translations(decode_gray_frames(naive, size=(SIZE, SIZE)))[:, 0]
    assert roughness(naive_dx) > 2 * MAX_PAN_ROUGHNESS, "the metric cannot tell integer crops from a smooth pan"
    with pytest.raises(AssertionError):
        _assert_smooth_monotonic(naive_dx, sign=-1, noise=0.1, max_roughness=MAX_PAN_ROUGHNESS)


def test_push_in_zooms_smoothly_and_monotonically(
    module_store: LocalStore, photo: np.ndarray, tmp_path: Path
) -> None:
    frames = decode_gray_frames(_render(module_store, photo, CameraMove.push_in), size=(SIZE, SIZE))
    scales = log_scales(frames)
    _assert_smooth_monotonic(scales, sign=1, noise=3e-4, max_roughness=MAX_ZOOM_ROUGHNESS)
    assert 1.05 < float(np.exp(scales.sum())) < 1.25, f"zoom {np.exp(scales.sum()):.3f} over the clip"

    naive = _integer_crop_clip(photo, clip_request(image_key="x", move=CameraMove.push_in), tmp_path / "naive.mp4")
    naive_scales = log_scales(decode_gray_frames(naive, size=(SIZE, SIZE)))
    assert roughness(naive_scales) > 2 * MAX_ZOOM_ROUGHNESS, "the metric cannot tell integer crops from a smooth zoom"
    with pytest.raises(AssertionError):
        _assert_smooth_monotonic(naive_scales, sign=1, noise=3e-4, max_roughness=MAX_ZOOM_ROUGHNESS)


def test_pull_out_zooms_out_smoothly(module_store: LocalStore, photo: np.ndarray) -> None:
    frames = decode_gray_frames(_render(module_store, photo, CameraMove.pull_out), size=(SIZE, SIZE))
    _assert_smooth_monotonic(log_scales(frames), sign=-1, noise=3e-4, max_roughness=MAX_ZOOM_ROUGHNESS)


@pytest.mark.parametrize(("move", "axis", "sign"), [(CameraMove.pan_left, 0, 1), (CameraMove.pan_up, 1, 1),
                                                     (CameraMove.pan_down, 1, -1)])
def test_pans_travel_the_way_they_say(
    module_store: LocalStore, photo: np.ndarray, move: CameraMove, axis: int, sign: float
) -> None:
    # A portrait photo gives a vertical pan room to travel; a landscape one gives a horizontal pan room.
    source = photo if axis == 0 else np.ascontiguousarray(np.rot90(photo))
    frames = decode_gray_frames(_render(module_store, source, move), size=(SIZE, SIZE))
    shifts = translations(frames)
    _assert_smooth_monotonic(shifts[:, axis], sign=sign, noise=0.1, max_roughness=MAX_PAN_ROUGHNESS)
    assert np.abs(shifts[:, 1 - axis]).max() < 0.2


def test_drift_zooms_gently_and_glides(module_store: LocalStore, photo: np.ndarray) -> None:
    frames = decode_gray_frames(_render(module_store, photo, CameraMove.drift), size=(SIZE, SIZE))
    scales = log_scales(frames)
    _assert_smooth_monotonic(scales, sign=1, noise=3e-4, max_roughness=MAX_ZOOM_ROUGHNESS)
    zoom = float(np.exp(scales.sum()))
    assert 1.02 < zoom < 1.1, f"a drift is a slow zoom, got {zoom:.3f}"


def _marker(frame: np.ndarray) -> tuple[float, float, int]:
    """Centroid (x, y) and pixel count of the pure-red marker in an RGB frame."""
    r, g, b = (frame[:, :, i].astype(int) for i in range(3))
    ys, xs = np.nonzero((r > 170) & (g < 70) & (b < 70))
    return float(xs.mean()) if len(xs) else np.nan, float(ys.mean()) if len(ys) else np.nan, len(xs)


def test_push_in_moves_toward_the_focus(store: LocalStore) -> None:
    focus = Box(x=0.62, y=0.2, w=0.16, h=0.2)
    photo = textured_photo(width=PHOTO_W, height=PHOTO_H, seed=5)
    centre = (round((focus.cx) * PHOTO_W), round((focus.cy) * PHOTO_H))
    cv2.circle(photo, centre, 30, (0, 0, 255), -1, lineType=cv2.LINE_AA)
    key = put_photo(store, photo)
    result = run_clip(request=clip_request(image_key=key, move=CameraMove.push_in, focus=focus), store=store)
    frames = decode_rgb_frames(clip_path(store, result.clip_key), size=(SIZE, SIZE))
    marks = np.array([_marker(f) for f in frames])
    assert not np.isnan(marks[:, 0]).any(), "the focus left the frame"
    distance = np.hypot(marks[:, 0] - SIZE / 2, marks[:, 1] - SIZE / 2)
    area = marks[:, 2]
    assert distance[-1] < 0.75 * distance[0], f"focus {distance[0]:.1f} -> {distance[-1]:.1f} px from the centre"
    assert np.diff(distance).max() < 0.5, "the focus moves away from the centre at some point"
    assert area[-1] > 1.12 * area[0], f"the focus does not grow: {area[0]} -> {area[-1]} px"
    # The whole marker stays in frame on every frame: it only grows, never gets cut.
    assert area.min() >= 0.97 * area[0]
