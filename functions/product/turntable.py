"""The turntable clip with transparency: RGBA frames to VP9 WebM (yuva420p) and back.

VP9 carries alpha as a second coded picture beside each frame (WebM `BlockAdditional`). FFmpeg's own
vp9 decoder ignores it, so reading alpha back needs the libvpx decoder named *before* the input
(`-c:v libvpx-vp9 -i file.webm`); `read_turntable_rgba` does that, and is what compositing uses.
The commands are built by pure functions (tests assert on them) and run separately.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from shared.errors import FFmpegError, InputError
from shared.media.ffmpeg import feed_ffmpeg, ffmpeg_exe

__all__ = ["decode_args", "encode_args", "encode_turntable", "read_rgba_png", "read_turntable_rgba",
           "turntable_size", "write_rgba_png"]


def encode_args(*, dest: Path, width: int, height: int, fps: int, crf: int = 32, speed: int = 6) -> list[str]:
    """ffmpeg arguments (without the executable): RGBA frames on stdin → VP9 with alpha in WebM.

    `speed` is libvpx's `-cpu-used` (0 slowest … 8 fastest); from 6 on the realtime deadline is used: a
    1080×1080 frame with alpha then takes ~65 ms on one core (~210 ms at 5 with the good deadline) for about
    the same size, and the clip is an intermediate that the final video encodes again."""
    return [
        "-hide_banner",
        "-nostdin",
        "-loglevel", "error",
        "-f", "rawvideo",
        "-pix_fmt", "rgba",
        "-video_size", f"{width}x{height}",
        "-framerate", str(fps),
        "-i", "pipe:0",
        "-an",
        "-c:v", "libvpx-vp9",
        "-pix_fmt", "yuva420p",
        "-crf", str(crf),
        "-b:v", "0",
        "-deadline", "realtime" if speed >= 6 else "good",
        "-cpu-used", str(speed),
        "-row-mt", "1",
        "-f", "webm",
        "-y",  # the store's temporary file already exists
        str(dest),
    ]


def decode_args(*, path: Path) -> list[str]:
    """ffmpeg arguments (without the executable): a VP9 WebM → raw RGBA frames on stdout, alpha kept."""
    return [
        "-hide_banner",
        "-nostdin",
        "-loglevel", "error",
        "-c:v", "libvpx-vp9",  # before -i: the native vp9 decoder would drop the alpha plane
        "-i", str(path),
        "-an",
        "-f", "rawvideo",
        "-pix_fmt", "rgba",
        "pipe:1",
    ]


def encode_turntable(*, frames: Iterable[np.ndarray], dest: Path, width: int, height: int, fps: int,
                     crf: int = 32, speed: int = 6) -> int:
    """Encode RGBA frames (H, W, 4 uint8, straight alpha) to `dest`; return how many were written.

    Raises FFmpegError (with the command and ffmpeg's stderr) when the encoder fails."""
    if width % 2 or height % 2:
        raise ValueError(f"turntable size {width}x{height} must be even (4:2:0)")
    args = encode_args(dest=dest, width=width, height=height, fps=fps, crf=crf, speed=speed)

    def checked() -> Iterator[list[memoryview]]:
        for n, frame in enumerate(frames):
            if frame.shape != (height, width, 4) or frame.dtype != np.uint8:
                raise ValueError(f"frame {n} is {frame.dtype} {frame.shape}, expected uint8 {(height, width, 4)}")
            yield [np.ascontiguousarray(frame).data]

    return feed_ffmpeg(args, frames=checked(), what="turntable encode")


def turntable_size(path: Path) -> tuple[int, int, float]:
    """(width, height, fps) of a turntable clip, from its header."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate
            return stream.codec_context.width, stream.codec_context.height, float(rate) if rate else 0.0
    except (av.error.FFmpegError, OSError, IndexError) as exc:
        raise InputError(f"{path.name}: not a readable turntable clip ({exc.__class__.__name__})") from None


def read_turntable_rgba(path: Path) -> Iterator[np.ndarray]:
    """The frames of a turntable clip as RGBA arrays (H, W, 4 uint8, straight alpha), in order.

    Streams: one frame in memory at a time. Stopping early (closing the generator) ends ffmpeg."""
    width, height, _ = turntable_size(path)
    cmd = [ffmpeg_exe(), *decode_args(path=path)]
    size = width * height * 4
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        finished = False
        try:
            while True:
                data = proc.stdout.read(size)
                if len(data) < size:
                    break
                yield np.frombuffer(data, np.uint8).reshape(height, width, 4)
            finished = True
        finally:
            if not finished:
                proc.kill()
            proc.stdout.close()
            code = proc.wait()
        if finished and code != 0:
            err.seek(0)
            raise FFmpegError("turntable decode failed", cmd=cmd, stderr=err.read().decode(errors="replace"))


def write_rgba_png(*, frame: np.ndarray, dest: Path) -> None:
    """An RGBA array as a PNG with its alpha channel."""
    if not cv2.imwrite(str(dest), cv2.cvtColor(frame, cv2.COLOR_RGBA2BGRA), [cv2.IMWRITE_PNG_COMPRESSION, 3]):
        raise OSError(f"could not write {dest}")


def read_rgba_png(path: Path) -> np.ndarray:
    """A PNG (with or without alpha) as an RGBA array; opaque when it has no alpha."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(f"{path.name}: not a readable PNG frame")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)
    elif image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    if image.dtype != np.uint8:
        image = (image / 257).round().astype(np.uint8)
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA))
