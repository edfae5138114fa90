"""Durability of `momentloop serve`: SIGKILL the server in the middle of a render and start it again; the
job resumes by itself and finishes without redoing what was finished, and a page that was following it
picks up where it was. A killed upload leaves no asset behind."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.media.probe import probe
from tests.api.conftest import free_port, parse_sse

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ["astronaut.png", "coffee.png", "chelsea_cat.png", "camera.png", "rocket_launch.jpg"]


class Serve:
    """`momentloop serve` as a separate process, killed the hard way."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**os.environ, "MOMENTLOOP_OUTPUT_PRESET": "ultrafast", "MOMENTLOOP_WORKERS": "1",
                    "MOMENTLOOP_SSE_POLL_SECONDS": "0.05"}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "api.cli", "--data-dir", str(self.data), *args],
                              capture_output=True, text=True, cwd=PROJECT_ROOT, env=self.env, timeout=60,
                              check=False)

    def start(self) -> None:
        log = (self.data / "serve.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--data", str(self.data), "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.data / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Serve]:
    server = Serve(tmp_path / "data")
    server.data.mkdir()
    try:
        yield server
    finally:
        server.stop()


def _db_events(data: Path, job_id: str) -> list[dict[str, Any]]:
    import json

    with sqlite3.connect(data / "momentloop.db", timeout=10) as db:
        rows = db.execute("SELECT body FROM job_events WHERE job_id=? ORDER BY seq", (job_id,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_a_render_killed_mid_way_resumes_after_restart_without_redoing_work(
    serve: Serve, good_photos: list[Path]
) -> None:
    added = serve.cli("users", "add", "dana")
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    serve.start()
    http = httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    project = http.post("/api/projects", json={"name": "kill", "aspect": "1:1", "duration": 8, "fps": 12}).json()
    pid = project["id"]
    for p in (p for p in good_photos if p.name in PHOTOS):
        with p.open("rb") as f:
            assert http.post(f"/api/projects/{pid}/assets", files={"file": (p.name, f)}).status_code == 201
    job = http.post(f"/api/projects/{pid}/render").json()

    # Follow the job like the page does, until two scenes are rendered; then kill the server.
    seen: list[dict[str, Any]] = []
    with http.stream("GET", f"/api/jobs/{job['id']}/events") as r:
        for e in parse_sse(r.iter_lines()):
            if "id" not in e:
                continue
            seen.append(e)
            clips_done = sum(1 for x in seen if x["event"] == "item" and x["data"]["stage"] == "clips")
            if clips_done >= 2:
                serve.kill()
                break
    total_clips = next(x["data"]["total"] for x in seen if x["event"] == "stage" and x["data"]["stage"] == "clips")
    assert clips_done < total_clips, "the render finished before it could be killed"
    before = _db_events(serve.data, job["id"])
    finished_before = sum(1 for e in before if e["type"] == "item" and e["stage"] == "clips"
                          and e["status"] == "done")
    assert finished_before >= 2
    with sqlite3.connect(serve.data / "momentloop.db") as db:
        (status,) = db.execute("SELECT status FROM jobs WHERE id=?", (job["id"],)).fetchone()
    assert status == "running", "killed, not finished"

    serve.start()  # the same data folder: the job is queued again on start
    last_seen = int(seen[-1]["id"])
    rest: list[dict[str, Any]] = []
    with http.stream("GET", f"/api/jobs/{job['id']}/events", headers={"Last-Event-ID": str(last_seen)}) as r:
        rest = [e for e in parse_sse(r.iter_lines()) if "id" in e]
    ids = [int(e["id"]) for e in seen] + [int(e["id"]) for e in rest]
    assert ids == list(range(1, len(ids) + 1)), "the page's view is whole: no gap, no repeat"
    assert rest[-1]["event"] == "done"
    resumed_at = next(e for e in rest if e["event"] == "log" and e["data"]["status"] == "resumed")
    assert "restarted" in resumed_at["data"]["message"]

    after = [e["data"] for e in rest if int(e["id"]) > int(resumed_at["id"])]
    clips_stage = next(d for d in after if d["type"] == "stage" and d["stage"] == "clips" and d["status"] == "running")
    total, cached = clips_stage["message"].split(" item(s), ")
    assert int(total) == total_clips
    assert int(cached.split()[0]) >= finished_before, "every clip finished before the kill is a cache hit"
    redone = sum(1 for d in after if d["type"] == "item" and d["stage"] == "clips")
    assert redone == total_clips  # every scene reported, the cached ones instantly

    final = http.get(f"/api/jobs/{job['id']}").json()
    assert final["status"] == "done" and final["export_id"]
    video = serve.data / "out.mp4"
    video.write_bytes(http.get(f"/api/exports/{final['export_id']}/video").content)
    assert probe(video).duration == pytest.approx(8.0, abs=1 / 12)
    http.close()


def test_a_killed_upload_leaves_no_asset(serve: Serve, good_photos: list[Path]) -> None:
    token = serve.cli("users", "add", "erin").stdout.strip().splitlines()[-1]
    serve.start()
    http = httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    pid = http.post("/api/projects", json={"name": "upload"}).json()["id"]
    photo = next(p for p in good_photos if p.name == "astronaut.png").read_bytes()
    boundary = "killedupload"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n").encode() \
        + photo + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /api/projects/{pid}/assets HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    inbox = serve.data / "uploads-in-progress"
    with socket.create_connection(("127.0.0.1", serve.port)) as sock:
        sock.sendall(head + body[: len(body) * 2 // 3])
        deadline = time.monotonic() + 10
        while not any(inbox.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(inbox.iterdir()), "the upload was being received"
        serve.kill()
    serve.start()
    assert http.get(f"/api/projects/{pid}/assets").json() == []
    assert not any(inbox.iterdir()), "the half file is gone"
    inputs = serve.data / "artifacts" / "inputs"
    assert not inputs.exists() or not any(inputs.iterdir()), "nothing of it reached the store"
    with (good_photos[0].parent / "astronaut.png").open("rb") as f:  # and the same upload works now
        assert http.post(f"/api/projects/{pid}/assets", files={"file": ("a.png", f)}).status_code == 201
    http.close()
