"""The poster: one still of the finished video, shown before it plays."""

from __future__ import annotations

from pathlib import Path

from functions.compose.audio import filter_number
from functions.compose.timing import ClipWindow
from shared.media.ffmpeg import run_ffmpeg

POSTER_QUALITY = 3
"""mjpeg qscale (2 best .. 31 worst): visually clean at a fraction of the size of q=2."""


def poster_time(*, windows: list[ClipWindow], fps: int) -> float:
    """The middle of the first scene: the first photo fully on screen, clear of any crossfade."""
    first = windows[0]
    return (first.scene_start_frame + first.scene_end_frame) // 2 / fps


def poster_args(*, video_path: Path, at: float, output_path: Path) -> list[str]:
    return [
        "-ss", filter_number(at), "-i", str(video_path), "-map", "0:v:0", "-frames:v", "1",
        "-q:v", str(POSTER_QUALITY), "-f", "mjpeg", "-y", str(output_path),
    ]


def write_poster(*, video_path: Path, at: float, output_path: Path) -> None:
    run_ffmpeg(poster_args(video_path=video_path, at=at, output_path=output_path), what="poster", timeout=120)
