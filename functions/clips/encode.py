"""Encoding clip frames: raw YUV 4:2:0 frames piped to one libx264 encode, either as a high-quality
intermediate (re-encoded by compose) or with the final video's settings (copied by compose).

The command is built by a pure function (tests assert on it); `encode_frames` runs it. Frames arrive
already as limited-range BT.601 YUV (see yuv.py, and why) and the stream is tagged so."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from functions.clips.yuv import Planes
from shared.errors import FFmpegError
from shared.media import h264
from shared.media.ffmpeg import feed_ffmpeg
from shared.models.render import FinalEncoding


def intermediate_codec(*, preset: str, crf: int) -> list[str]:
    """Codec arguments of a clip compose will decode and encode again: fast, and close to lossless."""
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]


def final_codec(*, encoding: FinalEncoding, fps: int) -> list[str]:
    """Codec arguments of a clip body compose copies into the final video (see shared/media/h264.py)."""
    return [*h264.encoder_args(encoding=encoding, fps=fps), "-vf", h264.frame_tags_filter()]


def encode_args(*, dest: Path, width: int, height: int, fps: int, codec: list[str]) -> list[str]:
    """ffmpeg arguments (without the executable) that read yuv420p frames on stdin and write an MP4."""
    return [
        "-hide_banner",
        "-nostdin",
        "-loglevel", "error",
        "-f", "rawvideo",
        "-pix_fmt", "yuv420p",
        # Tags on the input frames (as encoder options ffmpeg 9 drops primaries and transfer); they
        # travel with the frames through later filter graphs and re-encodes.
        "-color_range", "tv",
        "-colorspace", "smpte170m",
        "-color_primaries", "bt709",
        "-color_trc", "bt709",
        "-video_size", f"{width}x{height}",
        "-framerate", str(fps),
        "-i", "pipe:0",
        "-an",
        *codec,
        "-movflags", "+faststart",
        "-f", "mp4",
        "-y",  # the store's temporary file already exists
        str(dest),
    ]


def encode_frames(*, frames: Iterable[Planes], dest: Path, width: int, height: int, fps: int, codec: list[str]) -> int:
    """Encode `frames` (width x height YUV 4:2:0 planes) to `dest`; return how many were written.

    Raises FFmpegError (with the command and ffmpeg's stderr) when the encoder fails."""
    args = encode_args(dest=dest, width=width, height=height, fps=fps, codec=codec)
    expected = ((height, width), (height // 2, width // 2), (height // 2, width // 2))

    def checked() -> Iterator[list[memoryview]]:
        for n, frame in enumerate(frames):
            planes = (frame.y, frame.u, frame.v)
            shapes = tuple(p.shape for p in planes)
            if shapes != expected or any(p.dtype != np.uint8 for p in planes):
                raise ValueError(f"frame {n} has planes {shapes}, expected uint8 {expected}")
            yield [np.ascontiguousarray(p).data for p in planes]

    written = feed_ffmpeg(args, frames=checked(), what="clip encode")
    if written == 0:
        raise FFmpegError("clip encode got no frames", cmd=args, stderr="")
    return written
