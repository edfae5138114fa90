"""Product scenes: a turntable the test renders and encodes itself (VP9 with alpha, as `momentloop
product` writes it) composited over a background whose colours we control, measured on the frames."""

from __future__ import annotations

import itertools
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from functions.clips.product_scene import (
    BACKGROUND_DIM,
    TurntableError,
    frames_for,
    probe_turntable,
    render_product_frames,
)
from functions.clips.yuv import planes_to_bgr
from functions.plan.product import product_focus
from shared.media.ffmpeg import ffmpeg_exe
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Scene
from shared.models.render import ClipRequest
from shared.store import LocalStore

SIDE = 96
"""Turntable frames are SIDE x SIDE: a disc (opaque, radius DISC) inside a half-transparent ring (to RING)."""
DISC, RING = 30, 42
MARK_R = 20
TURN_FRAMES = 30
TURN_FPS = 15
GREEN = (40, 170, 60)  # BGR of the disc
RING_COLOUR = (60, 150, 250)  # BGR of the ring, at alpha 0.5
BLUE = (200, 70, 30)  # the background's left half (BGR)
YELLOW = (40, 200, 230)  # and right half
W, H, FPS = 270, 480, 12
SCENE_FRAMES, LEAD_FRAMES = 24, 3


def turntable_frame(k: int) -> np.ndarray:
    """Frame k of the turn, RGBA: a textured disc turned by 360°·k/TURN_FRAMES, a red marker on it."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32) + 0.5
    dx, dy = xx - SIDE / 2, yy - SIDE / 2
    r = np.hypot(dx, dy)
    turn = 2 * math.pi * k / TURN_FRAMES
    theta = np.arctan2(dy, dx) - turn
    bgr = np.zeros((SIDE, SIDE, 3), np.float32)
    stripes = 0.85 + 0.15 * np.sign(np.sin(6 * theta))  # a texture that turns with the disc
    bgr[:] = np.array(GREEN, np.float32) * stripes[:, :, None]
    bgr[r >= DISC] = RING_COLOUR
    mx, my = SIDE / 2 + MARK_R * math.cos(turn), SIDE / 2 + MARK_R * math.sin(turn)
    bgr[np.hypot(xx - mx, yy - my) <= 5] = (0, 0, 255)
    alpha = np.where(r < DISC, 255, np.where(r < RING, 128, 0)).astype(np.uint8)
    rgba = np.dstack([bgr[:, :, 2], bgr[:, :, 1], bgr[:, :, 0]]).astype(np.uint8)
    return np.dstack([rgba, alpha])


def encode(frames: list[np.ndarray], dest: Path, *, codec: list[str], fps: int = TURN_FPS) -> Path:
    h, w = frames[0].shape[:2]
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgba",
           "-video_size", f"{w}x{h}", "-framerate", str(fps), "-i", "pipe:0", *codec, "-y", str(dest)]
    subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True)
    return dest


@pytest.fixture(scope="module")
def turntable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("turntable") / "turn.webm"
    # Lossless, so the half-transparent ring keeps alpha 128 and the measurements test the compositing.
    return encode([turntable_frame(k) for k in range(TURN_FRAMES)], dest,
                  codec=["-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-lossless", "1"])


def background() -> np.ndarray:
    """Left half blue, right half yellow, at twice the frame's size (cover-fit scales it by exactly 1/2)."""
    image = np.zeros((2 * H, 2 * W, 3), np.uint8)
    image[:, :W] = BLUE
    image[:, W:] = YELLOW
    return image


def request(*, move: CameraMove = CameraMove.drift, kind: str = "product", key: str | None = "t.webm") -> ClipRequest:
    output = OutputSpec(aspect="9:16", width=W, height=H, fps=FPS, duration=10.0)
    lead = LEAD_FRAMES / FPS
    scene = Scene(index=2, photo="bg.jpg", photo_index=0, image_key="styled/bg.png", start=4.0,
                  end=4.0 + SCENE_FRAMES / FPS, beats=4, move=move,
                  focus=product_focus(output=output) if kind == "product" else Box(x=0.3, y=0.3, w=0.4, h=0.4),
                  prompt="turntable", kind=kind, product_key=key if kind == "product" else None)  # type: ignore[arg-type]
    return ClipRequest(image_key="styled/bg.png", scene=scene, output=output,
                       frames=SCENE_FRAMES + 2 * LEAD_FRAMES, lead_in=lead, lead_out=lead)


@pytest.fixture(scope="module")
def frames(turntable: Path) -> list[np.ndarray]:
    return [planes_to_bgr(p) for p in render_product_frames(background=background(), turntable=turntable,
                                                           request=request())]


def disc_mask(frame: np.ndarray) -> np.ndarray:
    b, g, r = (frame[:, :, i].astype(int) for i in range(3))
    return (g > 110) & (g > r + 10) & (g > b + 40)


def marker_angle(frame: np.ndarray, centre: tuple[float, float]) -> float:
    b, g, r = (frame[:, :, i].astype(int) for i in range(3))
    ys, xs = np.nonzero((r > 170) & (g < 90) & (b < 90))
    assert len(xs) > 10, "the red marker must be visible"
    return math.degrees(math.atan2(ys.mean() - centre[1], xs.mean() - centre[0]))


def test_exact_frame_count_at_the_output_size_and_no_black_bars(frames: list[np.ndarray]) -> None:
    assert len(frames) == SCENE_FRAMES + 2 * LEAD_FRAMES
    for f in frames:
        assert f.shape == (H, W, 3)
        edges = [f[0], f[-1], f[:, 0], f[:, -1]]
        assert min(float(e.mean()) for e in edges) > 60, "an edge row or column is dark: a black bar"


def test_the_product_stands_centred_at_seventy_percent_of_the_short_side(frames: list[np.ndarray]) -> None:
    for f in frames[:: len(frames) // 5]:
        ys, xs = np.nonzero(disc_mask(f))
        # The bounding box, not the mean: the marker and the stripes are not green.
        assert (xs.min() + xs.max() + 1) / 2 == pytest.approx(W / 2, abs=1.5)
        assert (ys.min() + ys.max() + 1) / 2 == pytest.approx(H / 2, abs=1.5)
        # The whole product (ring included) spans 0.7 of the width; the opaque disc DISC/RING of it.
        expected = 0.7 * W * DISC / RING
        assert xs.max() - xs.min() + 1 == pytest.approx(expected, abs=4)
        assert ys.max() - ys.min() + 1 == pytest.approx(expected, abs=4)


def test_the_background_shows_dimmed_where_the_turntable_is_transparent(frames: list[np.ndarray]) -> None:
    for f in (frames[0], frames[-1]):
        for (x, y), colour in (((20, 20), BLUE), ((W - 20, 30), YELLOW), ((20, H - 20), BLUE),
                               ((W - 20, H - 20), YELLOW)):
            got = f[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).mean(axis=0)
            assert got == pytest.approx([BACKGROUND_DIM * c for c in colour], abs=5)


def test_a_half_transparent_edge_is_half_product_half_background(frames: list[np.ndarray]) -> None:
    scale = 0.7 * W / (2 * RING)
    ring_mid = (DISC + RING) / 2 * scale
    for f in frames[:: len(frames) // 4]:
        for side, colour in ((-1, BLUE), (1, YELLOW)):
            x, y = round(W / 2 + side * ring_mid), H // 2
            got = f[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).mean(axis=0)
            want = [0.5 * w + 0.5 * BACKGROUND_DIM * c for w, c in zip(RING_COLOUR, colour, strict=True)]
            assert got == pytest.approx(want, abs=6)


def test_one_full_turn_spans_the_scene_and_the_leads_keep_turning(frames: list[np.ndarray]) -> None:
    centre = (W / 2, H / 2)
    angles = [marker_angle(f, centre) for f in frames]
    steps = [((b - a + 180) % 360) - 180 for a, b in itertools.pairwise(angles)]
    assert all(s > 0 for s in steps), "the product turns one way, every frame"
    scene = slice(LEAD_FRAMES, LEAD_FRAMES + SCENE_FRAMES)
    turned = sum(steps[scene])  # from the scene's first frame to the first frame after it
    assert turned == pytest.approx(360.0, abs=1.0)
    assert angles[LEAD_FRAMES] == pytest.approx(0.0, abs=2.0)
    # Lead-in frames show the end of the turn: the rotation runs through the crossfade.
    assert sum(steps[:LEAD_FRAMES]) == pytest.approx(360.0 * LEAD_FRAMES / SCENE_FRAMES, abs=13.0)


def test_a_push_in_zooms_the_background_and_keeps_the_product_still(turntable: Path) -> None:
    backdrop = background()
    backdrop[:120] = (90, 90, 90)  # a grey band on top: a horizontal edge at row 60 of the frame
    out = [planes_to_bgr(p) for p in render_product_frames(background=backdrop, turntable=turntable,
                                                         request=request(move=CameraMove.push_in))]

    def edge_row(frame: np.ndarray) -> int:
        column = frame[: H // 2, 10].astype(int).sum(axis=1)
        return int(np.argmax(np.abs(np.diff(column))))

    # A 6% zoom about the centre moves an edge 180 px above it about 11 px outward.
    assert edge_row(out[0]) - edge_row(out[-1]) >= 8
    first, last = disc_mask(out[0]), disc_mask(out[-1])
    assert abs(int(first.sum()) - int(last.sum())) < 0.03 * first.sum(), "the product keeps its size"


def test_frames_for_dispatches_on_the_scene_kind(turntable: Path, store: LocalStore) -> None:
    store.put_file("inputs/t.webm", turntable)
    product = list(frames_for(request=request(key="inputs/t.webm"), photo=background(), store=store))
    assert len(product) == SCENE_FRAMES + 2 * LEAD_FRAMES
    assert disc_mask(planes_to_bgr(product[5])).sum() > 1000
    photo = list(frames_for(request=request(kind="photo"), photo=background(), store=store))
    assert len(photo) == SCENE_FRAMES + 2 * LEAD_FRAMES
    assert disc_mask(planes_to_bgr(photo[5])).sum() == 0


def test_a_good_turntable_is_probed(turntable: Path) -> None:
    info = probe_turntable(turntable)
    assert (info.width, info.height, info.frames) == (SIDE, SIDE, TURN_FRAMES)
    assert info.duration == pytest.approx(TURN_FRAMES / TURN_FPS)


def test_files_that_are_not_turntables_are_refused_in_one_line(tmp_path: Path) -> None:
    opaque = [np.dstack([turntable_frame(k)[:, :, :3], np.full((SIDE, SIDE), 255, np.uint8)]) for k in range(4)]
    cases = {
        "opaque.webm": encode(opaque, tmp_path / "opaque.webm", codec=["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p"]),
        "h264.mp4": encode(opaque, tmp_path / "h264.mp4", codec=["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
        "notes.webm": tmp_path / "notes.webm",
    }
    cases["notes.webm"].write_text("not a video")
    reasons = {}
    for name, path in cases.items():
        with pytest.raises(TurntableError) as err:
            probe_turntable(path)
        reasons[name] = str(err.value)
        assert "\n" not in reasons[name] and reasons[name].startswith(name)
    assert "alpha" in reasons["opaque.webm"]
    assert "h264" in reasons["h264.mp4"] or "WebM" in reasons["h264.mp4"]
