"""The soundtrack's shape on the video timeline (where it starts in the track, its fades), how it is
levelled (a gain, then a true-peak limiter), and the pure ffmpeg-python commands that cut, fade, level,
measure and encode it. The measuring passes and the encode share `shaped_music` and `mastered`, so what
is measured is exactly what gets encoded."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ffmpeg
from pydantic import Field

from shared.models.base import Frozen
from shared.models.plan import ScenePlan

FADE_IN_SECONDS = 0.05
"""Long enough to hide the click of starting mid-waveform, short enough to keep the first beat's attack."""

OUTPUT_SAMPLE_RATE = 48_000
AUDIO_BITRATE = "192k"
SILENT_LUFS = -70.0
"""At or below this the track is silence (the EBU R128 absolute gate): nothing to normalise."""

OVERSAMPLING = 4
"""The limiter runs at 4x the output rate, where sample peaks stand for true peaks (the oversampling
BS.1770 specifies for true-peak meters): a limiter on 48 kHz samples lets the waveform between them
overshoot its ceiling."""
LIMITER_ATTACK_MS, LIMITER_RELEASE_MS = 5.0, 50.0
"""Lookahead short enough to keep a kick's punch, release long enough not to distort bass notes."""
MIN_CEILING_DB = 20 * math.log10(0.0625)
"""The lowest limit alimiter takes (-24 dBFS)."""


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
    """What ffmpeg's EBU R128 meter (`ebur128=peak=true`) found in a stretch of audio."""

    integrated: float = Field(description="Integrated loudness, LUFS (-70 or -inf for silence).")
    true_peak: float = Field(description="True peak (4x oversampled), dBTP (-inf for silence).")

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.integrated) or self.integrated <= SILENT_LUFS


class Mastering(Frozen):
    """How the shaped track is levelled: one gain, then a lookahead limiter on its oversampled peaks."""

    gain_db: float = Field(description="Gain applied to the whole track, dB.")
    ceiling_db: float = Field(
        ge=MIN_CEILING_DB, le=0,
        description="The limiter's ceiling on 4x-oversampled sample peaks, dBFS: below the true-peak ceiling "
        "asked of the final file, by the headroom the AAC encoder's overshoot needs.",
    )


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


def mastered(stream: Any, *, mastering: Mastering) -> Any:
    """The gain, then the limiter at 4x the output rate, then down to the output rate."""
    s = stream.filter("volume", f"{filter_number(round(mastering.gain_db, 2))}dB")
    s = s.filter("aresample", OVERSAMPLING * OUTPUT_SAMPLE_RATE)
    s = s.filter(
        "alimiter",
        limit=filter_number(round(10 ** (mastering.ceiling_db / 20), 6)),
        attack=filter_number(LIMITER_ATTACK_MS),
        release=filter_number(LIMITER_RELEASE_MS),
        level="false",  # its default auto-level would raise the limited track back to full scale
        latency="true",  # compensate the lookahead, so the music stays on the beat and keeps its end
    )
    return s.filter("aresample", OUTPUT_SAMPLE_RATE)


def _music(audio_path: Path, *, shape: AudioShape) -> Any:
    return shaped_music(ffmpeg.input(str(audio_path), vn=None)["a:0"], shape=shape)


def _metered(stream: Any) -> list[str]:
    s = stream.filter("ebur128", peak="true", framelog="quiet")
    return list(ffmpeg.output(s, "-", f="null").get_args())


def measure_args(*, audio_path: Path, shape: AudioShape, mastering: Mastering | None = None) -> list[str]:
    """ffmpeg arguments of one audio-only pass that meters the shaped track, levelled by `mastering` when
    given (pure)."""
    music = _music(audio_path, shape=shape)
    return _metered(music if mastering is None else mastered(music, mastering=mastering))


def file_measure_args(*, path: Path) -> list[str]:
    """ffmpeg arguments that meter the first audio stream of a file as a player decodes it (pure)."""
    return _metered(ffmpeg.input(str(path))["a:0"])


def soundtrack_args(*, audio_path: Path, shape: AudioShape, mastering: Mastering, output_path: Path) -> list[str]:
    """ffmpeg arguments that make the final soundtrack: cut, faded, levelled, encoded to the delivery
    spec (AAC, 48 kHz, stereo) in an MP4 the final assembly copies (pure)."""
    audio = mastered(_music(audio_path, shape=shape), mastering=mastering)
    out = ffmpeg.output(
        audio, str(output_path), f="mp4", acodec="aac", ar=OUTPUT_SAMPLE_RATE, ac=2, map_metadata=-1,
        # No perceptual noise substitution: it has each decoder make up its own random noise for the
        # bands it covers, so the peaks a player decodes would not be the ones measured here. At this
        # bitrate it saves nothing audible.
        aac_pns=0,
        **{"b:a": AUDIO_BITRATE},
    )
    return ["-y", *out.get_args()]
