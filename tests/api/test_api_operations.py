"""Running the web app, over real HTTP: the health probe (200 with the store and database reachable,
503 when either is not), per-user rate limits (429 with Retry-After), and the start-up sweep of the
writes a killed process left in the artifact folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from api.settings import ServerSettings
from shared.settings import ScaleSettings
from shared.store import LocalStore
from tests.api.conftest import Api, LiveServer, serving
from tests.api.conftest import test_settings as settings_for_tests
from tests.servers import postgres_server

LOCAL = ScaleSettings(store="local", database_url=None)


# ---------------------------------------------------------------- /healthz


def test_healthz_needs_no_sign_in_and_says_ok(live: LiveServer) -> None:
    r = httpx.get(f"{live.url}/healthz", timeout=30)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "store": "ok", "database": "ok"}
    assert r.headers["cache-control"] == "no-store"


def test_healthz_on_s3_and_postgres(live_s3: LiveServer) -> None:
    r = httpx.get(f"{live_s3.url}/healthz", timeout=30)
    assert (r.status_code, r.json()["status"]) == (200, "ok")


def test_healthz_is_503_while_the_bucket_is_gone(tmp_path: Path, s3_endpoint: str) -> None:
    import boto3

    bucket = f"ml-health-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    scale = ScaleSettings(store="s3", s3_bucket=bucket, s3_prefix="h", s3_endpoint_url=s3_endpoint,
                          s3_region="us-east-1", database_url=None)
    with serving(settings_for_tests(tmp_path), scale=scale) as server:
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        s3.delete_bucket(Bucket=bucket)
        r = httpx.get(f"{server.url}/healthz", timeout=30)
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "store": "unreachable (StoreError)", "database": "ok"}
        assert bucket not in r.text and s3_endpoint not in r.text, "no names or addresses in the answer"


def test_healthz_is_503_while_the_database_is_down(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path)
    settings.health_timeout_seconds = 3
    with postgres_server() as url:
        server_cm = serving(settings, scale=ScaleSettings(store="local", database_url=url))
        server = server_cm.__enter__()
        assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
    # The PostgreSQL server is stopped (and its folder gone); the web app is still up.
    try:
        started = time.monotonic()
        r = httpx.get(f"{server.url}/healthz", timeout=30)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "unavailable" and body["store"] == "ok"
        assert body["database"].startswith(("unreachable (", "timed out after 3 s")), body
        assert "postgres" not in r.text.lower(), "no connection string in the answer"
        assert time.monotonic() - started < 10, "a probe never waits longer than its timeout"
    finally:
        server_cm.__exit__(None, None, None)


# ---------------------------------------------------------------- rate limits


def _limited(tmp_path: Path, **rates: object) -> ServerSettings:
    settings = settings_for_tests(tmp_path)
    for name, value in rates.items():
        setattr(settings, name, value)
    return settings


def test_uploads_past_the_limit_are_429_with_retry_after(tmp_path: Path, small_photos: list[Path]) -> None:
    from api.ratelimit import RateLimit

    settings = _limited(tmp_path, upload_rate=RateLimit(burst=2, per_minute=2))
    with serving(settings, scale=LOCAL) as server:
        alice, bob = Api(server, server.add_user()), Api(server, server.add_user())
        pid = alice.project()["id"]
        assert [alice.upload(pid, p).status_code for p in small_photos[:2]] == [201, 201]
        refused = alice.upload(pid, small_photos[2])
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 30, "one token comes back every 30 s"
        assert refused.json()["detail"] == "too many uploads: at most 2 at once, then 2 a minute"
        # Another user has a bucket of their own; reads are never limited.
        assert bob.upload(bob.project()["id"], small_photos[2]).status_code == 201
        assert all(alice.http.get(f"/api/projects/{pid}/assets").status_code == 200 for _ in range(20))
        # A refused upload's body was never taken in.
        assert len(alice.http.get(f"/api/projects/{pid}/assets").json()) == 2
        assert not any(server.settings.uploads_dir.iterdir())


def test_renders_and_products_past_their_limits_are_429(tmp_path: Path, small_photos: list[Path]) -> None:
    from api.ratelimit import RateLimit

    settings = _limited(tmp_path, render_rate=RateLimit(burst=1, per_minute=0.5),
                        product_rate=RateLimit(burst=1, per_minute=0.1))
    with serving(settings, scale=LOCAL) as server:
        api = Api(server, server.add_user())
        project = api.project()
        pid = project["id"]
        photos = [api.upload(pid, p).json()["id"] for p in small_photos]
        job = api.http.post(f"/api/projects/{pid}/plan")
        assert job.status_code == 202
        api.wait(job.json()["id"])
        again = api.http.post(f"/api/projects/{pid}/render")
        assert again.status_code == 429 and 1 <= int(again.headers["retry-after"]) <= 120
        assert api.http.post(f"/api/projects/{pid}/scenes/0/render").status_code == 429
        # A refused job was never made: the project has only the first one.
        assert len(api.http.get(f"/api/projects/{pid}/jobs").json()) == 1

        product = {"asset_ids": photos, "preview": True, "frames": 8, "size": 128}
        first = api.http.post(f"/api/projects/{pid}/product", json=product)
        assert first.status_code == 202, first.text
        refused = api.http.post(f"/api/projects/{pid}/product", json=product)
        assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 600
        # Resuming a job starts work too, and counts against its kind.
        ended = api.wait(first.json()["id"], timeout=300)
        assert ended["status"] == "failed", "three unrelated photos are no capture of one object"
        assert api.http.post(f"/api/jobs/{ended['id']}/resume").status_code == 429


# ---------------------------------------------------------------- what a killed process left in the store


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from shared.store import LocalStore
with LocalStore(Path(sys.argv[1])).write_path("videos/v.mp4") as tmp, tmp.open("wb") as f:
    f.write(b"\\x00" * (2 << 20))
    f.flush()
    print("writing", flush=True)
    time.sleep(600)
"""


def _killed_mid_write(root: Path) -> Path:
    """A real process writing a video into the store, killed with SIGKILL half-way; its temp file."""
    project = Path(__file__).resolve().parents[2]
    before = set(root.rglob(".tmp-*"))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(root)], stdout=subprocess.PIPE, cwd=project,
                            env={**os.environ, "PYTHONPATH": str(project)})
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    (left,) = set(root.rglob(".tmp-*")) - before
    return left


def test_start_up_removes_what_killed_writers_left(tmp_path: Path) -> None:
    settings = settings_for_tests(tmp_path)
    settings.stale_write_seconds = 3
    root = settings.artifacts_dir
    store = LocalStore(root)
    store.put_bytes("videos/done.mp4", b"a finished video")
    old = _killed_mid_write(root)
    past = time.time() - 3600
    os.utime(old, (past, past))  # killed an hour before this start
    fresh = _killed_mid_write(root)  # killed a moment ago: too fresh to tell from a live writer's
    with serving(settings, scale=LOCAL):
        deadline = time.monotonic() + 5
        while old.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not old.exists(), "the old leftover goes at start-up"
        assert fresh.exists(), "a write as fresh as this could be another process's, still going"
        # A write in progress now (the CLI beside the server), kept fresh by its writer.
        with store.write_path("videos/live.mp4") as live:
            live.write_bytes(b"x")
            deadline = time.monotonic() + 8
            while fresh.exists() and time.monotonic() < deadline:
                live.write_bytes(b"x" * 10)
                time.sleep(0.2)
            assert not fresh.exists(), "once it is as old as the cut-off, the sweep after start-up takes it"
            time.sleep(0.5)
            assert live.exists(), "a writer at work is never swept"
            live.write_bytes(b"the live write")
    assert store.get_bytes("videos/live.mp4") == b"the live write"
    assert store.get_bytes("videos/done.mp4") == b"a finished video"
    assert list(root.rglob(".tmp-*")) == []

