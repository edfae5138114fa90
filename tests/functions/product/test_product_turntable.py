"""The turntable clip keeps its alpha: encoded to VP9 WebM, decoded back, measured pixel by pixel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from functions.product.turntable import (
    decode_args,
    encode_args,
    encode_turntable,
    read_rgba_png,
    read_turntable_rgba,
    turntable_size,
    write_rgba_png,
)
from shared.errors import FFmpegError, InputError

W, H, FRAMES = 192, 128, 12


def disc_frames() -> list[np.ndarray]:
    """An opaque orange disc moving over a fully transparent background, with a half-transparent bar."""
    frames = []
    yy, xx = np.mgrid[:H, :W]
    for i in range(FRAMES):
        frame = np.zeros((H, W, 4), np.uint8)
        inside = np.hypot(xx - (50 + 8 * i), yy - H / 2) < 30
        frame[inside] = (240, 140, 20, 255)
        frame[100:116, 20:60] = (30, 60, 200, 128)
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[np.ndarray]]:
    frames = disc_frames()
    path = tmp_path_factory.mktemp("turntable") / "turn.webm"
    assert encode_turntable(frames=iter(frames), dest=path, width=W, height=H, fps=30) == FRAMES
    return path, frames


def test_alpha_survives_the_round_trip(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, sent = clip
    back = list(read_turntable_rgba(path))
    assert len(back) == FRAMES
    for original, decoded in zip(sent, back, strict=True):
        assert decoded.shape == (H, W, 4)
        a_in, a_out = original[:, :, 3], decoded[:, :, 3]
        # away from edges (4:2:0 chroma and the codec blur them), measure each region
        background = a_in == 0
        background[90:126, 10:70] = False  # the bar's neighbourhood
        obj = a_in == 255
        assert np.percentile(a_out[background], 99.5) <= 4 and a_out[background].mean() < 1.0
        assert np.percentile(a_out[obj], 1) >= 250 and a_out[obj].mean() > 253
        assert abs(float(a_out[104:112, 28:52].mean()) - 128) < 6  # partial transparency kept too
        colour = decoded[obj][:, :3].astype(int).mean(axis=0)
        assert np.all(np.abs(colour - (240, 140, 20)) < 12)
    # the disc moves: the decoded frames are the frames in order, not one frame repeated
    xs = [np.nonzero(f[:, :, 3] > 128)[1].mean() for f in back]
    assert np.all(np.diff(xs) > 5)


def test_the_file_is_vp9_with_an_alpha_plane(clip: tuple[Path, list[np.ndarray]]) -> None:
    import av

    path, _ = clip
    assert turntable_size(path) == (W, H, 30.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert container.format.name.startswith("matroska") and stream.codec_context.name == "vp9"
        assert stream.metadata.get("alpha_mode") == "1" or stream.metadata.get("ALPHA_MODE") == "1"


def test_commands_name_the_alpha_codec_on_both_sides(tmp_path: Path) -> None:
    enc = encode_args(dest=tmp_path / "x.webm", width=W, height=H, fps=30)
    assert enc[enc.index("-c:v") + 1] == "libvpx-vp9" and enc[enc.index("-pix_fmt", enc.index("-i")) + 1] == "yuva420p"
    dec = decode_args(path=tmp_path / "x.webm")
    # the libvpx decoder must be chosen before -i: ffmpeg's own vp9 decoder drops the alpha plane
    assert dec.index("-c:v") < dec.index("-i") and dec[dec.index("-c:v") + 1] == "libvpx-vp9"


def test_stopping_early_ends_the_decoder(clip: tuple[Path, list[np.ndarray]]) -> None:
    path, _ = clip
    frames = read_turntable_rgba(path)
    first = next(frames)
    frames.close()  # must not hang or leave ffmpeg running
    assert first.shape == (H, W, 4)


def test_bad_frames_and_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="expected uint8"):
        encode_turntable(frames=[np.zeros((H, W, 3), np.uint8)], dest=tmp_path / "a.webm", width=W, height=H, fps=30)
    with pytest.raises(ValueError, match="even"):
        encode_turntable(frames=[], dest=tmp_path / "b.webm", width=W + 1, height=H, fps=30)
    with pytest.raises(FFmpegError):
        encode_turntable(frames=[], dest=tmp_path / "no-such-dir" / "c.webm", width=W, height=H, fps=30)
    bogus = tmp_path / "bogus.webm"
    bogus.write_bytes(b"not a webm")
    with pytest.raises(InputError):
        list(read_turntable_rgba(bogus))


def test_poster_png_keeps_alpha(tmp_path: Path) -> None:
    frame = disc_frames()[3]
    write_rgba_png(frame=frame, dest=tmp_path / "poster.png")
    assert np.array_equal(read_rgba_png(tmp_path / "poster.png"), frame)
