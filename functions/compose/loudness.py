"""Loudness, decided before the encode: loudnorm's measuring pass on the shaped soundtrack (audio only, so
it is cheap), the choice of linear or calibrated dynamic normalisation, and the loudness of a finished file."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import ffmpeg

from functions.compose.audio import (
    AudioShape,
    LoudnessMeasurement,
    LoudnessSettings,
    filter_number,
    loudnorm_filter,
    shaped_music,
)
from shared.errors import FFmpegError
from shared.media.ffmpeg import run_ffmpeg

log = logging.getLogger(__name__)

LOUDNORM_MIN_I, LOUDNORM_MAX_I = -70.0, -5.0
"""The range of loudnorm's I option."""
CALIBRATION_ROUNDS = 4
CALIBRATION_TOLERANCE_LU = 0.3


def measure_args(
    *, audio_path: Path, shape: AudioShape, target_lufs: float, true_peak_db: float,
    measured: LoudnessMeasurement | None = None,
) -> list[str]:
    """ffmpeg arguments of one audio-only pass over the shaped track (pure). Without `measured` it is
    loudnorm's measuring pass; with it, a rehearsal of the final graph's loudnorm at `target_lufs`."""
    music = ffmpeg.input(str(audio_path), vn=None)["a:0"]
    shaped = shaped_music(music, shape=shape)
    if measured is None:
        s = shaped.filter(
            "loudnorm", I=filter_number(target_lufs), TP=filter_number(true_peak_db), print_format="json"
        )
    else:
        s = loudnorm_filter(
            shaped, measured=measured, integrated=target_lufs, true_peak_db=true_peak_db, report=True
        )
    return list(ffmpeg.output(s, "-", f="null").get_args())


def _float(value: object) -> float:
    text = str(value).strip().lower()
    if text in ("-inf", "inf", "+inf"):
        return math.inf if not text.startswith("-") else -math.inf
    return float(text)


def _report(stderr: str) -> dict[str, str]:
    """The JSON block loudnorm prints at the end of its run."""
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no loudnorm report in ffmpeg's output")
    report: dict[str, str] = json.loads(stderr[start : end + 1])
    return report


def _measurement(report: dict[str, str]) -> LoudnessMeasurement:
    return LoudnessMeasurement(
        input_i=_float(report["input_i"]),
        input_tp=_float(report["input_tp"]),
        input_lra=_float(report["input_lra"]),
        input_thresh=_float(report["input_thresh"]),
    )


def _run_pass(args: list[str], *, what: str) -> dict[str, str]:
    stderr = run_ffmpeg(args, what=what, timeout=600)
    try:
        report = _report(stderr)
        for key in ("input_i", "input_tp", "input_lra", "input_thresh", "output_i"):
            _float(report[key])
        return report
    except (ValueError, KeyError) as exc:
        raise FFmpegError(f"{what}: loudnorm report unreadable ({exc})", cmd=args, stderr=stderr) from None


def measure_loudness(
    *, audio_path: Path, shape: AudioShape, target_lufs: float, true_peak_db: float
) -> LoudnessMeasurement:
    """Run the measuring pass over the stretch of the track the video uses, cut and faded as it will be."""
    args = measure_args(audio_path=audio_path, shape=shape, target_lufs=target_lufs, true_peak_db=true_peak_db)
    return _measurement(_run_pass(args, what="loudness measurement"))


def plan_loudness(
    *, audio_path: Path, shape: AudioShape, target_lufs: float, true_peak_db: float
) -> LoudnessSettings:
    """Measure the shaped track and choose how the final graph normalises it.

    When plain gain fits under the true-peak ceiling, loudnorm's linear mode hits the target exactly.
    When it does not (a quiet track with sharp peaks), loudnorm rides the gain and limits the peaks, and
    lands well short of its target. Its result is deterministic, so it is rehearsed here on the audio
    alone (cheap next to the video) and the target it is given is corrected until the rehearsal lands
    on `target_lufs` (secant steps: the response is monotonic but flatter than 1:1)."""
    measured = measure_loudness(
        audio_path=audio_path, shape=shape, target_lufs=target_lufs, true_peak_db=true_peak_db
    )
    if measured.silent:
        return LoudnessSettings(measured=measured, mode="silent", loudnorm_i=target_lufs)
    if measured.linear_fits(target_lufs=target_lufs, true_peak_db=true_peak_db):
        return LoudnessSettings(measured=measured, mode="linear", loudnorm_i=target_lufs, expected_lufs=target_lufs)

    tried: list[tuple[float, float]] = []  # (loudnorm I, integrated loudness it produced)
    given = target_lufs
    for _ in range(CALIBRATION_ROUNDS):
        args = measure_args(
            audio_path=audio_path, shape=shape, target_lufs=given, true_peak_db=true_peak_db, measured=measured
        )
        got = _float(_run_pass(args, what="loudness calibration")["output_i"])
        tried.append((given, got))
        if abs(got - target_lufs) <= CALIBRATION_TOLERANCE_LU:
            break
        slope = 1.0
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            slope = (tried[-1][0] - tried[-2][0]) / (tried[-1][1] - tried[-2][1])
            slope = min(4.0, max(0.25, slope))
        nxt = min(LOUDNORM_MAX_I, max(LOUDNORM_MIN_I, given + slope * (target_lufs - got)))
        if nxt == given:
            break
        given = nxt
    best_i, best_out = min(tried, key=lambda t: abs(t[1] - target_lufs))
    log.info("dynamic loudness: loudnorm I=%.2f gives %.2f LUFS (target %.1f)", best_i, best_out, target_lufs)
    return LoudnessSettings(measured=measured, mode="dynamic", loudnorm_i=best_i, expected_lufs=best_out)


_SUMMARY_I = re.compile(r"Integrated loudness:\s*\n\s*I:\s*(-?[\d.]+|-inf)\s*LUFS")


def integrated_loudness_of(path: Path) -> float | None:
    """Integrated loudness (LUFS) of the first audio stream of a file, or None when it is silent."""
    args = ["-i", str(path), "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"]
    stderr = run_ffmpeg(args, what="loudness of the output", timeout=600)
    found = _SUMMARY_I.findall(stderr)
    if not found:
        raise FFmpegError("no ebur128 summary in ffmpeg's output", cmd=args, stderr=stderr)
    value = _float(found[-1])
    return value if math.isfinite(value) and value > -70.0 else None
