"""The compose commands as pure functions: ComposeRequest + local paths -> the ffmpeg arguments of each
segment's encode and of the final assembly. Nothing here runs ffmpeg, so tests can assert on what it
builds. Graphs are built with ffmpeg-python."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ffmpeg
from pydantic import Field

from functions.compose.audio import filter_number
from functions.compose.segments import Piece, Segment
from functions.compose.timing import ClipWindow
from shared.errors import StageError
from shared.media import h264
from shared.models.base import Frozen, OutputSpec
from shared.models.render import ClipResult, FinalEncoding

log = logging.getLogger(__name__)

RETIME_TOLERANCE_FRAMES = 0.5
"""A clip shorter than its window by more than this is slowed to fit; less is padded by repeating its
last frame."""
RETIME_WARN_FACTOR = 1.5


class ClipFit(Frozen):
    """How one clip is made to fill its window exactly."""

    index: int = Field(ge=0)
    measured: float = Field(gt=0, description="The clip's real duration, seconds (ClipResult.duration).")
    window: float = Field(gt=0, description="Seconds the clip must last in the chain.")
    speed: float = Field(gt=0, description="Playback speed: below 1 slows a clip too short for its window.")
    scaled: bool = Field(description="Whether the clip's size differs from the output's and is cover-fitted.")


def fit_clip(*, clip: ClipResult, window: ClipWindow, output: OutputSpec) -> ClipFit:
    """Trim a clip longer than its window (cloud models return fixed lengths), slow one that is shorter."""
    fps = output.fps
    target = window.frames / fps
    speed = 1.0
    if clip.duration < target - RETIME_TOLERANCE_FRAMES / fps:
        speed = clip.duration / target
        if 1 / speed > RETIME_WARN_FACTOR:
            log.warning(
                "clip %d lasts %.2f s for a %.2f s window: slowed %.2fx", window.index, clip.duration, target,
                1 / speed,
            )
    return ClipFit(
        index=window.index,
        measured=clip.duration,
        window=target,
        speed=speed,
        scaled=(clip.width, clip.height) != (output.width, output.height),
    )


def _fitted_video(stream: Any, *, fit: ClipFit, window: ClipWindow, output: OutputSpec) -> Any:
    fps = output.fps
    pts = "PTS-STARTPTS" if fit.speed == 1.0 else f"(PTS-STARTPTS)/{filter_number(fit.speed)}"
    s = stream.filter("setpts", pts)
    s = s.filter("fps", fps=fps)
    # Repeat the last frame for as long as needed, then cut at the window's length: the clip has exactly
    # `window.frames` frames whatever its real length, so every later boundary stays on its beat.
    s = s.filter("tpad", stop_mode="clone", stop=-1)
    s = s.filter("trim", end_frame=window.frames)
    s = s.filter("setpts", "PTS-STARTPTS")
    # Video models deliver BT.709 (or untagged) pictures; every frame of ours is BT.601 limited range
    # (see shared/media/h264.py), so convert the matrix while scaling, not just the label.
    colour = {"out_color_matrix": "bt601", "out_range": "tv"}
    if fit.scaled:
        s = s.filter("scale", output.width, output.height, force_original_aspect_ratio="increase",
                     flags="lanczos", **colour)
        s = s.filter("crop", output.width, output.height)
    else:
        s = s.filter("scale", "iw", "ih", **colour)
    return s


class ClipFiles(Frozen):
    """Local paths of one clip's files: its head, body and tail when it was written in parts, else the
    whole clip as `body`."""

    head: Path | None = None
    body: Path
    tail: Path | None = None


def copyable(*, clip: ClipResult, piece: Piece, window: ClipWindow, output: OutputSpec,
             encoding: FinalEncoding) -> bool:
    """Whether `piece` is exactly the body of a clip already encoded with the final video's settings."""
    return (
        clip.final == encoding
        and clip.frames == window.frames
        and (clip.width, clip.height) == (output.width, output.height)
        and abs(clip.fps - output.fps) < 1e-3
        and (piece.start, piece.end) == (clip.head_frames, clip.frames - clip.tail_frames)
    )


def _trimmed(stream: Any, *, start: int, end: int) -> Any:
    return stream.filter("trim", start_frame=start, end_frame=end).filter("setpts", "PTS-STARTPTS")


def piece_stream(
    *, piece: Piece, clip: ClipResult, files: ClipFiles, fit: ClipFit, window: ClipWindow, output: OutputSpec
) -> Any:
    """The frames of `piece`, at the output's size, rate and format."""
    if clip.final is not None:
        # A split clip: each part is exact, at the output's size and rate; read only the part needed.
        body_end = clip.frames - clip.tail_frames
        parts = [(files.head, 0, clip.head_frames), (files.body, clip.head_frames, body_end),
                 (files.tail, body_end, clip.frames)]
        for path, first, last in parts:
            if path is not None and first <= piece.start and piece.end <= last:
                source = ffmpeg.input(str(path))["v:0"]
                return _trimmed(source, start=piece.start - first, end=piece.end - first)
        raise StageError(f"frames {piece.start}-{piece.end} of clip {piece.clip} span more than one of its parts",
                         stage="compose")
    source = ffmpeg.input(str(files.body))["v:0"]
    return _trimmed(_fitted_video(source, fit=fit, window=window, output=output), start=piece.start, end=piece.end)


def _final_frames(stream: Any, *, fps: int) -> Any:
    s = stream.filter("format", "yuv420p")
    s = s.filter("setparams", **h264.COLOUR_TAGS).filter("setsar", "1")
    return s.filter("settb", f"1/{fps}")


def segment_args(
    *,
    segment: Segment,
    clips: Sequence[ClipResult],
    files: Sequence[ClipFiles],
    fits: Sequence[ClipFit],
    windows: Sequence[ClipWindow],
    output: OutputSpec,
    encoding: FinalEncoding,
    dest: Path,
) -> list[str]:
    """ffmpeg arguments that encode `segment` with the final settings into `dest` (video only)."""
    fps = output.fps
    streams = [
        piece_stream(piece=p, clip=clips[p.clip], files=files[p.clip], fit=fits[p.clip], window=windows[p.clip],
                     output=output).filter("settb", f"1/{fps}")
        for p in segment.pieces
    ]
    if segment.kind == "blend":
        outgoing, incoming = streams
        # Both pieces are exactly the blend's length: the fade starts on the first frame.
        video = ffmpeg.filter([outgoing, incoming], "xfade", transition="fade",
                              duration=filter_number(segment.frames / fps), offset=0)
    else:
        (video,) = streams
    out = ffmpeg.output(
        _final_frames(video, fps=fps), str(dest), f="mp4", r=fps, map_metadata=-1,
        **{**h264.encoder_options(encoding=encoding, fps=fps), "frames:v": segment.frames},
    )
    return ["-y", *out.get_args()]  # the temporary file already exists


def concat_list(entries: Sequence[tuple[Path, int]], *, fps: int) -> str:
    """A concat demuxer script naming each file with its length in frames.

    The stated durations place every segment on its exact frame: left to itself, the demuxer takes a
    file's length from its container, which B-frame reordering edits shorten by a few ticks per file."""
    lines = ["ffconcat version 1.0"]
    for path, frames in entries:
        quoted = str(path.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        lines.append(f"duration {frames / fps:.6f}")
    return "\n".join(lines) + "\n"


class AssemblyCommand(Frozen):
    args: list[str]
    duration: float = Field(description="Seconds of the output.")


def assembly_args(*, list_path: Path, soundtrack_path: Path, duration: float, output_path: Path) -> AssemblyCommand:
    """The final file: the segments joined by copying their packets, beside the soundtrack's packets (it
    was encoded, and its loudness and true peak measured, while the segments encoded)."""
    video = ffmpeg.input(str(list_path), f="concat", safe=0)["v:0"]
    audio = ffmpeg.input(str(soundtrack_path))["a:0"]
    out = ffmpeg.output(
        video, audio, str(output_path), f="mp4", vcodec="copy", acodec="copy", movflags="+faststart",
        map_metadata=-1,
    )
    return AssemblyCommand(args=["-y", *out.get_args()], duration=duration)
