"""Several web replicas on one PostgreSQL and one S3 bucket, as `modal deploy` scales them: each
unfinished job is run by exactly one replica (the one holding its lease), and when that replica dies,
another one takes the job over once the lease runs out and finishes it from the cache.

Leases are short here (about a second) so that a takeover takes about a second too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.job_params import job_params
from api.settings import ServerSettings
from api.state import AppState
from functions.pipeline.backends import open_job_store, open_project_store
from shared.media.probe import probe
from shared.settings import ScaleSettings
from tests.api.conftest import Api, LiveServer, free_port, parse_sse, serving, start_uvicorn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 1.2
HEARTBEAT_SECONDS = 0.2
PHOTOS = ["astronaut.png", "coffee.png", "chelsea_cat.png", "camera.png", "rocket_launch.jpg"]


def fresh_database(url: str) -> str:
    """A new, empty database on the test server: these replicas see only this module's jobs (and the
    session's other S3 + PostgreSQL server never sees, nor takes over, theirs)."""
    import psycopg

    name = f"ml_replicas_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1)


@dataclass
class Deployment:
    """What every replica shares: the bucket and the database."""

    scale: ScaleSettings
    root: Path
    photos: list[Path]

    def settings(self, name: str) -> ServerSettings:
        data = self.root / name
        data.mkdir(exist_ok=True)
        return ServerSettings(data_dir=data, output_preset="ultrafast", workers=2, job_workers=2,
                              sse_heartbeat_seconds=0.5, sse_poll_seconds=0.05,
                              job_lease_seconds=LEASE_SECONDS, job_heartbeat_seconds=HEARTBEAT_SECONDS)

    def env(self) -> dict[str, str]:
        """The same deployment as MOMENTLOOP_* variables, for a replica in its own process."""
        s = self.scale
        assert s.database_url and s.s3_endpoint_url and s.s3_region
        return {**os.environ, "MOMENTLOOP_STORE": "s3", "MOMENTLOOP_S3_BUCKET": s.s3_bucket,
                "MOMENTLOOP_S3_PREFIX": s.s3_prefix, "MOMENTLOOP_S3_ENDPOINT_URL": s.s3_endpoint_url,
                "MOMENTLOOP_S3_REGION": s.s3_region, "MOMENTLOOP_DATABASE_URL": s.database_url,
                "MOMENTLOOP_OUTPUT_PRESET": "ultrafast", "MOMENTLOOP_WORKERS": "1", "MOMENTLOOP_JOB_WORKERS": "1",
                "MOMENTLOOP_SSE_POLL_SECONDS": "0.05", "MOMENTLOOP_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
                "MOMENTLOOP_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, postgres_url: str,
               good_photos: list[Path]) -> Deployment:
    import boto3

    bucket = f"ml-replicas-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    scale = ScaleSettings(store="s3", s3_bucket=bucket, s3_prefix="replicas", s3_endpoint_url=s3_endpoint,
                          s3_region="us-east-1", database_url=fresh_database(postgres_url))
    return Deployment(scale=scale, root=tmp_path_factory.mktemp("replicas"),
                      photos=[p for p in good_photos if p.name in PHOTOS])


def wait_done(state: AppState, job_ids: list[str], *, timeout: float = 90) -> None:
    """Until every job's log ends with its terminal event and its lease is given back. The status is
    written before that event, and the lease released after it: a test that stopped waiting at the
    status read a log without its `done` (seen once in six runs)."""
    deadline = time.monotonic() + timeout

    def over(job_id: str) -> bool:
        events = state.jobs.events(job_id)
        return bool(events) and events[-1].type in ("done", "failed") and state.jobs.lease(job_id) is None

    while time.monotonic() < deadline:
        if all(over(j) for j in job_ids):
            return
        time.sleep(0.05)
    raise AssertionError(f"jobs not finished in {timeout} s: {[state.jobs.get_job(j).status for j in job_ids]}")


def test_two_replicas_starting_at_once_run_each_interrupted_job_exactly_once(deployment: Deployment) -> None:
    # Two planned projects; then, with no replica running, two render jobs left unfinished by a replica
    # that died: one was running (its lease ran out), one still waited in that replica's queue.
    with serving(deployment.settings("setup"), scale=deployment.scale) as setup:
        api = Api(setup, setup.add_user("replicas"))
        projects = [api.planned(deployment.photos[:3], look="lego"),
                    api.planned(deployment.photos[2:4], look="comic", aspect="16:9")]
        user = setup.state.projects.user_by_token(api.token)
        assert user is not None
    jobs = open_job_store(settings=deployment.settings("setup"), scale=deployment.scale)
    project_store = open_project_store(settings=deployment.settings("setup"), scale=deployment.scale)
    job_ids = []
    for n, project in enumerate(projects):
        record = project_store.get_project(user_id=user.id, project_id=project["id"])
        plan = project_store.get_plan(project_id=record.id)
        assert plan is not None
        params = job_params(project=record, assets=project_store.list_assets(project_id=record.id), plan=plan.plan)
        job = jobs.create_job(kind="render", params=params.model_dump(mode="json"))
        project_store.link_job(job_id=job.id, project_id=record.id, kind="render")
        if n == 0:
            assert jobs.claim(job.id, owner="gone-host:1:dead", lease_seconds=0.05)  # type: ignore[attr-defined]
            jobs.set_status(job.id, status="running")
            jobs.append_event(job.id, type="log", message="started on a replica that then died")
        job_ids.append(job.id)
    for store in (jobs, project_store):
        store.close()  # type: ignore[attr-defined]
    time.sleep(0.1)  # the dead replica's lease runs out

    # Both replicas start at the same moment; each tries to take over every unfinished job.
    apps = [create_app(settings=deployment.settings(f"replica-{n}"), scale=deployment.scale) for n in range(2)]
    owners = {app.state.ml.runner.owner for app in apps}
    assert len(owners) == 2
    together = threading.Barrier(2)
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> None:
        port = free_port()
        together.wait()
        servers.append(start_uvicorn(app, port))

    starters = [threading.Thread(target=start, args=(app,)) for app in apps]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    try:
        state = apps[0].state.ml
        wait_done(state, job_ids)
        for job_id, project in zip(job_ids, projects, strict=True):
            assert state.jobs.get_job(job_id).status == "done"
            events = state.jobs.events(job_id)
            assert [e.seq for e in events] == list(range(1, len(events) + 1)), "one gap-free log"
            takeovers = [e for e in events if e.status == "resumed"]
            assert len(takeovers) == 1, [(e.seq, e.type, e.stage, e.status, e.message) for e in events]
            runner = takeovers[0].message.removeprefix("resumed by ").split(":", 3)
            assert ":".join(runner[:3]) in owners, takeovers[0].message
            # One run: one compose, one `done`, one export.
            assert sum(1 for e in events if e.type == "stage" and e.stage == "compose"
                       and e.status == "running") == 1
            assert [e.type for e in events].count("done") == 1
            assert len(state.projects.list_exports(project_id=project["id"])) == 1
            assert state.jobs.lease(job_id) is None, "the lease is given back at the end"
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(timeout=15)


class Replica:
    """`momentloop serve` on the shared deployment, in its own process: killed the hard way."""

    def __init__(self, deployment: Deployment, name: str) -> None:
        self.data = deployment.root / name
        self.data.mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = deployment.env()
        self.proc: subprocess.Popen[bytes] | None = None

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
        raise AssertionError("the replica did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture()
def doomed(deployment: Deployment) -> Iterator[Replica]:
    replica = Replica(deployment, f"doomed-{uuid.uuid4().hex[:6]}")
    try:
        yield replica
    finally:
        replica.kill()


def test_a_job_whose_replica_died_is_taken_over_after_its_lease_and_finished_from_the_cache(
    deployment: Deployment, doomed: Replica
) -> None:
    with serving(deployment.settings("survivor"), scale=deployment.scale) as survivor:
        doomed.start()
        token = survivor.add_user("dana")
        # Everything goes to the doomed replica: it plans, it takes the render.
        http = httpx.Client(base_url=doomed.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        doomed_api = Api(LiveServer(url=doomed.url, state=survivor.state, settings=survivor.settings), token)
        project = doomed_api.planned(deployment.photos, look="sketch", duration=8)
        job = http.post(f"/api/projects/{project['id']}/render").json()
        seen: list[dict[str, Any]] = []
        with http.stream("GET", f"/api/jobs/{job['id']}/events") as r:
            for e in parse_sse(r.iter_lines()):
                if "id" not in e:
                    continue
                seen.append(e)
                if sum(1 for x in seen if x["event"] == "item" and x["data"]["stage"] == "clips") >= 2:
                    holder = survivor.state.jobs.lease(job["id"])
                    doomed.kill()
                    break
        http.close()
        assert holder is not None and f":{doomed.proc.pid}:" in holder.owner, "the doomed replica held it"  # type: ignore[union-attr]
        total = next(x["data"]["total"] for x in seen if x["event"] == "stage" and x["data"]["stage"] == "clips")
        state = survivor.state
        before = state.jobs.events(job["id"])
        finished_before = sum(1 for e in before if e.type == "item" and e.stage == "clips" and e.status == "done")
        assert 2 <= finished_before < total, "killed mid-way"

        killed_at = time.monotonic()
        wait_done(state, [job["id"]])
        took = time.monotonic() - killed_at
        after = state.jobs.events(job["id"])[len(before):]
        resumed = after[0]
        assert resumed.status == "resumed" and resumed.message.startswith(f"resumed by {state.runner.owner}:")
        assert took >= LEASE_SECONDS * 0.5, "not before the dead replica's lease ran out"
        clips = next(e for e in after if e.type == "stage" and e.stage == "clips" and e.status == "running")
        items, cached_text = clips.message.split(" item(s), ")
        cached = int(cached_text.removesuffix(" cached"))
        assert int(items) == total
        assert cached >= finished_before, "every clip the dead replica finished is a cache hit"
        assert after[-1].type == "done" and state.jobs.get_job(job["id"]).status == "done"
        whole = state.jobs.events(job["id"])
        assert [e.seq for e in whole] == list(range(1, len(whole) + 1))

        final = Api(survivor, token).http.get(f"/api/jobs/{job['id']}").json()
        video = deployment.root / "taken-over.mp4"
        video.write_bytes(Api(survivor, token).http.get(f"/api/exports/{final['export_id']}/video").content)
        info = probe(video)
        assert info.duration == pytest.approx(8.0, abs=1 / 12 + 1e-6) and info.audio_codec == "aac"


def test_a_replica_that_lost_its_lease_stops_and_writes_nothing_more(deployment: Deployment) -> None:
    """The owner stalls past its lease (here: its lease is made to run out under it); the other replica
    takes the job over. The stalled one gives up: no `interrupted`, `failed` or `cancelled` from it, no
    second export, no event after the job's `done`, and it does not free the new owner's lease."""
    import psycopg

    with serving(deployment.settings("first"), scale=deployment.scale) as first, \
            serving(deployment.settings("second"), scale=deployment.scale) as second:
        api = Api(first, first.add_user("erin"))
        project = api.planned(deployment.photos, look="ghibli", duration=8)
        job = api.http.post(f"/api/projects/{project['id']}/render").json()
        state = first.state
        deadline = time.monotonic() + 60
        while not any(e.type == "item" and e.stage == "clips" for e in state.jobs.events(job["id"])):
            assert time.monotonic() < deadline and state.jobs.get_job(job["id"]).status in ("queued", "running")
            time.sleep(0.02)
        lease = state.jobs.lease(job["id"])
        assert lease is not None and lease.owner == first.state.runner.owner
        assert deployment.scale.database_url
        with psycopg.connect(deployment.scale.database_url, autocommit=True) as conn:
            conn.execute("UPDATE jobs SET lease_expires = clock_timestamp() - interval '1 second' WHERE id = %s",
                         (job["id"],))

        wait_done(state, [job["id"]])
        events = state.jobs.events(job["id"])
        takeovers = [e for e in events if e.status == "resumed"]
        assert len(takeovers) == 1, [e.message for e in takeovers]
        # Almost always the second replica; the first may take it back, once it has let go of its old run.
        assert any(takeovers[0].message.startswith(f"resumed by {r.state.runner.owner}:") for r in (second, first))
        given_up = [e for e in events if e.status in ("interrupted", "failed", "cancelled")]
        assert not given_up, "the first replica gave up quietly"
        # From the takeover on, the log is one run's: the old owner's late writes were refused.
        after = events[events.index(takeovers[0]) + 1:]
        stages = [(e.stage, e.status) for e in after if e.type == "stage"]
        assert stages.count(("clips", "running")) == 1 and stages.count(("compose", "running")) == 1, stages
        total = next(e.total for e in after if e.type == "stage" and e.stage == "clips")
        assert sum(1 for e in after if e.type == "item" and e.stage == "clips") == total
        assert [e.type for e in events].count("done") == 1 and events[-1].type == "done"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        time.sleep(3 * HEARTBEAT_SECONDS)
        assert len(state.jobs.events(job["id"])) == len(events), "nothing written after the end"
        assert len(state.projects.list_exports(project_id=project["id"])) == 1
        assert state.jobs.get_job(job["id"]).status == "done"


def test_a_replica_keeps_its_jobs_while_its_look_out_for_dead_replicas_waits(deployment: Deployment) -> None:
    """The look-out for jobs to take over reads the jobs' projects (project_jobs); a lock on that table
    (here: held by a test transaction for three leases) made it wait, and the lease renewals waited
    behind it on the same thread: the replica lost the job it was running while alive, and the job was
    resumed a second time. That is how the start-up test above can fail on a busy machine: there, on an
    idle one, renewals 0.2 s apart came up to 0.62 s apart, the look-out's queries between them.
    Renewals have their own thread: the lease never runs out and the job runs once."""
    import psycopg

    with serving(deployment.settings("steady"), scale=deployment.scale) as first, \
            serving(deployment.settings("watcher"), scale=deployment.scale):
        api = Api(first, first.add_user("frank"))
        project = api.planned(deployment.photos[:3], look="comic", duration=6)
        job = api.http.post(f"/api/projects/{project['id']}/render").json()
        state = first.state
        deadline = time.monotonic() + 60
        while not any(e.type == "stage" and e.stage == "clips" for e in state.jobs.events(job["id"])):
            assert time.monotonic() < deadline and state.jobs.get_job(job["id"]).status in ("queued", "running")
            time.sleep(0.02)
        holder = state.jobs.lease(job["id"])
        assert holder is not None and holder.owner == first.state.runner.owner
        # A job a third replica is running: each look-out reads its project to decide it is not theirs.
        other = state.jobs.create_job(kind="render", params={})
        state.projects.link_job(job_id=other.id, project_id=project["id"], kind="render")
        assert state.jobs.claim(other.id, owner="third-host:1:alive", lease_seconds=600)
        assert deployment.scale.database_url
        expired_seen = []
        with psycopg.connect(deployment.scale.database_url) as conn:
            # The exports table too: the job waits to record its video until the lock goes, so it is
            # still running, under its lease, the whole time.
            conn.execute("LOCK TABLE project_jobs, exports IN ACCESS EXCLUSIVE MODE")
            until = time.monotonic() + 3 * LEASE_SECONDS
            while time.monotonic() < until:
                lease = state.jobs.lease(job["id"])
                if lease is None or lease.expired or lease.owner != holder.owner:
                    expired_seen.append(lease)
                time.sleep(0.05)
            conn.rollback()
        assert not expired_seen, f"the running replica's lease ran out: {expired_seen[:1]}"
        wait_done(state, [job["id"]])
        events = state.jobs.events(job["id"])
        assert not [e.message for e in events if e.status == "resumed"], "taken over while its replica ran it"
        assert [e.type for e in events].count("done") == 1 and events[-1].type == "done"
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert len(state.projects.list_exports(project_id=project["id"])) == 1
        state.jobs.set_status(other.id, status="cancelled")
