"""Framing as a viewer sees it: no black borders on any frame, and a photo that cover would cut shown
whole over a blurred fill of itself."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.clips import run_clip
from functions.clips.framing import choose_framing, cover_cut
from shared.models import Box, CameraMove, Framing
from shared.store import LocalStore
from tests.functions.clips.clip_inputs import clip_path, clip_request, put_photo, textured_photo
from tests.videocheck import black_border_fraction, decode_rgb_frames

EDGE_FOCUS = Box(x=0.78, y=0.7, w=0.22, h=0.3)
"""A subject in the bottom-right corner: the camera is pulled hardest against the canvas edge."""


def _luma(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722], np.float32)


@pytest.fixture(scope="module")
def real_photo(good_photos: list[Path]) -> np.ndarray:
    image = cv2.imread(str(next(p for p in good_photos if p.name == "chelsea_cat.png")), cv2.IMREAD_COLOR)
    assert image is not None
    # What makes the check below honest: the photo itself has no near-black row or column anywhere,
    # so a dark row or column at a frame's edge can only be a border the renderer added.
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert gray.max(axis=0).min() >= 40 and gray.max(axis=1).min() >= 40
    return image


@pytest.mark.parametrize(
    ("move", "framing", "focus", "size"),
    [
        (CameraMove.push_in, Framing.cover, EDGE_FOCUS, (144, 256)),
        (CameraMove.pull_out, Framing.cover, Box(x=0.0, y=0.0, w=0.2, h=0.2), (144, 256)),
        (CameraMove.pan_left, Framing.cover, EDGE_FOCUS, (144, 256)),
        (CameraMove.pan_up, Framing.cover, EDGE_FOCUS, (256, 144)),
        (CameraMove.drift, Framing.blurred_fill, EDGE_FOCUS, (144, 256)),
        (CameraMove.pan_right, Framing.blurred_fill, EDGE_FOCUS, (256, 144)),
    ],
)
def test_no_black_borders_on_a_real_photo(
    store: LocalStore,
    real_photo: np.ndarray,
    move: CameraMove,
    framing: Framing,
    focus: Box,
    size: tuple[int, int],
) -> None:
    key = put_photo(store, real_photo)
    request = clip_request(image_key=key, move=move, framing=framing, focus=focus, width=size[0], height=size[1],
                           frames=24)
    frames = decode_rgb_frames(clip_path(store, run_clip(request=request, store=store).clip_key), size=size)
    for i, frame in enumerate(frames):
        assert black_border_fraction(frame, level=32) == 0.0, f"frame {i} has a black border"
        luma = _luma(frame)
        edges = [luma[0], luma[-1], luma[:, 0], luma[:, -1]]
        assert min(float(e.max()) for e in edges) >= 32, f"frame {i} has a dark edge line"


def test_black_border_check_catches_letterboxing(real_photo: np.ndarray) -> None:
    """The negative control: the photo fitted into a 9:16 frame over black, as a naive renderer does."""
    frame = np.zeros((256, 144, 3), np.uint8)
    fitted = cv2.resize(real_photo, (144, round(144 * real_photo.shape[0] / real_photo.shape[1])))
    y0 = (256 - fitted.shape[0]) // 2
    frame[y0 : y0 + fitted.shape[0]] = fitted
    assert black_border_fraction(frame, level=32) > 0.3


WIDE_W, WIDE_H = 900, 300
OUT_W, OUT_H = 180, 320
BAND_H = OUT_W * WIDE_H // WIDE_W  # the whole 3:1 photo fitted to the frame's width: 60 px
BAND_Y = (OUT_H - BAND_H) // 2


@pytest.fixture(scope="module")
def wide_frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray]:
    """A 3:1 photo whose subject spans most of it, planned as cover into 9:16: cover would show a fifth
    of the subject, so the renderer must fall back to a blurred fill."""
    store = LocalStore(tmp_path_factory.mktemp("clips-wide"))
    photo = textured_photo(width=WIDE_W, height=WIDE_H, seed=11)
    photo[:, :, 0] //= 3  # an orange cast, so the fill's colour can be traced to the photo
    request = clip_request(
        image_key=put_photo(store, photo),
        move=CameraMove.push_in,
        framing=Framing.cover,
        focus=Box(x=0.1, y=0.1, w=0.8, h=0.8),
        width=OUT_W,
        height=OUT_H,
        frames=30,
    )
    frames = decode_rgb_frames(clip_path(store, run_clip(request=request, store=store).clip_key), size=(OUT_W, OUT_H))
    return photo, frames


def test_blurred_fill_shows_the_whole_wide_photo(wide_frames: tuple[np.ndarray, np.ndarray]) -> None:
    photo, frames = wide_frames
    expected = cv2.cvtColor(cv2.resize(photo, (OUT_W, BAND_H), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    band = frames[0][BAND_Y : BAND_Y + BAND_H].astype(np.float32)
    diff = np.abs(band - expected.astype(np.float32)).mean()
    assert diff < 12, f"the first frame's middle band is not the whole photo (mean difference {diff:.1f})"
    # And the photo is not repeated or cut: each half of the band matches its own half of the photo.
    for half in (slice(0, OUT_W // 2), slice(OUT_W // 2, OUT_W)):
        assert np.abs(band[:, half] - expected[:, half].astype(np.float32)).mean() < 12


def test_blurred_fill_is_a_soft_dark_copy_not_black_bars(wide_frames: tuple[np.ndarray, np.ndarray]) -> None:
    photo, frames = wide_frames
    margin = 12  # rows next to the band may carry bilinear blending of its edge
    for i in (0, len(frames) // 2, len(frames) - 1):
        frame = frames[i]
        assert black_border_fraction(frame, level=32) == 0.0, f"frame {i} has black bars"
        luma = _luma(frame)
        band_y0, band_y1 = BAND_Y + 8, BAND_Y + BAND_H - 8
        fills = (luma[: BAND_Y - margin], luma[BAND_Y + BAND_H + margin :]) if i == 0 else (luma[:40], luma[-40:])
        band_detail = cv2.Laplacian(luma[band_y0:band_y1], cv2.CV_32F).var()
        for fill in fills:
            assert fill.mean() > 40, f"frame {i}: the fill is near-black ({fill.mean():.0f})"
            detail = cv2.Laplacian(np.ascontiguousarray(fill), cv2.CV_32F).var()
            assert detail < band_detail / 20, f"frame {i}: the fill is not blurred ({detail:.1f} vs {band_detail:.1f})"
            assert fill.mean() < luma[band_y0:band_y1].mean(), f"frame {i}: the fill is not darker than the photo"
    # The fill is made of the photo: its colour follows the photo's middle (what a cover crop shows).
    middle = photo[:, WIDE_W * 2 // 5 : WIDE_W * 3 // 5].reshape(-1, 3)[:, ::-1].mean(axis=0)
    fill_rgb = frames[0][: BAND_Y - margin].reshape(-1, 3).mean(axis=0)
    ratio = fill_rgb / middle
    assert ratio.max() - ratio.min() < 0.15, f"fill colour {fill_rgb} does not follow the photo's {middle}"


def test_cover_cut_decides_the_framing() -> None:
    # A 3:1 photo into 9:16: the widest cover view shows 19% of the width.
    assert cover_cut(photo_w=900, photo_h=300, focus=Box(x=0.4, y=0.1, w=0.15, h=0.8), aspect=9 / 16) == 0.0
    wide_subject = Box(x=0.1, y=0.1, w=0.8, h=0.8)
    assert cover_cut(photo_w=900, photo_h=300, focus=wide_subject, aspect=9 / 16) > 0.7
    planned = Framing.cover
    assert choose_framing(planned=planned, photo_w=900, photo_h=300, focus=wide_subject, aspect=9 / 16) == (
        Framing.blurred_fill
    )
    assert choose_framing(planned=planned, photo_w=900, photo_h=300, focus=wide_subject, aspect=3.0) == Framing.cover
    # A plan asking for blurred fill gets it even when cover would do.
    assert choose_framing(planned=Framing.blurred_fill, photo_w=900, photo_h=300, focus=wide_subject, aspect=3.0) == (
        Framing.blurred_fill
    )


def test_colours_come_through_unchanged(store: LocalStore) -> None:
    """Flat patches of saturated and neutral colours, decoded the way the rest of the pipeline decodes
    (PyAV/ffmpeg): a wrong YUV matrix would shift greens by 30 levels."""
    colours_bgr = [(0, 0, 220), (0, 200, 0), (210, 0, 0), (40, 180, 230), (128, 128, 128), (200, 60, 160)]
    photo = np.zeros((480, 720, 3), np.uint8)
    for i, colour in enumerate(colours_bgr):
        photo[:, i * 120 : (i + 1) * 120] = colour
    # A slow drift at the centre keeps every patch in frame; sample each patch's middle in the frame.
    request = clip_request(image_key=put_photo(store, photo), move=CameraMove.drift, frames=8, lead=0.0,
                           width=480, height=320)
    frame = decode_rgb_frames(clip_path(store, run_clip(request=request, store=store).clip_key), size=(480, 320))[0]
    # Frame 0 shows the photo's widest 3:2 view: all 720 columns, the middle 480 rows -> 2/3 scale.
    for i, (b, g, r) in enumerate(colours_bgr):
        x = round((i + 0.5) * 120 * 480 / 720)
        got = frame[140:180, x - 10 : x + 10].reshape(-1, 3).mean(axis=0)
        assert np.abs(got - (r, g, b)).max() < 5, f"patch {i}: {(r, g, b)} came out as {np.round(got)}"
