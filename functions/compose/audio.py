"""The soundtrack's shape on the video timeline (where it starts in the track, its fades) and the pure
ffmpeg-python filter chains that cut, fade and normalise it. Both the loudness measuring pass and the
final graph use `shaped_music`, so what is measured is exactly what gets normalised."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from shared.models import Frozen, ScenePlan

FADE_IN_SECONDS = 0.05
"""Long enough to hide the click of starting mid-waveform, short enough to keep the first beat's attack."""

OUTPUT_SAMPLE_RATE = 48_000
SILENT_LUFS = -70.0
"""At or below this the track is silence (the EBU R128 absolute gate): nothing to normalise."""


class AudioShape(Frozen):
    """Which stretch of the track plays under the video, and how it fades."""

    offset: float = Field(ge=0, description="Seconds into the track where the video begins.")
    duration: float = Field(gt=0, description="Seconds of audio: the video's exact duration.")
    fade_in: float = Field(ge=0, description="Seconds of fade-in; 0 when the track starts at its beginning.")
    fade_out: float = Field(ge=0, description="Seconds of fade-out, ending at the video's end.")

    @classmethod
    def for_plan(cls, *, plan: ScenePlan) -> AudioShape:
        duration = plan.output.total_frames / plan.output.fps
        fade_in = min(FADE_IN_SECONDS, duration / 4) if plan.music_offset > 0 else 0.0
        return cls(
            offset=plan.music_offset,
            duration=duration,
            fade_in=fade_in,
            fade_out=min(plan.fade_out, duration - fade_in),
        )


class LoudnessMeasurement(Frozen):
    """What loudnorm's measuring pass found in the shaped track (the `input_*` values of its report)."""

    input_i: float = Field(description="Integrated loudness, LUFS (-inf for silence).")
    input_tp: float = Field(description="True peak, dBTP.")
    input_lra: float = Field(description="Loudness range, LU.")
    input_thresh: float = Field(description="Gating threshold, LUFS.")

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.input_i) or self.input_i <= SILENT_LUFS

    @property
    def lra_target(self) -> float:
        """The LRA target given to loudnorm: never below the music's own range, so that linear mode (which
        loudnorm refuses when measured LRA > target LRA) stays open; music's range is not ours to squash."""
        return min(50.0, max(7.0, math.ceil(self.input_lra) + 1.0))

    def linear_fits(self, *, target_lufs: float, true_peak_db: float) -> bool:
        """Whether plain gain reaches `target_lufs` without peaks above `true_peak_db` (loudnorm's own
        condition for its linear mode)."""
        return not self.silent and self.input_tp + (target_lufs - self.input_i) <= true_peak_db


class LoudnessSettings(Frozen):
    """How the soundtrack is normalised in the final graph, decided before the encode."""

    measured: LoudnessMeasurement
    mode: Literal["linear", "dynamic", "silent"] = Field(
        description="linear: one gain; dynamic: loudnorm's gain riding with its true-peak limiter "
        "(peaks too high for plain gain); silent: nothing to normalise."
    )
    loudnorm_i: float = Field(description="The integrated target given to loudnorm (calibrated in dynamic mode).")
    expected_lufs: float | None = Field(default=None, description="What the chosen settings produce, LUFS.")


def filter_number(x: float) -> str:
    """A filter argument: short, exact enough (microseconds / 0.01 dB), never in exponent notation."""
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != 0 else "0"


def shaped_music(stream: Any, *, shape: AudioShape) -> Any:
    """Cut the track to the video's stretch, pad it with silence if it ends early, and fade it."""
    s = stream.filter("atrim", start=filter_number(shape.offset), end=filter_number(shape.offset + shape.duration))
    s = s.filter("asetpts", "PTS-STARTPTS")
    s = s.filter("aformat", channel_layouts="stereo")
    s = s.filter("apad", whole_dur=filter_number(shape.duration))
    s = s.filter("atrim", end=filter_number(shape.duration))
    if shape.fade_in > 0:
        s = s.filter("afade", type="in", start_time=0, duration=filter_number(shape.fade_in))
    if shape.fade_out > 0:
        s = s.filter(
            "afade",
            type="out",
            start_time=filter_number(shape.duration - shape.fade_out),
            duration=filter_number(shape.fade_out),
        )
    return s


def loudnorm_filter(
    stream: Any, *, measured: LoudnessMeasurement, integrated: float, true_peak_db: float, report: bool = False
) -> Any:
    """loudnorm fed with the measuring pass's values. Its guards treat 0 LRA and a -70 threshold as "not
    measured", so a perfectly steady track is given a hair of range to keep linear mode open."""
    extra = {"print_format": "json"} if report else {}
    return stream.filter(
        "loudnorm",
        I=filter_number(integrated),
        TP=filter_number(true_peak_db),
        LRA=filter_number(measured.lra_target),
        measured_I=filter_number(max(-99.0, min(-0.01, measured.input_i))),
        measured_TP=filter_number(max(-99.0, min(99.0, measured.input_tp))),
        measured_LRA=filter_number(max(0.01, min(99.0, measured.input_lra))),
        measured_thresh=filter_number(max(-99.0, min(-0.01, measured.input_thresh))),
        linear="true",
        **extra,
    )


def normalised(stream: Any, *, settings: LoudnessSettings, true_peak_db: float) -> Any:
    """The second loudnorm pass (linear gain when the peaks allow it, else loudnorm's dynamic mode at a
    calibrated target), then back to 48 kHz from loudnorm's 192 kHz."""
    if settings.mode != "silent":
        stream = loudnorm_filter(
            stream, measured=settings.measured, integrated=settings.loudnorm_i, true_peak_db=true_peak_db
        )
    return stream.filter("aresample", OUTPUT_SAMPLE_RATE)
