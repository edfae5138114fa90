"""The compose command as a pure function: ComposeRequest + local paths + loudness measurement -> the ffmpeg
arguments of the one encode. Nothing here runs ffmpeg, so tests can assert on what it builds."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import ffmpeg
from ffmpeg.nodes import FilterableStream, FilterNode, Node
from pydantic import Field

from functions.compose.audio import (
    OUTPUT_SAMPLE_RATE,
    AudioShape,
    LoudnessSettings,
    filter_number,
    normalised,
    shaped_music,
)
from functions.compose.timing import ClipWindow, clip_windows
from shared.errors import StageError
from shared.models import ClipResult, ComposeRequest, Frozen, OutputSpec

log = logging.getLogger(__name__)

AUDIO_BITRATE = "192k"
GOP_SECONDS = 2
"""A keyframe every 2 s: quick seeking in players and editors at a small cost in size."""
RETIME_TOLERANCE_FRAMES = 0.5
"""A clip shorter than its window by more than this is slowed to fit; less is padded by repeating its
last frame."""
RETIME_WARN_FACTOR = 1.5
DECODER_THREADS = 1


class Join(Frozen):
    """How clip `index` joins the chain built from the clips before it."""

    index: int = Field(ge=1)
    kind: Literal["cut", "crossfade"]
    offset: float = Field(ge=0, description="Seconds into the chain where this clip starts (xfade offset).")
    duration: float = Field(ge=0, description="Seconds of blend (0 for a cut).")


class ClipFit(Frozen):
    """How one clip is made to fill its window exactly."""

    index: int = Field(ge=0)
    measured: float = Field(gt=0, description="The clip's real duration, seconds (ClipResult.duration).")
    window: float = Field(gt=0, description="Seconds the clip must last in the chain.")
    speed: float = Field(gt=0, description="Playback speed: below 1 slows a clip too short for its window.")
    scaled: bool = Field(description="Whether the clip's size differs from the output's and is cover-fitted.")


class ComposeCommand(Frozen):
    """The encode, ready to run: its arguments and the timing decisions behind them."""

    args: list[str]
    fits: list[ClipFit]
    joins: list[Join]
    duration: float = Field(description="Seconds of the output: total_frames / fps.")
    total_frames: int


class _SourceFilterNode(FilterNode):
    """A filter with no input (ffmpeg-python's FilterNode insists on one): `movie` reads a file itself."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        Node.__init__(
            self, stream_spec=None, name=name, incoming_stream_types={FilterableStream},
            outgoing_stream_type=FilterableStream, min_inputs=0, max_inputs=0, args=[], kwargs=kwargs,
        )


def _clip_sources(paths: Sequence[Path]) -> list[Any]:
    """One video stream per clip, each decoded by a `movie` source inside the graph.

    A `-i` input per clip would start every decoder at once, each filling its queues ahead of a graph
    that reads the clips one after another (~1.5 GB for 30 clips at 1080x1920); a `movie` source
    decodes only when its chain asks for frames, and never past the frame its `trim` ends on. One
    decoding thread each: every finished clip keeps its decoder's frame pool to the end, so pools
    stay small (decoding is far faster than the encode it feeds). The same file twice is split, as
    ffmpeg-python would otherwise merge the two identical nodes."""
    uses: dict[Path, int] = {}
    for p in paths:
        uses[p] = uses.get(p, 0) + 1
    sources: dict[Path, Any] = {}
    for p, n in uses.items():
        movie = _SourceFilterNode("movie", filename=str(p), streams="dv", dec_threads=DECODER_THREADS).stream()
        sources[p] = movie if n == 1 else movie.split()
    taken: dict[Path, int] = {}
    streams = []
    for p in paths:
        if uses[p] == 1:
            streams.append(sources[p])
        else:
            streams.append(sources[p].stream(taken.get(p, 0)))
            taken[p] = taken.get(p, 0) + 1
    return streams


def xfade_offsets(*, durations: Sequence[float], overlaps: Sequence[float]) -> list[float]:
    """Where each clip after the first starts on the chained timeline.

    durations[i] is clip i's real length; overlaps[i] the seconds clips i and i+1 share (0 at a cut).
    Each offset is the chain's length so far minus the overlap with the next clip: this is xfade's
    `offset`, and for a cut the point where concat appends."""
    if len(overlaps) != max(0, len(durations) - 1):
        raise ValueError(f"{len(durations)} clips need {max(0, len(durations) - 1)} overlaps, got {len(overlaps)}")
    offsets = []
    length = durations[0] if durations else 0.0
    for duration, overlap in zip(durations[1:], overlaps, strict=True):
        offsets.append(length - overlap)
        length += duration - overlap
    return offsets


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
    if fit.scaled:
        s = s.filter("scale", output.width, output.height, force_original_aspect_ratio="increase",
                     flags="lanczos")
        s = s.filter("crop", output.width, output.height)
    s = s.filter("setsar", "1")
    s = s.filter("format", "yuv420p")
    return s.filter("settb", f"1/{fps}")


def _chain(streams: list[Any], *, windows: list[ClipWindow], fps: int) -> tuple[Any, list[Join]]:
    """Concat runs of clips joined by cuts; xfade where a crossfade joins two clips."""
    durations = [w.frames / fps for w in windows]
    overlaps = [2 * w.lead_in_frames / fps for w in windows[1:]]
    offsets = xfade_offsets(durations=durations, overlaps=overlaps)
    joins: list[Join] = []
    pending = [streams[0]]

    def flush() -> Any:
        if len(pending) == 1:
            return pending[0]
        # concat hands out microsecond timestamps; xfade wants both inputs on the same 1/fps clock.
        return ffmpeg.concat(*pending, v=1, a=0).filter("settb", f"1/{fps}")

    for k in range(1, len(streams)):
        offset, overlap = offsets[k - 1], overlaps[k - 1]
        if overlap == 0:
            pending.append(streams[k])
            joins.append(Join(index=k, kind="cut", offset=offset, duration=0.0))
            continue
        blended = ffmpeg.filter(
            [flush(), streams[k]], "xfade",
            transition="fade", duration=filter_number(overlap), offset=filter_number(offset),
        )
        pending = [blended]
        joins.append(Join(index=k, kind="crossfade", offset=offset, duration=overlap))
    return flush(), joins


def build_compose_command(
    *,
    request: ComposeRequest,
    clip_paths: Sequence[Path],
    audio_path: Path,
    loudness: LoudnessSettings,
    output_path: Path,
) -> ComposeCommand:
    """The whole encode: clips fitted to their windows and chained, music cut, faded and normalised."""
    plan = request.plan
    out = plan.output
    windows = clip_windows(plan=plan)
    if len(request.clips) != len(windows) or len(clip_paths) != len(windows):
        raise StageError(
            f"{len(windows)} scenes but {len(request.clips)} clips and {len(clip_paths)} clip files",
            stage="compose",
        )
    fits = [fit_clip(clip=c, window=w, output=out) for c, w in zip(request.clips, windows, strict=True)]
    streams = [
        _fitted_video(src, fit=fit, window=window, output=out)
        for src, fit, window in zip(_clip_sources(clip_paths), fits, windows, strict=True)
    ]
    video, joins = _chain(streams, windows=windows, fps=out.fps)

    shape = AudioShape.for_plan(plan=plan)
    music = ffmpeg.input(str(audio_path), vn=None)["a:0"]
    audio = normalised(shaped_music(music, shape=shape), settings=loudness, true_peak_db=request.true_peak_db)
    output = ffmpeg.output(
        video,
        audio,
        str(output_path),
        f="mp4",
        vcodec="libx264",
        preset=request.preset,
        crf=request.crf,
        pix_fmt="yuv420p",
        g=GOP_SECONDS * out.fps,
        r=out.fps,
        movflags="+faststart",
        acodec="aac",
        ar=OUTPUT_SAMPLE_RATE,
        ac=2,
        map_metadata=-1,
        **{"profile:v": "high", "b:a": AUDIO_BITRATE},
    )
    return ComposeCommand(
        args=["-y", *output.get_args()],  # the store's temporary file already exists
        fits=fits,
        joins=joins,
        duration=shape.duration,
        total_frames=out.total_frames,
    )
