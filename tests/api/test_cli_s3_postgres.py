"""`momentloop make` on the scale-out backends: artifacts in S3 (moto's server, over HTTP) and the job
log in PostgreSQL, chosen by MOMENTLOOP_* variables alone. The video is measured from the file; the
stores are read back to see that everything went where the settings said and nothing stayed local;
a second run reuses every item."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from shared.media.probe import probe

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ["astronaut.png", "coffee.png", "chelsea_cat.png"]
DURATION, FPS = 3.0, 12


def fresh_database(url: str) -> str:
    """A new, empty database on the test server, so the job table holds only this module's jobs."""
    import psycopg

    name = f"ml_cli_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1)


def make(*, photos: list[Path], out: Path, data_dir: Path,
         env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), "make", *map(str, photos), "--style", "comic",
         "--aspect", "1:1", "--duration", str(DURATION), "--fps", str(FPS), "-o", str(out)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=180, check=False)
    return proc, time.perf_counter() - started


def stage_counts(events: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(items, cached) of every stage the job ran, from its `stage ... running` events."""
    counts = {}
    for e in events:
        if e["type"] == "stage" and e["status"] == "running":
            m = re.fullmatch(r"(\d+) item\(s\), (\d+) cached", e["message"])
            assert m, e["message"]
            counts[e["stage"]] = (int(m[1]), int(m[2]))
    return counts


def test_make_on_s3_and_postgres_keeps_nothing_local_and_reuses_everything_the_second_time(
    tmp_path: Path, s3_endpoint: str, postgres_url: str, good_photos: list[Path]
) -> None:
    import boto3
    import psycopg

    bucket = f"ml-cli-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    database = fresh_database(postgres_url)
    env = {**os.environ, "MOMENTLOOP_STORE": "s3", "MOMENTLOOP_S3_BUCKET": bucket, "MOMENTLOOP_S3_PREFIX": "cli",
           "MOMENTLOOP_S3_ENDPOINT_URL": s3_endpoint, "MOMENTLOOP_S3_REGION": "us-east-1",
           "MOMENTLOOP_DATABASE_URL": database, "MOMENTLOOP_OUTPUT_PRESET": "ultrafast", "MOMENTLOOP_WORKERS": "2"}
    photos = [p for p in good_photos if p.name in PHOTOS]
    assert len(photos) == len(PHOTOS)
    data_dir = tmp_path / "data"

    out = tmp_path / "first.mp4"
    first, first_seconds = make(photos=photos, out=out, data_dir=data_dir, env=env)
    assert first.returncode == 0, first.stderr[-3000:]

    info = probe(out)
    assert (info.width, info.height) == (1080, 1080)
    assert abs(info.duration - DURATION) <= 1 / FPS + 1e-6
    assert info.video_codec == "h264" and info.audio_codec == "aac" and info.sample_rate == 48000

    # The job and its whole log are in PostgreSQL, numbered without a gap.
    with psycopg.connect(database) as conn:
        jobs = conn.execute("SELECT id, kind, status FROM jobs ORDER BY created_at").fetchall()
        assert [(kind, status) for _, kind, status in jobs] == [("make", "done")]
        first_events = [r[0] for r in conn.execute("SELECT body FROM job_events WHERE job_id = %s ORDER BY seq",
                                                   (jobs[0][0],))]
        seqs = [r[0] for r in conn.execute("SELECT seq FROM job_events WHERE job_id = %s ORDER BY seq",
                                           (jobs[0][0],))]
    assert seqs == list(range(1, len(seqs) + 1)) and first_events[-1]["type"] == "done"
    ran = stage_counts(first_events)
    assert ran["clips"][0] >= 2 and ran["compose"] == (1, 0), ran

    # Artifacts went to the bucket, under the prefix; nothing to the local artifact folder.
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    assert keys and all(k.startswith("cli/") for k in keys)
    clips = [k for k in keys if k.startswith("cli/clips/") and k.endswith(".mp4")]
    videos = [k for k in keys if k.startswith("cli/compose/") and k.endswith("video.mp4")]
    assert len(clips) == ran["clips"][0] and len(videos) == 1, keys
    local = data_dir / "artifacts"
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*")), list(local.rglob("*"))

    # Again: every item is a cache hit, and it is quicker.
    again = tmp_path / "second.mp4"
    second, second_seconds = make(photos=photos, out=again, data_dir=data_dir, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    with psycopg.connect(database) as conn:
        (job_id,) = conn.execute("SELECT id FROM jobs WHERE id <> %s", (jobs[0][0],)).fetchone() or ("",)
        second_events = [r[0] for r in conn.execute("SELECT body FROM job_events WHERE job_id = %s ORDER BY seq",
                                                    (job_id,))]
    reused = stage_counts(second_events)
    assert reused.keys() == ran.keys()
    assert all(cached == items for items, cached in reused.values()), reused
    hits = sum(items for items, _ in reused.values())
    assert f"{hits} cache hits" in second.stdout, second.stdout
    assert again.read_bytes() == out.read_bytes(), "the same video, from the bucket"
    # Measured here: about 10 s, then about 3 s (mostly the interpreter starting).
    assert second_seconds < 0.7 * first_seconds, (first_seconds, second_seconds)
