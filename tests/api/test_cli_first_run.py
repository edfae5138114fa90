"""The first run on a machine: librosa's kernels are compiled (~45 s on two cores) before the song can be
analysed. The "analyze music" bar says so while it waits, instead of sitting at 0 % looking frozen; once
numba has cached them, the next run neither waits nor says it.

A terminal's view, for real: `momentloop make` in a subprocess whose console is forced to be a terminal,
with numba's cache in a folder of its own (NUMBA_CACHE_DIR), its stderr read as it comes. That folder holds
every librosa kernel this machine has compiled but beat tracking's (librosa/beat.py, one of the two files
the check reads): the first run is a first run for those kernels only, and compiles only them. With an
empty folder it compiled every kernel again, apart from the machine's own cache (the module: 69 s alone on
two cores, about 5 minutes while the rest of a CI run competed for them); now 41 s (first run 28 s, second
12 s). On a machine that has never compiled them (a fresh CI venv) the fixture first makes one ordinary
run, which compiles them where every later test loads them from (53 s; the suite's first analysis paid it
before): 94 s in all. `pytest -s` prints the times."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from fakes.media import click_track
from fakes.numba_cache import seed_cache

from api.cli import demo_photos
from functions.analyze.kernels import BEAT_KERNELS, FIRST_RUN_MESSAGE, kernels_cached

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@dataclass
class Run:
    code: int
    stderr: str
    seconds: float
    message_at: float | None
    """Seconds from the start until the first-run message was first written, if it was."""


def make(*, root: Path, numba_cache: Path | None, name: str) -> Run:
    """`momentloop make` of one photo and an 8 s click track; numba's cache in `numba_cache`, or where this
    machine keeps it (None)."""
    song = root / "clicks.wav"
    if not song.exists():
        song.write_bytes(click_track(seconds=8.0, bpm=120.0))
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "200", "MOMENTLOOP_OUTPUT_PRESET": "ultrafast"}
    if numba_cache is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "--data-dir", str(root / f"data-{name}"), "make", str(demo_photos()[0]),
         "--music", str(song), "--duration", "3", "--fps", "12", "--aspect", "1:1", "-o", str(root / f"{name}.mp4")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=PROJECT_ROOT)
    seen: list[float] = []
    text = io.BytesIO()

    def read() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(65536):
            text.write(chunk)
            if not seen and FIRST_RUN_MESSAGE.encode() in text.getvalue():
                seen.append(time.perf_counter() - started)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = proc.wait(timeout=900)
    reader.join(timeout=30)
    return Run(code=code, stderr=text.getvalue().decode(errors="replace"), seconds=time.perf_counter() - started,
               message_at=seen[0] if seen else None)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Run]:
    root = tmp_path_factory.mktemp("first-run")
    started = time.perf_counter()
    if not kernels_cached(beat_tracking=True):
        # This machine has never analysed a song: its own first run compiles the kernels where every later
        # run (and every later test) loads them from.
        warm = make(root=root, numba_cache=None, name="warm-up")
        assert warm.code == 0, warm.stderr[-3000:]
    warmed = time.perf_counter() - started
    numba_cache = root / "numba-cache"  # every kernel compiled but beat tracking's
    seeded = seed_cache(numba_cache, cold=BEAT_KERNELS)
    assert seeded, "no compiled librosa kernels to copy"
    seeded_at = {path: path.stat().st_mtime_ns for path in seeded}
    first = make(root=root, numba_cache=numba_cache, name="first")
    second = make(root=root, numba_cache=numba_cache, name="second")  # a new data folder: analysed again
    print(f"\nwarm-up {warmed:.1f} s; first run: message after {first.message_at} s, {first.seconds:.1f} s in all; "
          f"second run: {second.seconds:.1f} s")
    assert {path: path.stat().st_mtime_ns for path in seeded} == seeded_at, "only beat tracking's kernels compiled"
    return first, second


def test_the_first_run_says_it_is_preparing_the_audio_analyser(runs: tuple[Run, Run]) -> None:
    first, _ = runs
    assert first.code == 0, first.stderr[-3000:]
    assert first.message_at is not None, f"the bar never said {FIRST_RUN_MESSAGE!r}:\n{first.stderr[-3000:]}"
    assert f"analyze music ({FIRST_RUN_MESSAGE})" in first.stderr
    # Said while it waited: before the analysis' own result (tempo, beats) was shown.
    shown = first.stderr.index(FIRST_RUN_MESSAGE)
    assert "BPM, " in first.stderr[shown:] and "BPM, " not in first.stderr[:shown]


def test_the_next_run_neither_waits_nor_says_it(runs: tuple[Run, Run]) -> None:
    first, second = runs
    assert second.code == 0, second.stderr[-3000:]
    assert second.message_at is None and FIRST_RUN_MESSAGE not in second.stderr
    assert second.seconds < first.seconds
