"""A real MomentLoop server for the API tests: uvicorn on a free local port, real SQLite, a real artifact
folder and real ffmpeg, with tiny renders (1:1, a few seconds, 12 fps, ultrafast encodes).

One server serves the whole session (its artifact cache makes repeated analysis cheap); every test
makes its own users and projects, so tests never see each other's records. A second server, started
only by the tests that ask for it (`live_s3`, `rendered_on`), runs the same app on the scale-out backends: S3
(moto's server, over HTTP) and a real PostgreSQL, both started by tests/servers.py."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import ServerSettings
from api.state import AppState
from shared.settings import ScaleSettings

SMALL_PHOTOS = ["astronaut.png", "coffee.png", "chelsea_cat.png"]
RENDER = {"aspect": "1:1", "duration": 4, "fps": 12}
BACKENDS = ("local+sqlite", "s3+postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    state: AppState
    settings: ServerSettings

    def add_user(self, name: str | None = None) -> str:
        _, token = self.state.projects.add_user(name=name or f"user-{uuid.uuid4().hex[:8]}")
        return token

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120, **kwargs)


class Api:
    """A signed-in user's client with the few steps most tests repeat."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.token = token
        self.http = server.client(token)

    def project(self, **fields: Any) -> dict[str, Any]:
        r = self.http.post("/api/projects", json={"name": "trip", **RENDER, **fields})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def upload(self, project_id: str, path: Path, *, name: str | None = None,
               role: str | None = None) -> httpx.Response:
        params = {"role": role} if role else None
        with path.open("rb") as f:
            return self.http.post(f"/api/projects/{project_id}/assets", files={"file": (name or path.name, f)},
                                  params=params)

    def wait(self, job_id: str, *, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.http.get(f"/api/jobs/{job_id}").json()
            if job["status"] in ("done", "failed", "cancelled"):
                return dict(job)
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s")

    def events(self, job_id: str, *, after: int | None = None) -> list[dict[str, Any]]:
        """The job's whole event stream (it ends after the terminal event), parsed."""
        headers = {"Last-Event-ID": str(after)} if after is not None else {}
        with self.http.stream("GET", f"/api/jobs/{job_id}/events", headers=headers) as r:
            assert r.status_code == 200, r.read()
            return [e for e in parse_sse(r.iter_lines()) if "id" in e]

    def planned(self, photos: list[Path], **fields: Any) -> dict[str, Any]:
        project = self.project(**fields)
        for p in photos:
            assert self.upload(project["id"], p).status_code == 201
        job = self.http.post(f"/api/projects/{project['id']}/plan").json()
        assert self.wait(job["id"])["status"] == "done"
        return project


def parse_sse(lines: Any) -> Iterator[dict[str, Any]]:
    """Events as dicts (`id`, `event`, `data` parsed as JSON) and comments as {"comment": text}."""
    event: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            event[field] = json.loads(value) if field == "data" else value
    if event:
        yield event


def start_uvicorn(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread


def test_settings(data_dir: Path) -> ServerSettings:
    return ServerSettings(
        data_dir=data_dir,
        output_preset="ultrafast",
        workers=2,
        job_workers=2,
        max_upload_bytes=4 * 1024 * 1024,
        sse_heartbeat_seconds=0.5,
        sse_poll_seconds=0.05,
    )


@contextmanager
def serving(settings: ServerSettings, *, scale: ScaleSettings) -> Iterator[LiveServer]:
    app = create_app(settings=settings, scale=scale)
    port = free_port()
    server, thread = start_uvicorn(app, port)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", state=app.state.ml, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on one machine: a folder of artifacts and a SQLite file."""
    scale = ScaleSettings(store="local", database_url=None)
    with serving(test_settings(tmp_path_factory.mktemp("server-data")), scale=scale) as server:
        yield server


@pytest.fixture(scope="session")
def live_s3(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, postgres_url: str) -> Iterator[LiveServer]:
    """The same app on S3 (a fresh bucket on moto's server) and PostgreSQL, as `modal deploy` runs it."""
    import boto3

    bucket = f"ml-e2e-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    scale = ScaleSettings(store="s3", s3_bucket=bucket, s3_prefix="e2e", s3_endpoint_url=s3_endpoint,
                          s3_region="us-east-1", database_url=postgres_url)
    with serving(test_settings(tmp_path_factory.mktemp("server-data-s3")), scale=scale) as server:
        yield server


@pytest.fixture()
def api(live: LiveServer) -> Iterator[Api]:
    client = Api(live, live.add_user())
    yield client
    client.http.close()


@pytest.fixture(scope="session")
def small_photos(good_photos: list[Path]) -> list[Path]:
    return [p for p in good_photos if p.name in SMALL_PHOTOS]


def render_once(server: LiveServer, photos: list[Path]) -> dict[str, Any]:
    owner = Api(server, server.add_user(f"owner-{uuid.uuid4().hex[:6]}"))
    project = owner.planned(photos)
    job = owner.http.post(f"/api/projects/{project['id']}/render").json()
    finished = owner.wait(job["id"])
    assert finished["status"] == "done", finished
    assets = owner.http.get(f"/api/projects/{project['id']}/assets").json()
    return {"owner": owner, "project": project, "job": finished, "export_id": finished["export_id"],
            "assets": assets, "server": server}


@pytest.fixture(scope="session")
def rendered(live: LiveServer, small_photos: list[Path]) -> dict[str, Any]:
    """One user's project, planned and rendered once for the session: ids every route can be tried with."""
    return render_once(live, small_photos)


@pytest.fixture(scope="session", params=BACKENDS)
def rendered_on(request: pytest.FixtureRequest, small_photos: list[Path]) -> dict[str, Any]:
    """`rendered`, once on each pair of backends (the S3 and PostgreSQL servers start only when asked for)."""
    if request.param == "local+sqlite":
        local: dict[str, Any] = request.getfixturevalue("rendered")
        return local
    return render_once(request.getfixturevalue("live_s3"), small_photos)
