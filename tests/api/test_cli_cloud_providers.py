"""`momentloop make` with cloud providers, end to end: the official SDKs talk to fake Gemini and Replicate
servers (pointed at by GEMINI_BASE_URL / REPLICATE_BASE_URL), the video is composed and measured, the
job keeps each fallback's reason and what was spent, a budget stops the job before it overspends, and a
dry run spends nothing."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
from fakes.env import set_env
from fakes.gemini_server import GeminiServer
from fakes.replicate_server import ReplicateServer

from api.cli import main
from shared.db.jobs import SQLJobStore
from shared.media.probe import probe

pytest_plugins = ["fakes.fixtures"]


@pytest.fixture()
def photos(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    out = []
    for i, colour in enumerate([(40, 90, 200), (200, 160, 40)]):
        img = np.full((480, 640, 3), colour, np.uint8)
        img[120:360, 200 + 80 * i : 440 + 80 * i] = rng.integers(0, 255, (240, 240, 3), dtype=np.uint8)
        path = tmp_path / f"photo{i}.jpg"
        cv2.imwrite(str(path), img)
        out.append(path)
    return out


@pytest.fixture()
def cli_env(provider_env: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    set_env(provider_env, MOMENTLOOP_OUTPUT_PRESET="ultrafast", MOMENTLOOP_WORKERS="2")
    return provider_env


def make(tmp_path: Path, photos: list[Path], *extra: str) -> int:
    return main(["--data-dir", str(tmp_path / "data"), "make", *map(str, photos), "--aspect", "1:1", "--duration",
                 "4", "--style", "ghibli", "-o", str(tmp_path / "out.mp4"), *extra])


def job_events(tmp_path: Path) -> list[tuple[str, str | None, str]]:
    jobs = SQLJobStore(tmp_path / "data" / "momentloop.db")
    job = jobs.list_jobs()[-1]
    return [(e.type, e.status, e.message) for e in jobs.events(job.id)]


def test_cloud_make_composes_a_video_keeps_the_reasons_and_never_pays_twice(
    gemini: GeminiServer, replicate_fake: ReplicateServer, cli_env: pytest.MonkeyPatch, photos: list[Path],
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, SDKs and HTTP clients included
    replicate_fake.fail("create", "refuse")  # Kling refuses one scene: that scene falls back to the local renderer
    rc = make(tmp_path, photos, "--style-provider", "gemini", "--plan-provider", "gemini", "--clip-provider",
              "kling,local", "--plan-out", str(tmp_path / "plan.json"))
    captured = capsys.readouterr()
    assert rc == 0, captured.err[-2000:]

    info = probe(tmp_path / "out.mp4")
    assert (info.width, info.height) == (1080, 1080) and info.video_codec == "h264"
    assert abs(info.duration - 4.0) <= 1 / 30 + 1e-6
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["provider"] == "gemini:gemini-2.5-flash" and len(plan["scenes"]) == 2
    assert all(s["start"] in plan["beats"] for s in plan["scenes"][1:])

    assert gemini.count("generate") == 3  # one plan, two photos styled
    assert replicate_fake.count("create") == 2  # one refused, one animated
    events = job_events(tmp_path)
    fallbacks = [m for t, s, m in events if t == "log" and s == "fallback"]
    assert len(fallbacks) == 1 and "kling" in fallbacks[0] and "E005" in fallbacks[0]
    spent = [m for t, s, m in events if t == "log" and s == "spend"]
    assert len(spent) == 4  # the plan, two styled photos, one Kling clip
    expected = (2400 * 0.30e-6 + 600 * 2.50e-6) + 2 * 0.039 + 5 * 0.05
    assert f"spent ${expected:.4f}" in captured.out + captured.err
    shown = captured.out + captured.err + caplog.text
    assert gemini.key not in shown and replicate_fake.key not in shown  # keys are never logged nor echoed
    assert "E005" in caplog.text  # (the log is really captured)

    # The same photos, look, providers and parameters again: every paid result comes from the cache.
    assert make(tmp_path, photos, "--style-provider", "gemini", "--plan-provider", "gemini", "--clip-provider",
                "kling,local") == 0
    assert gemini.count("generate") == 3 and replicate_fake.count("create") == 2
    assert "spent" not in capsys.readouterr().out


def test_a_budget_stops_the_job_before_it_is_exceeded(
    gemini: GeminiServer, replicate_fake: ReplicateServer, cli_env: pytest.MonkeyPatch, photos: list[Path],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rc = make(tmp_path, photos, "--style-provider", "gemini", "--plan-provider", "gemini", "--clip-provider", "kling",
              "--budget", "0.05")
    err = capsys.readouterr().err
    assert rc == 1 and "budget" in err and "stopped before spending" in err
    # The plan (a fraction of a cent) fit; styling and animating (about $0.58) did not: nothing of them was spent.
    assert gemini.count("generate") == 1 and replicate_fake.count("create") == 0
    assert not (tmp_path / "out.mp4").exists()
    jobs = SQLJobStore(tmp_path / "data" / "momentloop.db")
    job = jobs.list_jobs()[-1]
    assert job.status == "failed" and "budget" in (job.error or "")


def test_a_dry_run_prints_the_plan_and_the_cost_and_spends_nothing(
    gemini: GeminiServer, replicate_fake: ReplicateServer, cli_env: pytest.MonkeyPatch, photos: list[Path],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rc = make(tmp_path, photos, "--style-provider", "gemini", "--plan-provider", "gemini", "--clip-provider",
              "kling,veo,local", "--music-provider", "replicate", "--dry-run", "--budget", "1")
    out = capsys.readouterr().out
    assert rc == 0
    assert gemini.requests == [] and replicate_fake.requests == []
    assert not (tmp_path / "out.mp4").exists()
    assert "estimated cost (nothing was spent)" in out and "2 scenes" in out
    # 2 photos at $0.039, 2 Kling clips of 5 s at $0.05/s (Veo's 4 s at $0.40/s as the worst case), a 8 s song.
    style, clips_expected, clips_worst = 2 * 0.039, 2 * 5 * 0.05, 2 * 4 * 0.40
    lines = {line.split()[0]: line for line in out.splitlines() if line.split()}
    assert f"${style:.2f}" in lines["style"]
    assert f"${clips_expected:.2f}" in lines["clips"] and f"${clips_worst:.2f}" in lines["clips"]
    assert "replicate" in lines["music"]
    assert "budget $1.00: the estimate fits, but at most" in out and "it would not" in out


def test_a_missing_key_is_one_clear_line_before_anything_runs(
    cli_env: pytest.MonkeyPatch, photos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    rc = make(tmp_path, photos, "--clip-provider", "kling,veo,local")
    err = capsys.readouterr().err
    assert rc == 2 and "REPLICATE_API_TOKEN" in err and "clips" in err
    assert not (tmp_path / "data" / "momentloop.db").exists()
