"""Measuring helpers for tests: what a viewer would see and hear in a finished file, read from the file
alone (PyAV for pictures, ffmpeg's own meters for loudness). Independent of the code under test."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from shared.media.ffmpeg import ffmpeg_exe
from shared.media.probe import mp4_top_level_boxes


def _decode_frames(path: Path, *, size: tuple[int, int], pixels: str, empty: tuple[int, ...]) -> np.ndarray:
    import av

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            frames.append(frame.reformat(width=size[0], height=size[1], format=pixels).to_ndarray())
    return np.stack(frames) if frames else np.zeros(empty, np.uint8)


def decode_gray_frames(path: Path, *, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Every video frame as 8-bit luma, downscaled to `size` (w, h): array of shape (n, h, w)."""
    return _decode_frames(path, size=size, pixels="gray", empty=(0, size[1], size[0]))


def decode_rgb_frames(path: Path, *, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    """Every video frame as 8-bit RGB, downscaled to `size` (w, h): array of shape (n, h, w, 3)."""
    return _decode_frames(path, size=size, pixels="rgb24", empty=(0, size[1], size[0], 3))


def count_frames(path: Path) -> int:
    """Video frames a player will show (decoded, not read from the header)."""
    import av

    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
    return n


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference (0..255) between each frame and the one before it; d[0] = 0."""
    f = frames.astype(np.float32)
    d = np.zeros(len(f), np.float32)
    if len(f) > 1:
        d[1:] = np.abs(f[1:] - f[:-1]).reshape(len(f) - 1, -1).mean(axis=1)
    return d


def hard_cuts(frames: np.ndarray, fps: float, *, threshold: float = 12.0, ratio: float = 3.0) -> list[float]:
    """Times (s) of frames that differ abruptly from the one before: above `threshold` and `ratio` times
    the larger of the neighbouring differences, so that a crossfade's steady change is not a cut."""
    d = frame_differences(frames)
    cuts = []
    for i in range(1, len(d)):
        neighbours = max(d[i - 1] if i > 1 else 0.0, d[i + 1] if i + 1 < len(d) else 0.0)
        if d[i] >= threshold and d[i] > ratio * neighbours:
            cuts.append(i / fps)
    return cuts


def black_border_fraction(frame: np.ndarray, *, level: int = 24) -> float:
    """Fraction of the frame's area taken by black bars (whole rows/columns darker than `level` at the
    edges). `frame` is gray (h, w) or colour (h, w, c)."""
    gray = frame if frame.ndim == 2 else frame.mean(axis=2)
    h, w = gray.shape
    dark_rows = gray.max(axis=1) < level
    dark_cols = gray.max(axis=0) < level

    def run(flags: np.ndarray) -> int:
        n = 0
        for v in flags:
            if not v:
                break
            n += 1
        return n

    top, bottom = run(dark_rows), run(dark_rows[::-1])
    left, right = run(dark_cols), run(dark_cols[::-1])
    if top >= h:
        return 1.0
    inner = (h - top - bottom) * (w - left - right)
    return 1.0 - max(0, inner) / (h * w)


def decode_audio(path: Path, *, rate: int = 48_000) -> np.ndarray:
    """The first audio stream, mixed to mono float32 at `rate`."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
           "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32)


def _ebur128(path: Path) -> str:
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-map", "0:a:0",
           "-af", "ebur128=peak=true", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]
    if not summary:
        raise AssertionError(f"no ebur128 summary for {path}")
    return summary


def _summary_value(summary: str, label: str) -> float:
    m = re.search(rf"{label}:\s*(-?inf|-?[\d.]+)", summary)
    if not m:
        raise AssertionError(f"no {label!r} in ebur128 summary:\n{summary}")
    return float(m.group(1))


def integrated_loudness(path: Path) -> float:
    """EBU R128 integrated loudness of the first audio stream, LUFS."""
    return _summary_value(_ebur128(path), "I")


def true_peak(path: Path) -> float:
    """EBU R128 true peak (4x oversampled) of the first audio stream, dBTP."""
    return _summary_value(_ebur128(path), "Peak")


def mp4_is_faststart(path: Path) -> bool:
    """True when the index (moov) comes before the media (mdat): the video starts playing while loading."""
    boxes = mp4_top_level_boxes(path)
    return "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat")
