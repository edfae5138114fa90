"""Running the encode: progress reported as it goes, failures and hangs turned into FFmpegError."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from functions.compose.encode import run_with_progress
from shared.errors import FFmpegError


def test_progress_climbs_to_the_end_of_the_output(tmp_path: Path) -> None:
    seen: list[float] = []
    run_with_progress(
        ["-f", "lavfi", "-i", "testsrc2=s=160x120:r=30:d=4", "-c:v", "libx264", "-preset", "ultrafast",
         "-y", str(tmp_path / "out.mp4")],
        what="test encode", duration=4.0, on_percent=seen.append,
    )
    assert (tmp_path / "out.mp4").stat().st_size > 0
    assert seen == sorted(seen) and seen[-1] >= 95


def test_a_failing_ffmpeg_raises_with_its_command_and_stderr(tmp_path: Path) -> None:
    with pytest.raises(FFmpegError, match="test encode failed") as err:
        run_with_progress(["-i", str(tmp_path / "missing.mp4"), "-f", "null", "-"],
                          what="test encode", duration=1.0, on_percent=lambda p: None)
    assert str(tmp_path / "missing.mp4") in err.value.cmd and "missing.mp4" in err.value.stderr


def test_an_encode_that_outlives_its_timeout_is_killed() -> None:
    started = time.monotonic()
    with pytest.raises(FFmpegError, match="timed out"):
        # An endless source, read in real time: it would never finish on its own.
        run_with_progress(["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10", "-f", "null", "-"],
                          what="test encode", duration=10.0, on_percent=lambda p: None, timeout=1.0)
    assert time.monotonic() - started < 10
