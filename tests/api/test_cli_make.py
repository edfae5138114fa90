"""`momentloop make` end to end: real photos in, a real MP4 out, measured from the file itself."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from videocheck import (
    black_border_fraction,
    count_frames,
    decode_gray_frames,
    hard_cuts,
    integrated_loudness,
    mp4_is_faststart,
    true_peak,
)

from shared.media.probe import probe

PICKS = [
    "astronaut.png",
    "waterfall_landscape_orient6.jpg",
    "iphone13_kitchen.heic",
    "nokia_harbour_wide.jpg",
    "chelsea_cat.png",
    "kimono_portrait.jpg",
]


def momentloop(*args: str, data_dir: Path, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "MOMENTLOOP_OUTPUT_PRESET": "veryfast", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), *args],
        capture_output=True, text=True, timeout=timeout, env=full_env, check=False,
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory, good_photos: list[Path]) -> Iterator[dict[str, object]]:
    root = tmp_path_factory.mktemp("make")
    photos = [p for p in good_photos if p.name in PICKS]
    out = root / "trip.mp4"
    plan_path = root / "plan.json"
    started = time.perf_counter()
    proc = momentloop("make", *map(str, photos), "--style", "lego", "--aspect", "9:16", "--duration", "8",
                      "--plan-out", str(plan_path), "-o", str(out), data_dir=root / "data",
                      env={"MOMENTLOOP_OUTPUT_PRESET": "medium"})
    first = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    yield {"root": root, "photos": photos, "out": out, "plan": json.loads(plan_path.read_text()),
           "seconds": first, "stdout": proc.stdout, "stderr": proc.stderr}


def test_output_spec_measured_from_the_file(made: dict[str, object]) -> None:
    out = made["out"]
    assert isinstance(out, Path)
    info = probe(out)
    assert (info.width, info.height) == (1080, 1920)
    assert info.fps == pytest.approx(30.0)
    assert info.pix_fmt == "yuv420p" and info.video_codec == "h264" and info.video_profile == "High"
    assert info.audio_codec == "aac" and info.sample_rate == 48000
    assert abs(info.duration - 8.0) <= 1 / 30 + 1e-6
    assert count_frames(out) == 240
    assert mp4_is_faststart(out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask, "the video gets the user's usual permissions"
    assert integrated_loudness(out) == pytest.approx(-14.0, abs=1.0)
    assert true_peak(out) <= -1.0


def test_cuts_land_on_beats(made: dict[str, object]) -> None:
    plan = made["plan"]
    assert isinstance(plan, dict)
    beats = plan["beats"]
    scenes = plan["scenes"]
    assert len(scenes) >= 3
    for scene in scenes[1:]:
        assert min(abs(scene["start"] - b) for b in beats) < 1e-6, "every boundary is a beat time"
    out = made["out"]
    assert isinstance(out, Path)
    frames = decode_gray_frames(out, size=(90, 160))
    cuts = hard_cuts(frames, 30.0)
    planned_cuts = [s["start"] for s in scenes[1:] if s["transition_in"] == "cut"]
    assert len(cuts) >= len(planned_cuts) >= 1
    for t in cuts:
        assert min(abs(t - b) for b in beats) <= 1 / 30 + 1e-6, f"cut at {t:.3f}s is off the beat"
    for t in planned_cuts:
        assert min(abs(t - c) for c in cuts) <= 1 / 30 + 1e-6, f"planned cut at {t:.3f}s not found"


def test_no_black_borders(made: dict[str, object]) -> None:
    out = made["out"]
    assert isinstance(out, Path)
    frames = decode_gray_frames(out, size=(270, 480))
    for frame in frames[:: max(1, len(frames) // 24)]:
        assert black_border_fraction(frame) < 0.02


def test_summary_and_plan_json(made: dict[str, object]) -> None:
    stdout = made["stdout"]
    assert isinstance(stdout, str)
    assert "1080x1920" in stdout and "scenes" in stdout
    plan = made["plan"]
    assert isinstance(plan, dict)
    for scene in plan["scenes"]:
        assert {"photo", "start", "end", "move", "transition_in", "prompt"} <= scene.keys()
    assert plan["downbeats"] and plan["tempo"] > 0


def test_second_run_reuses_everything_and_new_look_reruns_only_downstream(made: dict[str, object]) -> None:
    root, photos = made["root"], made["photos"]
    assert isinstance(root, Path) and isinstance(photos, list)
    args = [*map(str, photos), "--aspect", "9:16", "--duration", "8"]
    started = time.perf_counter()
    again = momentloop("make", *args, "--style", "lego", "-o", str(root / "again.mp4"), data_dir=root / "data",
                       env={"MOMENTLOOP_OUTPUT_PRESET": "medium"})
    second = time.perf_counter() - started
    assert again.returncode == 0, again.stderr[-2000:]
    first = made["seconds"]
    assert isinstance(first, float)
    assert second * 10 <= first, f"cached run took {second:.2f}s vs {first:.2f}s"
    assert (root / "again.mp4").read_bytes() == made["out"].read_bytes()  # type: ignore[union-attr]

    from shared.db.jobs import SQLJobStore

    jobs = SQLJobStore(root / "data" / "momentloop.db")
    restyled = momentloop("make", *args, "--style", "minecraft", "-o", str(root / "mc.mp4"), data_dir=root / "data")
    assert restyled.returncode == 0, restyled.stderr[-2000:]
    import sqlite3

    job_id = sqlite3.connect(root / "data" / "momentloop.db").execute(
        "SELECT id FROM jobs ORDER BY created_at DESC LIMIT 1").fetchone()[0]
    stage_msgs = {e.stage: e.message for e in jobs.events(job_id) if e.type == "stage" and e.status == "running"}

    def cached(stage: str) -> tuple[int, int]:
        total, hits = stage_msgs[stage].split(" item(s), ")
        return int(total), int(hits.split()[0])

    for stage in ("analyze_photo", "music", "analyze_music", "plan"):
        total, hits = cached(stage)
        assert hits == total, f"{stage} re-ran after a look change"
    for stage in ("style", "clips", "compose"):
        assert cached(stage)[1] == 0, f"{stage} should re-run for a new look"


def test_bad_photos_are_skipped_with_a_reason_and_the_job_goes_on(
    tmp_path: Path, bad_photos: list[Path], good_photos: list[Path]
) -> None:
    out = tmp_path / "mixed.mp4"
    proc = momentloop("make", *map(str, bad_photos), str(good_photos[0]), "--duration", "6", "--aspect", "1:1",
                      "-o", str(out), data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if line.startswith("skipped ")]
    for name in ("zero_bytes.jpg", "decompression_bomb.gif", "broken.png"):
        assert any(name in line for line in skipped), f"{name} not reported"
    assert probe(out).width == 1080


def test_unusable_input_exits_2_with_one_line(tmp_path: Path, bad_photos: list[Path], media_dir: Path) -> None:
    hopeless = [p for p in bad_photos if p.name in ("zero_bytes.jpg", "broken.png", "decompression_bomb.gif")]
    proc = momentloop("make", *map(str, hopeless), "-o", str(tmp_path / "x.mp4"), data_dir=tmp_path / "d")
    assert proc.returncode == 2
    assert "no usable photo" in proc.stderr and "Traceback" not in proc.stderr
    good = media_dir / "photos" / "good" / "coffee.png"
    for music in (media_dir / "videos" / "bad" / "zero_bytes.webm", tmp_path / "missing.mp3"):
        proc = momentloop("make", str(good), "--music", str(music), "-o", str(tmp_path / "y.mp4"),
                          data_dir=tmp_path / "d")
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    for bad in (["--style", "vaporwave"], ["--aspect", "4:3"], ["--duration", "abc"], ["--fps", "1000"]):
        proc = momentloop("make", str(good), *bad, "-o", str(tmp_path / "z.mp4"), data_dir=tmp_path / "d")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (bad, proc.stderr)


def test_styles_lists_the_looks(tmp_path: Path) -> None:
    proc = momentloop("styles", data_dir=tmp_path)
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]
    assert {"ghibli", "lego", "minecraft", "simpsons"} <= set(names) and len(names) >= 6


def test_killed_run_resumes_without_redoing_finished_work(tmp_path: Path, good_photos: list[Path]) -> None:
    data = tmp_path / "data"
    photos = [str(p) for p in good_photos[:6]]
    args = [sys.executable, "-m", "api.cli", "--data-dir", str(data), "make", *photos, "--duration", "12",
            "--aspect", "16:9", "--style", "simpsons", "-o", str(tmp_path / "k.mp4")]
    env = {**os.environ, "MOMENTLOOP_OUTPUT_PRESET": "veryfast", "MOMENTLOOP_WORKERS": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = data / "artifacts" / "results" / "clips"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if results.is_dir() and len(list(results.glob("*.json"))) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(results.glob("*.json")))
    assert done_before >= 2
    assert not (tmp_path / "k.mp4").exists()

    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    import sqlite3

    from shared.db.jobs import SQLJobStore

    db = data / "momentloop.db"
    job_id = sqlite3.connect(db).execute("SELECT id FROM jobs ORDER BY created_at DESC LIMIT 1").fetchone()[0]
    clip_msg = next(e.message for e in SQLJobStore(db).events(job_id)
                    if e.type == "stage" and e.stage == "clips" and e.status == "running")
    assert int(clip_msg.split(", ")[1].split()[0]) >= done_before
    assert probe(tmp_path / "k.mp4").duration == pytest.approx(12.0, abs=1 / 30)
