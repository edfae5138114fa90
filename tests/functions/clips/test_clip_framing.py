"""Framing as a viewer sees it: no black borders on any frame, a photo shown whole over a blurred fill of
itself when the plan asks for it, and a canvas that grows past the photo only as far as the move needs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.clips import run_clip
from functions.clips.camera import MIN_PUSH_ZOOM, PAN_VIEWS_PER_S, Rect, widest_view_size
from functions.clips.framing import CanvasLayout, layout_canvas
from functions.clips.renderer import plan_shot
from shared.models.base import Box
from shared.models.plan import CameraMove, Framing
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


@pytest.fixture(scope="module")
def wide_frames(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A 3:1 photo into 9:16, planned as the whole photo over a blurred fill: the photo, the decoded frames
    and where the photo lies in the first (widest) frame, (x0, y0, x1, y1) in output pixels."""
    store = LocalStore(tmp_path_factory.mktemp("clips-wide"))
    photo = textured_photo(width=WIDE_W, height=WIDE_H, seed=11)
    photo[:, :, 0] //= 3  # an orange cast, so the fill's colour can be traced to the photo
    request = clip_request(
        image_key=put_photo(store, photo),
        move=CameraMove.push_in,
        framing=Framing.blurred_fill,
        focus=Box(x=0.0, y=0.0, w=1.0, h=1.0),
        width=OUT_W,
        height=OUT_H,
        frames=30,
    )
    frames = decode_rgb_frames(clip_path(store, run_clip(request=request, store=store).clip_key), size=(OUT_W, OUT_H))
    shot = plan_shot(photo_w=WIDE_W, photo_h=WIDE_H, request=request)
    view, p = shot.views[0].rect, shot.layout.photo
    k = OUT_W / view.w
    band = (round((p.x - view.x) * k), round((p.y - view.y) * k), round((p.right - view.x) * k),
            round((p.bottom - view.y) * k))
    return photo, frames, band


def test_blurred_fill_shows_the_whole_wide_photo(
    wide_frames: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]],
) -> None:
    photo, frames, (x0, y0, x1, y1) = wide_frames
    assert x0 >= 0 and x1 <= OUT_W and x1 - x0 > 0.9 * OUT_W, "the whole photo, nearly as wide as the frame"
    expected = cv2.cvtColor(cv2.resize(photo, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    band = frames[0][y0:y1, x0:x1].astype(np.float32)
    diff = np.abs(band - expected.astype(np.float32)).mean()
    assert diff < 12, f"the first frame's middle band is not the whole photo (mean difference {diff:.1f})"
    # And the photo is not repeated or cut: each half of the band matches its own half of the photo.
    half = (x1 - x0) // 2
    for part in (slice(0, half), slice(half, x1 - x0)):
        assert np.abs(band[:, part] - expected[:, part].astype(np.float32)).mean() < 12


def test_blurred_fill_is_a_soft_dark_copy_not_black_bars(
    wide_frames: tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]],
) -> None:
    photo, frames, (_, band_y, _, band_bottom) = wide_frames
    margin = 12  # rows next to the band may carry bilinear blending of its edge
    for i in (0, len(frames) // 2, len(frames) - 1):
        frame = frames[i]
        assert black_border_fraction(frame, level=32) == 0.0, f"frame {i} has black bars"
        luma = _luma(frame)
        band_y0, band_y1 = band_y + 8, band_bottom - 8
        fills = (luma[: band_y - margin], luma[band_bottom + margin :]) if i == 0 else (luma[:40], luma[-40:])
        band_detail = cv2.Laplacian(luma[band_y0:band_y1], cv2.CV_32F).var()
        for fill in fills:
            assert fill.mean() > 40, f"frame {i}: the fill is near-black ({fill.mean():.0f})"
            detail = cv2.Laplacian(np.ascontiguousarray(fill), cv2.CV_32F).var()
            assert detail < band_detail / 20, f"frame {i}: the fill is not blurred ({detail:.1f} vs {band_detail:.1f})"
            assert fill.mean() < luma[band_y0:band_y1].mean(), f"frame {i}: the fill is not darker than the photo"
    # The fill is made of the photo: its colour follows the photo's middle (what a cover crop shows).
    middle = photo[:, WIDE_W * 2 // 5 : WIDE_W * 3 // 5].reshape(-1, 3)[:, ::-1].mean(axis=0)
    fill_rgb = frames[0][: band_y - margin].reshape(-1, 3).mean(axis=0)
    ratio = fill_rgb / middle
    assert ratio.max() - ratio.min() < 0.15, f"fill colour {fill_rgb} does not follow the photo's {middle}"


def _layout(*, move: CameraMove, focus: Box, faces: list[Box] | None = None, framing: Framing = Framing.cover,
            duration: float = 4.0, aspect: float = 9 / 16) -> CanvasLayout:
    return layout_canvas(framing=framing, photo_w=WIDE_W, photo_h=WIDE_H, focus=focus, faces=faces or [],
                         move=move, aspect=aspect, duration=duration)


def _widest(layout: CanvasLayout, aspect: float = 9 / 16) -> float:
    return widest_view_size(canvas_w=layout.width, canvas_h=layout.height, aspect=aspect)[0]


def test_the_canvas_is_the_photo_when_a_cover_frame_can_show_what_matters() -> None:
    """A 3:1 photo into 9:16 (the widest cover view: 169 of its 900 px): a narrow subject, or a wide one
    that a pan can travel over in the scene's time, needs no fill."""
    narrow = _layout(move=CameraMove.push_in, focus=Box(x=0.4, y=0.1, w=0.15, h=0.8))
    assert (narrow.width, narrow.height) == (WIDE_W, WIDE_H) and narrow.keep is None
    # A pan of 6 s travels up to 1.8 views: 2.8 views of 169 px cover 470 px of subject.
    travelled = _layout(move=CameraMove.pan_right, focus=Box(x=0.2, y=0.1, w=0.5, h=0.8), duration=6.0)
    assert (travelled.width, travelled.height) == (WIDE_W, WIDE_H)
    # Into 16:9 (the widest cover view: 533 px): a drift over a 540 px subject, a head in it.
    head = Box(x=0.45, y=0.1, w=0.1, h=0.5)
    wide = _layout(move=CameraMove.drift, focus=Box(x=0.2, y=0.1, w=0.6, h=0.8), faces=[head], aspect=16 / 9)
    assert (wide.width, wide.height) == (WIDE_W, WIDE_H)


def test_the_canvas_grows_only_as_far_as_the_move_needs() -> None:
    subject = Box(x=0.1, y=0.1, w=0.8, h=0.8)  # 720 px: more than a 2 s pan can travel over (1.6 views)
    pan = _layout(move=CameraMove.pan_right, focus=subject, duration=2.0)
    assert pan.width == WIDE_W and pan.height > WIDE_H, "widened on the short side only"
    travel = 1 + PAN_VIEWS_PER_S * 2.0
    assert _widest(pan) == pytest.approx(720 / travel, abs=1.0)
    # Two heads 600 px apart: every frame must hold both, with room for a push of MIN_PUSH_ZOOM.
    heads = [Box(x=0.1, y=0.2, w=0.1, h=0.5), Box(x=0.77, y=0.2, w=0.1, h=0.5)]
    group = _layout(move=CameraMove.push_in, focus=Box(x=0.1, y=0.2, w=0.77, h=0.5), faces=heads)
    assert group.keep is not None
    assert group.keep.w == pytest.approx(0.77 * WIDE_W)
    assert _widest(group) == pytest.approx(0.77 * WIDE_W * MIN_PUSH_ZOOM, abs=1.0)
    # The whole photo over its fill, asked for by the plan: the widest view holds all of it, and no more
    # than the move's room around it.
    whole = _layout(move=CameraMove.push_in, focus=Box(x=0.0, y=0.0, w=1.0, h=1.0), framing=Framing.blurred_fill)
    assert whole.keep == Rect(x=whole.photo.x, y=whole.photo.y, w=WIDE_W, h=WIDE_H)
    assert _widest(whole) == pytest.approx(WIDE_W * MIN_PUSH_ZOOM, abs=1.0)
    # The photo sits in the middle of its fill, on whole canvas pixels.
    for layout in (pan, group, whole):
        p = layout.photo
        assert p.x == int(p.x) and p.y == int(p.y)
        assert abs(p.x - (layout.width - p.right)) < 1e-9 and abs(p.y - (layout.height - p.bottom)) < 1e-9


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
