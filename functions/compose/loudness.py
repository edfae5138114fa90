"""The soundtrack, made and checked before the final assembly, in audio-only passes (cheap next to the
video, and run while the video's segments encode): measure the shaped track, choose the gain that brings
it to the target loudness and the limiter that keeps its true peaks under the ceiling, encode it, and
measure the encoded file as a player decodes it. The final assembly copies that file's packets, so the
loudness and true peak measured here are the final video's."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from pydantic import Field

from functions.compose.audio import (
    MIN_CEILING_DB,
    AudioShape,
    LoudnessMeasurement,
    Mastering,
    file_measure_args,
    measure_args,
    soundtrack_args,
)
from shared.errors import FFmpegError, StageError
from shared.media.ffmpeg import run_ffmpeg
from shared.models.base import Frozen

log = logging.getLogger(__name__)

AAC_HEADROOM_DB = 1.0
"""How far under the true-peak ceiling the limiter starts: the AAC encoder rebuilds the waveform from
quantised spectra, and its peaks come out up to ~0.5-1 dB above what went in."""
CEILING_STEP_DB = 0.3
"""Extra margin taken each time an encoded soundtrack still measures over the ceiling."""
ENCODE_ATTEMPTS = 4
MAX_GAIN_DB = 40.0
"""More gain than this only lifts a track's noise: what needs more is silence in all but name."""
CALIBRATION_ROUNDS = 4
CALIBRATION_TOLERANCE_LU = 0.3
MEASURE_TIMEOUT = 600.0


class Soundtrack(Frozen):
    """The encoded soundtrack: what the track measured, how it was levelled, and what the encoded file
    measures."""

    source: LoudnessMeasurement = Field(description="The shaped track before levelling.")
    mastering: Mastering
    result: LoudnessMeasurement = Field(description="The encoded file, decoded.")


_SUMMARY = re.compile(r"Summary:(.*)", re.DOTALL)
_I = re.compile(r"Integrated loudness:\s*I:\s*(-?inf|-?[\d.]+)\s*LUFS")
_TP = re.compile(r"True peak:\s*Peak:\s*(-?inf|-?[\d.]+)\s*dBFS")


def _number(text: str) -> float:
    return -math.inf if text == "-inf" else math.inf if text == "inf" else float(text)


def parse_summary(stderr: str) -> LoudnessMeasurement:
    """The integrated loudness and true peak from the summary ebur128 prints when its input ends."""
    summary = _SUMMARY.findall(stderr)
    found_i = _I.search(summary[-1]) if summary else None
    found_tp = _TP.search(summary[-1]) if summary else None
    if found_i is None or found_tp is None:
        raise ValueError("no ebur128 summary with integrated loudness and true peak")
    return LoudnessMeasurement(integrated=_number(found_i.group(1)), true_peak=_number(found_tp.group(1)))


def _measure(args: list[str], *, what: str) -> LoudnessMeasurement:
    stderr = run_ffmpeg(args, what=what, timeout=MEASURE_TIMEOUT)
    try:
        return parse_summary(stderr)
    except ValueError as exc:
        raise FFmpegError(f"{what}: {exc}", cmd=args, stderr=stderr) from None


def loudness_of(path: Path) -> LoudnessMeasurement:
    """Integrated loudness and true peak of the first audio stream of a file, as decoded."""
    return _measure(file_measure_args(path=path), what="loudness of the soundtrack")


def _calibrated_gain(
    *, audio_path: Path, shape: AudioShape, source: LoudnessMeasurement, target_lufs: float, ceiling_db: float
) -> float:
    """The gain that lands the limited track on `target_lufs`.

    While the limiter has nothing to do, the gain is simply the distance to the target. When it does (a
    track whose peaks stand far above its loudness), limiting takes some loudness back; the levelled track
    is rehearsed (audio only, no encode) and the gain corrected until it lands (secant steps: louder in
    always means louder out, but by less than 1:1)."""
    gain = min(MAX_GAIN_DB, target_lufs - source.integrated)
    if source.true_peak + gain <= ceiling_db:
        return gain
    tried: list[tuple[float, float]] = []  # (gain, integrated loudness it produced)
    for _ in range(CALIBRATION_ROUNDS):
        args = measure_args(audio_path=audio_path, shape=shape,
                            mastering=Mastering(gain_db=gain, ceiling_db=ceiling_db))
        got = _measure(args, what="loudness calibration").integrated
        tried.append((gain, got))
        if abs(got - target_lufs) <= CALIBRATION_TOLERANCE_LU:
            break
        slope = 1.0
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            slope = min(4.0, max(1.0, (tried[-1][0] - tried[-2][0]) / (tried[-1][1] - tried[-2][1])))
        nxt = min(MAX_GAIN_DB, gain + slope * (target_lufs - got))
        if nxt == gain:
            break
        gain = nxt
    best_gain, best_out = min(tried, key=lambda t: abs(t[1] - target_lufs))
    log.info("limited loudness: %+.2f dB gives %.2f LUFS (target %.1f)", best_gain, best_out, target_lufs)
    return best_gain


def make_soundtrack(
    *, audio_path: Path, shape: AudioShape, target_lufs: float, true_peak_db: float, output_path: Path
) -> Soundtrack:
    """Encode the video's stretch of the track into `output_path` at `target_lufs` with true peaks at or
    under `true_peak_db`, measured on the encoded file as decoded.

    The limiter starts `AAC_HEADROOM_DB` under the ceiling; should the encoded file still peak over it,
    the limiter's ceiling comes down by the excess (and a margin) and the track is encoded again."""
    source = _measure(measure_args(audio_path=audio_path, shape=shape), what="loudness measurement")
    ceiling = min(0.0, max(MIN_CEILING_DB, true_peak_db - AAC_HEADROOM_DB))
    for _ in range(ENCODE_ATTEMPTS):
        gain = 0.0 if source.silent else _calibrated_gain(
            audio_path=audio_path, shape=shape, source=source, target_lufs=target_lufs, ceiling_db=ceiling
        )
        mastering = Mastering(gain_db=gain, ceiling_db=ceiling)
        run_ffmpeg(soundtrack_args(audio_path=audio_path, shape=shape, mastering=mastering, output_path=output_path),
                   what="soundtrack encode", timeout=MEASURE_TIMEOUT)
        result = loudness_of(output_path)
        over = result.true_peak - true_peak_db
        if over <= 0:
            return Soundtrack(source=source, mastering=mastering, result=result)
        log.info("soundtrack limited at %.2f dBFS peaks at %.1f dBTP once encoded: limiting lower", ceiling,
                 result.true_peak)
        if ceiling <= MIN_CEILING_DB:
            break
        ceiling = max(MIN_CEILING_DB, ceiling - over - CEILING_STEP_DB)
    raise StageError(
        f"the soundtrack still peaks at {result.true_peak:.1f} dBTP once encoded, over the {true_peak_db:.1f} dBTP "
        f"ceiling, with its limiter at {mastering.ceiling_db:.1f} dBFS",
        stage="compose",
    )
