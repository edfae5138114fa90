"""Facts about a media file, read with PyAV (its wheel carries the ffmpeg libraries): no ffprobe needed."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel

from shared.errors import InputError


class MediaProbe(BaseModel):
    duration: float
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    pix_fmt: str | None = None
    video_codec: str | None = None
    video_profile: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def probe(path: Path) -> MediaProbe:
    """Probe `path`; raise InputError with one line when it is not a media file we can read."""
    import av

    try:
        with av.open(str(path)) as container:
            v = next(iter(container.streams.video), None)
            a = next(iter(container.streams.audio), None)
            duration = _duration(container, v, a)
            info = MediaProbe(duration=duration)
            if v is not None:
                rate = v.average_rate or v.guessed_rate
                info.width = v.codec_context.width
                info.height = v.codec_context.height
                info.fps = float(rate) if rate else None
                info.pix_fmt = v.codec_context.pix_fmt
                info.video_codec = v.codec_context.name
                info.video_profile = v.profile
            if a is not None:
                info.audio_codec = a.codec_context.name
                info.sample_rate = a.codec_context.sample_rate
                info.channels = a.codec_context.channels
            return info
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(f"{path.name}: not a readable media file ({exc.__class__.__name__})") from None


def _duration(container: object, *streams: object) -> float:
    best = 0.0
    for s in streams:
        if s is None:
            continue
        if s.duration is not None and s.time_base is not None:  # type: ignore[attr-defined]
            best = max(best, float(s.duration * Fraction(s.time_base)))  # type: ignore[attr-defined]
    if best == 0.0 and container.duration:  # type: ignore[attr-defined]
        best = container.duration / 1_000_000  # type: ignore[attr-defined]
    return best


def mp4_top_level_boxes(path: Path) -> list[str]:
    """The order of the top-level boxes of an MP4 (`moov` before `mdat` means fast start)."""
    boxes: list[str] = []
    size_total = path.stat().st_size
    with path.open("rb") as f:
        pos = 0
        while pos + 8 <= size_total:
            f.seek(pos)
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:
                size = size_total - pos
            boxes.append(kind.decode("latin-1"))
            if size < 8:
                break
            pos += size
    return boxes
