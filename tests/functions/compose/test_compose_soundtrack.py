"""The soundtrack's own passes, run on audio alone: the encode checked on its decoded peaks and encoded
again lower when the AAC encoder overshoots, silence, and a meter that reports nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from functions.compose import loudness
from functions.compose.audio import AudioShape
from functions.compose.loudness import loudness_of, make_soundtrack, parse_summary
from shared.errors import FFmpegError
from tests.functions.compose.songs import punchy_drums

SECONDS = 6.0


def test_an_encode_that_still_peaks_over_the_ceiling_is_limited_lower_and_encoded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no headroom left for the AAC encoder, the first encode overshoots the ceiling; the measured
    overshoot brings the limiter down and the second encode is under it."""
    monkeypatch.setattr(loudness, "AAC_HEADROOM_DB", 0.0)
    music = punchy_drums(tmp_path / "punchy.wav", seconds=SECONDS)
    out = tmp_path / "soundtrack.mp4"
    made = make_soundtrack(audio_path=music, shape=AudioShape(offset=0.5, duration=5.0, fade_in=0.05, fade_out=0.5),
                           target_lufs=-14.0, true_peak_db=-1.5, output_path=out)
    assert made.mastering.ceiling_db < -1.5 - 0.3  # came down from -1.5 by the overshoot and a margin
    assert loudness_of(out) == made.result
    assert made.result.true_peak <= -1.5 and made.result.integrated == pytest.approx(-14.0, abs=1.0)


def test_a_silent_track_is_encoded_as_silence_without_gain(tmp_path: Path) -> None:
    music = tmp_path / "silence.wav"
    sf.write(str(music), np.zeros((48_000 * 3, 2), np.float32), 48_000, subtype="FLOAT")
    made = make_soundtrack(audio_path=music, shape=AudioShape(offset=0, duration=2.0, fade_in=0, fade_out=0.5),
                           target_lufs=-14.0, true_peak_db=-1.5, output_path=tmp_path / "soundtrack.mp4")
    assert made.source.silent and made.result.silent and made.mastering.gain_db == 0


def test_a_meter_report_without_a_summary_is_an_ffmpeg_error_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no ebur128 summary"):
        parse_summary("[Parsed_ebur128_0 @ 0x1] t: 0.1 M: -20.0\n")
    text = tmp_path / "not-audio.wav"
    text.write_text("not audio", encoding="utf-8")
    with pytest.raises(FFmpegError) as err:
        loudness_of(text)
    assert err.value.stderr
