"""The job event stream (SSE) against the real server: order, live delivery, the end after the terminal
event, `Last-Event-ID` resume, heartbeats, late subscribers, and 200 subscribers on one job."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.models.jobs import JobRecord
from tests.api.conftest import Api, LiveServer, parse_sse


def _job(live: LiveServer, api: Api) -> str:
    """A job of `api`'s user whose events the test writes itself (no pipeline runs it)."""
    pid = api.project()["id"]
    job: JobRecord = live.state.jobs.create_job(kind="render", params={})
    live.state.projects.link_job(job_id=job.id, project_id=pid, kind="render")
    live.state.jobs.set_status(job.id, status="running")
    return job.id


def _emit(live: LiveServer, job_id: str, n: int, *, every: float = 0.0, done: bool = True) -> None:
    jobs = live.state.jobs
    for k in range(n):
        kind = ("stage", "item", "progress", "log")[k % 4]
        jobs.append_event(job_id, type=kind, stage="clips", item=f"scene {k}", percent=100.0 * k / n,  # type: ignore[arg-type]
                          message=f"{time.time():.6f}")
        if every:
            time.sleep(every)
    if done:
        jobs.set_status(job_id, status="done", result={})
        jobs.append_event(job_id, type="done", status="done", percent=100.0, message=f"{time.time():.6f}")


def _later(fn: Callable[[], None], delay: float) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        fn()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_events_arrive_live_in_order_and_the_stream_ends_after_done(live: LiveServer, api: Api) -> None:
    job_id = _job(live, api)
    writer = _later(lambda: _emit(live, job_id, 40, every=0.01), 0.3)
    lags = []
    events = []
    with api.http.stream("GET", f"/api/jobs/{job_id}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        for e in parse_sse(r.iter_lines()):
            if "id" in e:
                events.append(e)
                lags.append(time.time() - float(e["data"]["message"]))
    writer.join()
    assert [int(e["id"]) for e in events] == list(range(1, 42))
    assert all(e["data"]["seq"] == int(e["id"]) and e["data"]["type"] == e["event"] for e in events)
    assert events[-1]["event"] == "done", "the stream ended right after the terminal event"
    assert {"stage", "item", "progress", "log"} <= {e["event"] for e in events}
    lags.sort()
    assert lags[len(lags) // 2] < 0.2, f"median delivery {lags[len(lags) // 2]:.3f}s"


def test_last_event_id_replays_exactly_what_was_missed(live: LiveServer, api: Api) -> None:
    job_id = _job(live, api)
    _emit(live, job_id, 5, done=False)
    seen = []
    with api.http.stream("GET", f"/api/jobs/{job_id}/events") as r:
        for e in parse_sse(r.iter_lines()):
            if "id" in e:
                seen.append(int(e["id"]))
            if len(seen) == 3:
                break  # the connection drops after event 3
    _emit(live, job_id, 6, done=True)  # missed while away
    resumed = api.events(job_id, after=3)
    assert [int(e["id"]) for e in resumed] == list(range(4, 13)), "no gap, no duplicate"
    by_query = api.http.get(f"/api/jobs/{job_id}/events", params={"last_event_id": 3})
    assert [e["id"] for e in parse_sse(by_query.text.splitlines()) if "id" in e] == [str(i) for i in range(4, 13)]
    assert api.events(job_id, after=12) == [], "nothing after the last event: the stream just ends"
    assert api.events(job_id, after=999) == []
    bad = api.http.get(f"/api/jobs/{job_id}/events", headers={"Last-Event-ID": "abc"})
    assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["detail"]


def test_a_quiet_stream_gets_heartbeats(live: LiveServer, api: Api) -> None:
    job_id = _job(live, api)
    interval = live.settings.sse_heartbeat_seconds
    writer = _later(lambda: _emit(live, job_id, 0), 3.2 * interval)
    pings: list[float] = []
    events = []
    started = time.monotonic()
    with api.http.stream("GET", f"/api/jobs/{job_id}/events") as r:
        for e in parse_sse(r.iter_lines()):
            if e.get("comment") == "ping":
                pings.append(time.monotonic() - started)
            elif "id" in e:
                events.append(e)
    writer.join()
    assert len(pings) >= 2, pings
    assert all(0.8 * interval <= b - a < interval + 0.5 for a, b in itertools.pairwise(pings)), pings
    assert [e["event"] for e in events] == ["done"]


def test_a_late_subscriber_gets_the_whole_history(live: LiveServer, rendered: dict[str, Any]) -> None:
    owner: Api = rendered["owner"]
    job_id = rendered["job"]["id"]
    stored = live.state.jobs.events(job_id)
    events = owner.events(job_id)
    assert [e["data"] for e in events] == [e.model_dump(mode="json") for e in stored]
    assert events[-1]["event"] == "done" and len(events) > 20


def test_200_subscribers_each_get_every_event_from_one_reader(live: LiveServer, api: Api,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = _job(live, api)
    hub = live.state.hub
    reads = 0
    real_events = hub.jobs.events

    def counted(jid: str, *, after: int = 0) -> Any:
        nonlocal reads
        if jid == job_id:
            reads += 1
        return real_events(jid, after=after)

    monkeypatch.setattr(hub.jobs, "events", counted)
    subscribers = 200
    total = 60

    async def one(client: httpx.AsyncClient) -> list[int]:
        ids = []
        async with client.stream("GET", f"/api/jobs/{job_id}/events") as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("id:"):
                    ids.append(int(line[3:]))
        return ids

    async def main() -> list[list[int]]:
        limits = httpx.Limits(max_connections=subscribers + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=live.url, headers={"Authorization": f"Bearer {api.token}"},
                                     limits=limits, timeout=60) as client:
            tasks = [asyncio.create_task(one(client)) for _ in range(subscribers)]
            deadline = time.monotonic() + 30
            while (hub.feeds.get(job_id) is None or hub.feeds[job_id].subscribers < subscribers) \
                    and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert hub.feeds[job_id].subscribers == subscribers
            await asyncio.to_thread(_emit, live, job_id, total - 1, every=0.01)
            return await asyncio.gather(*tasks)

    started = time.monotonic()
    received = asyncio.run(main())
    assert len(received) == subscribers
    for ids in received:
        assert ids == list(range(1, total + 1))
    # One reader for the job, however many subscribers: its reads track the events, not 200x them.
    assert reads < 4 * total, reads
    assert time.monotonic() - started < 30
    assert job_id not in hub.feeds, "the feed goes when its last subscriber does"
