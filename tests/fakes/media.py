"""Media the fake providers answer with: a "styled" picture (the input, colour-inverted, at the model's
size), a clip of the first frame (real H.264 made by ffmpeg), a song (a click track at a known tempo)."""

from __future__ import annotations

import functools
import hashlib
import io
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import soundfile as sf

from shared.media.ffmpeg import ffmpeg_exe

NOT_A_VIDEO = b"<html><body>502 Bad Gateway (but answered 200)</body></html>"


def decode(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("fake: the upload is not a picture")
    return image


def styled_picture(data: bytes, *, size: tuple[int, int], fmt: str = ".png") -> bytes:
    """The uploaded picture inverted (so a test can tell it was "styled") and resized to `size` (w, h)."""
    image = 255 - decode(data)
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(fmt, out)
    assert ok
    return buf.tobytes()


@functools.lru_cache(maxsize=64)
def _video(digest: str, data: bytes, seconds: float, width: int, height: int, fps: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="fake-video-") as tmp:
        src = Path(tmp) / "first.png"
        frame = decode(data) if data else np.full((height, width, 3), (40, 160, 90), np.uint8)
        cv2.imwrite(str(src), frame)
        out = Path(tmp) / "clip.mp4"
        # A slow horizontal drift of a bright bar keeps the frames distinct (a "moving" clip).
        vf = (f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
              f"drawbox=x='mod(t*40\\,{width})':y=0:w=8:h={height}:color=white@0.6:t=fill,format=yuv420p")
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-loop", "1", "-framerate", str(fps), "-i", str(src), "-t",
             f"{seconds}", "-vf", vf, "-r", str(fps), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28",
             "-movflags", "+faststart", str(out)],
            check=True, capture_output=True,
        )
        return out.read_bytes()


def clip(first_frame: bytes | None, *, seconds: float, width: int, height: int, fps: int = 24) -> bytes:
    """An H.264 MP4 of `seconds` at width x height showing `first_frame` (or a green frame)."""
    data = first_frame or b""
    return _video(hashlib.sha1(data).hexdigest(), data, float(seconds), width, height, fps)


def click_track(*, seconds: float, bpm: float = 120.0, sample_rate: int = 32_000) -> bytes:
    """A stereo WAV: a kick on every beat and a hi-hat between, at `bpm` (MusicGen answers 32 kHz)."""
    n = int(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    audio = 0.05 * np.sin(2 * np.pi * 110 * t)
    period = 60.0 / bpm
    for k in range(int(seconds / period) + 1):
        start = int(k * period * sample_rate)
        length = min(int(0.12 * sample_rate), n - start)
        if length <= 0:
            continue
        env = np.exp(-np.arange(length) / (0.03 * sample_rate))
        gain = 0.9 if k % 4 == 0 else 0.6
        audio[start:start + length] += gain * env * np.sin(2 * np.pi * 60 * np.arange(length) / sample_rate)
    audio = np.clip(audio, -1, 1)
    buf = io.BytesIO()
    sf.write(buf, np.stack([audio, audio], axis=1), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
