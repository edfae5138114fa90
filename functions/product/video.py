"""Frames for COLMAP from a walk-around video: the sharpest frame of each of N evenly spaced windows.

A phone video of a product holds hundreds of nearly identical, often motion-blurred frames; COLMAP wants
a few dozen sharp ones spread evenly along the walk. One decoding pass keeps, per window, only the
sharpest frame so far (memory stays at one full frame); afterwards near-duplicates (the phone stood
still) and frames much blurrier than the rest are dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from pydantic import BaseModel, Field

from functions.product.poses import RESHOOT_HINT
from shared.errors import InputError
from shared.progress import Reporter, silent

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi", ".3gp", ".mts"})
UNREADABLE_HINT = "give a phone video (MP4, MOV or WebM) that plays; " + RESHOOT_HINT
MIN_FRAMES = 8
"""Fewer distinct sharp frames than this cannot go around an object."""
_ANALYSIS_SIDE = 480
_THUMB = 48


class VideoError(InputError):
    """The video cannot be read, or gives too few usable frames."""


class SampledVideo(BaseModel):
    """What the sampler took from the video, in time order."""

    paths: list[Path]
    frame_indices: list[int] = Field(description="Index of each written frame in the decoded stream.")
    sharpness: list[float] = Field(description="Variance of the Laplacian at the analysis size, per written frame.")
    decoded_frames: int
    windows: int
    dropped_duplicates: int
    dropped_blurry: int
    duration: float


@dataclass
class _Candidate:
    index: int
    sharpness: float
    thumb: np.ndarray
    frame: Any  # the decoded frame, held only while it is its window's best; then written to `path`
    quarter_turns: int
    path: Path | None = None

    def write(self, *, out_dir: Path, max_side: int) -> None:
        # phones store portrait video as landscape plus a rotation tag: turn it as players do
        rgb = np.rot90(self.frame.to_ndarray(format="rgb24"), self.quarter_turns)
        h, w = rgb.shape[:2]
        scale = max_side / max(h, w)
        if scale < 1.0:
            rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        self.path = out_dir / f"frame_{self.index:06d}.jpg"
        cv2.imwrite(str(self.path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        self.frame = None


def sample_count(*, duration: float, total_frames: int, per_second: float = 4.0, low: int = 60,
                 high: int = 120) -> int:
    """How many frames to aim for: about `per_second` of the walk, between `low` and `high`, never more than
    half the frames (a window of one frame has nothing to choose from)."""
    wanted = int(np.clip(round(duration * per_second), low, high))
    return max(1, min(wanted, total_frames // 2 if total_frames >= 2 * MIN_FRAMES else total_frames))


def sharpness_of(gray: np.ndarray) -> float:
    """Variance of the Laplacian at a fixed analysis size: blur from motion or focus lowers it sharply."""
    h, w = gray.shape[:2]
    scale = _ANALYSIS_SIDE / max(h, w)
    if scale < 1.0:
        gray = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


def _thumb(gray: np.ndarray) -> np.ndarray:
    small = cv2.resize(gray, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (small - small.mean()) / (small.std() + 1e-6)


def _count_frames(path: Path) -> tuple[int, float]:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise VideoError(f"{path.name}: has no video stream", hint=UNREADABLE_HINT)
        stream = container.streams.video[0]
        count = sum(1 for packet in container.demux(stream) if packet.size > 0)
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if not duration and container.duration:
            duration = container.duration / 1_000_000
        if not duration and stream.average_rate:
            duration = count / float(stream.average_rate)
    return count, duration


def sample_video_frames(
    *,
    video: Path,
    out_dir: Path,
    count: int | None = None,
    max_side: int = 1920,
    duplicate_threshold: float = 0.12,
    blurry_fraction: float = 0.35,
    report: Reporter = silent,
) -> SampledVideo:
    """Write the chosen frames of `video` to `out_dir` as `frame_<index>.jpg` (upright, long side <= `max_side`).

    `count` windows (default from the length: `sample_count`); in each the sharpest frame is kept. A kept
    frame whose normalised thumbnail differs from the previous kept one by less than `duplicate_threshold`
    (mean absolute difference, in standard deviations) is a near-duplicate; one under `blurry_fraction` of the
    median sharpness is too blurry. Raises `VideoError` when the file cannot be decoded or too few frames remain.
    """
    import av

    try:
        total, duration = _count_frames(video)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(f"{video.name}: not a readable video ({exc.__class__.__name__})",
                         hint=UNREADABLE_HINT) from None
    if total < MIN_FRAMES:
        raise VideoError(f"{video.name}: only {total} frames", hint=RESHOOT_HINT)
    windows = count or sample_count(duration=duration, total_frames=total)
    windows = max(1, min(windows, total))
    report(percent=0.0, message=f"reading {total} frames, keeping the sharpest of {windows} windows")

    out_dir.mkdir(parents=True, exist_ok=True)
    picked: list[_Candidate] = []
    best: _Candidate | None = None
    current = -1
    decoded = 0
    try:
        with av.open(str(video)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                index = decoded
                decoded += 1
                window = min(windows - 1, index * windows // total)
                if window != current:
                    if best is not None:
                        best.write(out_dir=out_dir, max_side=max_side)
                        picked.append(best)
                    best, current = None, window
                    if window % max(1, windows // 20) == 0:
                        report(percent=90.0 * index / total, message=f"frame {index}/{total}")
                gray = frame.to_ndarray(format="gray")
                score = sharpness_of(gray)
                if best is None or score > best.sharpness:
                    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
                    best = _Candidate(index=index, sharpness=score, thumb=_thumb(np.rot90(gray, turns)),
                                      frame=frame, quarter_turns=turns)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        if decoded == 0:
            raise VideoError(f"{video.name}: not a readable video ({exc.__class__.__name__})",
                             hint=UNREADABLE_HINT) from None
        log.warning("%s: decoding stopped after %d frames (%s)", video.name, decoded, exc)
    if best is not None:
        best.write(out_dir=out_dir, max_side=max_side)
        picked.append(best)

    kept: list[_Candidate] = []
    dropped: list[_Candidate] = []
    for cand in picked:
        if kept and float(np.mean(np.abs(cand.thumb - kept[-1].thumb))) < duplicate_threshold:
            if cand.sharpness > kept[-1].sharpness:
                kept[-1], cand = cand, kept[-1]
            dropped.append(cand)
            continue
        kept.append(cand)
    duplicates = len(dropped)
    median = float(np.median([c.sharpness for c in kept])) if kept else 0.0
    sharp = [c for c in kept if c.sharpness >= blurry_fraction * median]
    blurry = len(kept) - len(sharp)
    dropped += [c for c in kept if c.sharpness < blurry_fraction * median]
    for cand in dropped:
        if cand.path is not None:
            cand.path.unlink(missing_ok=True)
    log.info("%s: %d frames, %d windows, %d near-duplicates and %d blurry dropped", video.name, decoded, windows,
             duplicates, blurry)
    if len(sharp) < MIN_FRAMES:
        raise VideoError(
            f"{video.name}: only {len(sharp)} sharp, distinct frames (need {MIN_FRAMES})", hint=RESHOOT_HINT
        )

    paths = [c.path for c in sharp if c.path is not None]
    report(percent=100.0, message=f"{len(paths)} frames kept of {decoded}")
    return SampledVideo(
        paths=paths,
        frame_indices=[c.index for c in sharp],
        sharpness=[round(c.sharpness, 3) for c in sharp],
        decoded_frames=decoded,
        windows=windows,
        dropped_duplicates=duplicates,
        dropped_blurry=blurry,
        duration=duration,
    )
