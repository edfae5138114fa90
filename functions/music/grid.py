"""The beat grid of a generated track: whole 4/4 bars, so that a downbeat lands exactly on the video's end."""

from __future__ import annotations

import logging
import math

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

BEATS_PER_BAR = 4
MIN_BPM = 90.0
MAX_BPM = 128.0


class BeatGrid(BaseModel):
    """Bars [0, bars) fill `duration` exactly; one more bar (the ring-out) follows it."""

    duration: float = Field(gt=0, description="Seconds of music the video uses; a downbeat falls here.")
    bars: int = Field(ge=1, description="Whole bars in `duration`.")
    tempo: float = Field(gt=0)

    @property
    def beat_period(self) -> float:
        return self.duration / (self.bars * BEATS_PER_BAR)

    @property
    def bar_period(self) -> float:
        return self.duration / self.bars

    @property
    def total_bars(self) -> int:
        return self.bars + 1

    @property
    def total_duration(self) -> float:
        """The rendered length: `duration` plus the ring-out bar."""
        return self.duration + self.bar_period

    def beats(self) -> list[float]:
        """Every beat of the file, ring-out bar included; computed from `duration` so the grid is exact."""
        n = self.bars * BEATS_PER_BAR
        times = [self.duration * i / n for i in range(self.total_bars * BEATS_PER_BAR)]
        times[n] = self.duration
        return times

    def downbeats(self) -> list[float]:
        return self.beats()[::BEATS_PER_BAR]


def _distance(bpm: float) -> float:
    """How far (in octaves) a tempo lies outside the pleasant range; 0 inside it."""
    if bpm < MIN_BPM:
        return math.log2(MIN_BPM / bpm)
    if bpm > MAX_BPM:
        return math.log2(bpm / MAX_BPM)
    return 0.0


def plan_grid(*, duration: float, target_bpm: float) -> BeatGrid:
    """The whole number of bars whose tempo is pleasant and nearest `target_bpm`.

    Short videos (under ~6 s) may have no bar count inside 90-128 BPM; then the tempo nearest the range
    (in octaves) wins, because the downbeat at `duration` matters more than the tempo."""
    per_bar = 60.0 * BEATS_PER_BAR / duration  # tempo of one bar in `duration`
    candidates = range(1, max(2, math.ceil(MAX_BPM / per_bar) + 2))
    bars = min(candidates, key=lambda n: (_distance(n * per_bar), abs(math.log2(n * per_bar / target_bpm))))
    tempo = bars * per_bar
    if _distance(tempo) > 0:
        log.info("%.2f s holds no whole bar at %g-%g BPM; using %d bar(s) at %.1f BPM",
                 duration, MIN_BPM, MAX_BPM, bars, tempo)
    return BeatGrid(duration=duration, bars=bars, tempo=tempo)
