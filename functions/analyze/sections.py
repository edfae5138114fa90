"""The energy curve of a track and its calm and energetic sections, on downbeats."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from functions.analyze.audio import frames_to_time
from shared.models.media import Section

ENERGY_RANGE_DB = 24.0  # energy 0 = this far below the track's loud parts, or quieter
QUIETEST_TOP_DBFS = -46.0  # a track whose loud parts are below this is quiet everywhere
MIN_CONTRAST_DB = 4.0  # calm and energetic parts differ by at least this much, or the track is one section
ENERGETIC_TRACK_DBFS = -20.0  # a uniform track this loud (RMS of its loud parts) is energetic
MIN_SECTION_BARS = 2


def energy_curve(*, smooth_db: np.ndarray, silent_track: bool) -> np.ndarray:
    """0..1 per frame: 1 at the track's loud parts, 0 at ENERGY_RANGE_DB below them (or in silence)."""
    if silent_track or len(smooth_db) == 0:
        return np.zeros(len(smooth_db))
    top = max(float(np.percentile(smooth_db, 95)), QUIETEST_TOP_DBFS)
    return np.clip(1.0 - (top - smooth_db) / ENERGY_RANGE_DB, 0.0, 1.0)


@dataclass
class _Run:
    """A stretch of one loudness class while sections are being worked out."""

    start: float
    end: float
    loud: bool

    @property
    def length(self) -> float:
        return self.end - self.start


def find_sections(
    *,
    smooth_db: np.ndarray,
    energy: np.ndarray,
    duration: float,
    downbeats: list[float],
    bar: float,
    silent_track: bool,
) -> list[Section]:
    """Calm and energetic stretches covering [0, duration], each at least two bars, on downbeats."""
    if silent_track or len(smooth_db) == 0:
        return [Section(start=0.0, end=duration, kind="calm", energy=0.0)]
    level = energy_curve(smooth_db=smooth_db, silent_track=False)
    whole = Section(
        start=0.0,
        end=duration,
        # One dynamic all through: how loud it is mastered is then the best hint of its character.
        kind="energetic" if float(np.percentile(smooth_db, 95)) >= ENERGETIC_TRACK_DBFS else "calm",
        energy=round(float(np.clip(energy.mean(), 0, 1)), 4),
    )
    threshold = _split_level(level)
    if threshold is None:
        return [whole]
    loud = level >= threshold
    times = frames_to_time(np.arange(len(level)))
    edges = np.flatnonzero(np.diff(loud.astype(int))) + 1
    bounds = [0.0, *times[edges].tolist(), duration]
    runs = [_Run(a, b, bool(loud[s])) for a, b, s in zip(bounds[:-1], bounds[1:], [0, *edges.tolist()], strict=True)]
    # Snap first: a calm intro measured at 1.9 bars is a 2-bar intro once its end sits on the downbeat.
    runs = _merge_short(_snap(runs, downbeats=downbeats, bar=bar), min_len=(MIN_SECTION_BARS - 0.1) * bar)
    if len(runs) == 1:
        return [whole]
    frame_times = frames_to_time(np.arange(len(energy)))
    sections = []
    for run in runs:
        inside = energy[(frame_times >= run.start) & (frame_times < run.end)]
        mean = float(inside.mean()) if len(inside) else float(energy.mean())
        sections.append(Section(start=round(run.start, 4), end=round(run.end, 4),
                                kind="energetic" if run.loud else "calm", energy=round(min(1.0, max(0.0, mean)), 4)))
    return sections


def _split_level(level: np.ndarray) -> float | None:
    """The level that best separates quiet from loud frames (Otsu's method), or None when the two groups
    differ by less than MIN_CONTRAST_DB: then the track has one dynamic throughout.

    Otsu rather than percentiles, so that a calm intro that is 3% of a long song is still found."""
    hist, edges = np.histogram(level, bins=64, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)[:-1].astype(float)
    w1 = float(hist.sum()) - w0
    m0 = np.cumsum(hist * centres)[:-1]
    valid = (w0 > 0) & (w1 > 0)
    if not valid.any():
        return None
    mu0 = np.where(valid, m0 / np.maximum(w0, 1), 0.0)
    mu1 = np.where(valid, (float((hist * centres).sum()) - m0) / np.maximum(w1, 1), 0.0)
    between = np.where(valid, w0 * w1 * (mu1 - mu0) ** 2, -1.0)
    k = int(np.argmax(between))
    if (mu1[k] - mu0[k]) * ENERGY_RANGE_DB < MIN_CONTRAST_DB:
        return None
    return float(edges[k + 1])


def _merge_short(runs: list[_Run], *, min_len: float) -> list[_Run]:
    """Fold runs shorter than `min_len` into a neighbour (the shortest first), then join equal labels."""
    while len(runs) > 1:
        i = min(range(len(runs)), key=lambda k: runs[k].length)
        if runs[i].length >= min_len:
            break
        # Into the longer neighbour: a blip inside a long stretch takes that stretch's label.
        left = runs[i - 1].length if i > 0 else -1.0
        right = runs[i + 1].length if i + 1 < len(runs) else -1.0
        j = i - 1 if left >= right else i + 1
        lo, hi = min(i, j), max(i, j)
        runs = _join([*runs[:lo], _Run(runs[lo].start, runs[hi].end, runs[j].loud), *runs[hi + 1:]])
    return runs


def _join(runs: list[_Run]) -> list[_Run]:
    out: list[_Run] = []
    for r in runs:
        if out and out[-1].loud == r.loud:
            out[-1] = _Run(out[-1].start, r.end, r.loud)
        else:
            out.append(r)
    return out


def _snap(runs: list[_Run], *, downbeats: list[float], bar: float) -> list[_Run]:
    """Move inner boundaries to the nearest downbeat within a bar; drop runs that vanish."""
    if not downbeats:
        return runs
    down = np.asarray(downbeats)
    runs = [_Run(r.start, r.end, r.loud) for r in runs]
    for k in range(1, len(runs)):
        b = runs[k].start
        nearest = float(down[int(np.argmin(np.abs(down - b)))])
        if abs(nearest - b) <= bar and runs[k - 1].start < nearest < runs[k].end:
            runs[k - 1].end = runs[k].start = nearest
    return _join([r for r in runs if r.length > 1e-6])
