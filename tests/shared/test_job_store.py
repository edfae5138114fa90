"""The job store contract, on real SQLite files and a real PostgreSQL server: lifecycle, history,
concurrent writers (threads and processes) keeping each job's event sequence gap-free and ordered."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.jobs import JobNotFoundError, JobStore, SQLiteJobStore


@dataclass(frozen=True)
class Backend:
    kind: str
    location: str
    """The SQLite file, or the PostgreSQL URL: what another process needs to open the same store."""


def open_store(backend: Backend) -> JobStore:
    if backend.kind == "sqlite":
        return SQLiteJobStore(Path(backend.location))
    from shared.jobs_postgres import PostgresJobStore

    return PostgresJobStore(backend.location, max_size=4)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "jobs.db"))
    return Backend("postgres", request.getfixturevalue("postgres_url"))


@pytest.fixture()
def opened(backend: Backend) -> Iterator[Callable[[], JobStore]]:
    """Opens stores on the backend (each like a new process would) and closes their pools afterwards."""
    stores: list[JobStore] = []

    def make() -> JobStore:
        stores.append(open_store(backend))
        return stores[-1]

    yield make
    for s in stores:
        close = getattr(s, "close", None)
        if close is not None:
            close()


def test_job_lifecycle_and_event_history(opened: Callable[[], JobStore]) -> None:
    store = opened()
    job = store.create_job(kind="make", params={"look": "lego", "photos": ["a.jpg"], "duration": None})
    assert job.status == "queued" and job.params == {"look": "lego", "photos": ["a.jpg"], "duration": None}
    assert job.created_at.tzinfo is not None
    store.set_status(job.id, status="running")
    store.append_event(job.id, type="stage", stage="style", status="running", percent=0, total=3)
    store.append_event(job.id, type="item", stage="style", item="a.jpg", status="failed", error="a.jpg: bad",
                       hint="re-export it")
    store.set_status(job.id, status="done", result={"video_key": "compose/x/video.mp4"})
    again = opened()  # another process would open it the same way
    record = again.get_job(job.id)
    assert record.status == "done" and record.result == {"video_key": "compose/x/video.mp4"}
    assert record.updated_at >= record.created_at
    events = again.events(job.id)
    assert [e.seq for e in events] == [1, 2]
    assert events[0].total == 3 and events[0].percent == 0
    assert events[1].error == "a.jpg: bad" and events[1].hint == "re-export it"
    assert [e.seq for e in again.events(job.id, after=1)] == [2]
    assert again.events(job.id, after=2) == []
    with pytest.raises(JobNotFoundError):
        again.get_job("nope")
    with pytest.raises(JobNotFoundError):
        again.set_status("nope", status="failed")


def test_a_later_status_keeps_the_result_and_records_the_error(opened: Callable[[], JobStore]) -> None:
    store = opened()
    job = store.create_job(kind="render", params={}, job_id="fixed-id-" + str(time.time_ns()))
    store.set_status(job.id, status="done", result={"video_key": "v.mp4"})
    store.set_status(job.id, status="failed", error="compose: disk full")
    record = store.get_job(job.id)
    assert (record.status, record.result, record.error) == ("failed", {"video_key": "v.mp4"}, "compose: disk full")


def test_jobs_are_listed_oldest_first_and_by_status(opened: Callable[[], JobStore]) -> None:
    store = opened()
    list_jobs = getattr(store, "list_jobs", None)
    if list_jobs is None:
        pytest.skip("this JobStore has no list_jobs")
    tag = str(time.time_ns())  # the PostgreSQL server may hold other tests' jobs
    ids = [store.create_job(kind="make", params={}, job_id=f"{tag}-{n}").id for n in range(3)]
    store.set_status(ids[1], status="running")
    store.set_status(ids[2], status="done")
    mine = [j.id for j in list_jobs() if j.id.startswith(tag)]
    assert mine == ids
    assert [j.id for j in list_jobs(statuses=["queued", "running"]) if j.id.startswith(tag)] == ids[:2]
    assert list_jobs(statuses=[]) == []


def test_event_logs_of_different_jobs_are_independent(opened: Callable[[], JobStore]) -> None:
    store = opened()
    a, b = store.create_job(kind="make", params={}), store.create_job(kind="make", params={})
    for k in range(3):
        store.append_event(a.id, type="log", message=f"a{k}")
    store.append_event(b.id, type="log", message="b0")
    assert [(e.seq, e.message) for e in store.events(a.id)] == [(1, "a0"), (2, "a1"), (3, "a2")]
    assert [(e.seq, e.message, e.job_id) for e in store.events(b.id)] == [(1, "b0", b.id)]


def test_eight_concurrent_writers_keep_sequence_gap_free_and_ordered(opened: Callable[[], JobStore]) -> None:
    store = opened()
    job = store.create_job(kind="make", params={})
    start = threading.Barrier(8)

    def write(n: int) -> None:
        start.wait()  # all eight hammer the same log at once
        for k in range(50):
            store.append_event(job.id, type="log", message=f"{n}-{k}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = store.events(job.id)
    assert [e.seq for e in events] == list(range(1, 401))
    # Each writer's own events stay in the order it wrote them.
    for n in range(8):
        mine = [e.message for e in events if e.message.startswith(f"{n}-")]
        assert mine == [f"{n}-{k}" for k in range(50)]


def test_a_reader_tailing_during_writes_never_sees_a_gap(opened: Callable[[], JobStore]) -> None:
    """What an SSE stream does: poll `events(after=last)` while writers append; it must never skip one."""
    store, reader = opened(), opened()
    job = store.create_job(kind="make", params={})
    done = threading.Event()
    seen: list[int] = []

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            for e in reader.events(job.id, after=last):
                seen.append(e.seq)
                last = e.seq
            if finished:
                return

    def write(n: int) -> None:
        for k in range(30):
            store.append_event(job.id, type="log", message=f"{n}-{k}")

    tailer = threading.Thread(target=tail)
    tailer.start()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    tailer.join()
    assert seen == list(range(1, 121))


def _append_many(kind: str, location: str, job_id: str, n: int) -> None:
    store = open_store(Backend(kind, location))
    for k in range(n):
        store.append_event(job_id, type="log", message=str(k))
    close = getattr(store, "close", None)
    if close is not None:
        close()


def test_concurrent_writer_processes_keep_sequence_gap_free(backend: Backend,
                                                            opened: Callable[[], JobStore]) -> None:
    store = opened()
    job = store.create_job(kind="make", params={})
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(backend.kind, backend.location, job.id, 40)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [e.seq for e in store.events(job.id)] == list(range(1, 161))
