"""The job store contract, on real SQLite files and a real PostgreSQL server: lifecycle, history,
concurrent writers (threads and processes) keeping each job's event sequence gap-free and ordered."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Protocol

import pytest

from shared.db.jobs import SQLJobStore
from shared.jobs import JobLeases, JobNotFoundError, JobStore, LeaseLostError


class LeasingJobStore(JobStore, JobLeases, Protocol):
    """Both stores: the job log and the leases replicas share jobs by."""


@dataclass(frozen=True)
class Backend:
    kind: str
    location: str
    """The SQLite file, or the PostgreSQL URL: what another process needs to open the same store."""


def open_store(backend: Backend) -> LeasingJobStore:
    if backend.kind == "sqlite":
        return SQLJobStore(Path(backend.location))
    return SQLJobStore(backend.location, pool_size=4)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "jobs.db"))
    return Backend("postgres", request.getfixturevalue("postgres_url"))


@pytest.fixture()
def opened(backend: Backend) -> Iterator[Callable[[], LeasingJobStore]]:
    """Opens stores on the backend (each like a new process would) and closes their pools afterwards."""
    stores: list[LeasingJobStore] = []

    def make() -> LeasingJobStore:
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


# ---------------------------------------------------------------------- leases


def test_of_eight_concurrent_claimers_exactly_one_wins(opened: Callable[[], LeasingJobStore]) -> None:
    first = opened()
    job = first.create_job(kind="render", params={})
    stores = [opened() for _ in range(8)]  # eight processes' connections, as eight replicas would hold
    start = threading.Barrier(8)
    won: dict[str, bool] = {}

    def claim(n: int) -> None:
        start.wait()
        won[f"replica-{n}"] = stores[n].claim(job.id, owner=f"replica-{n}", lease_seconds=30)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [owner for owner, ok in won.items() if ok]
    assert len(won) == 8 and len(winners) == 1, won
    lease = first.lease(job.id)
    assert lease is not None and lease.owner == winners[0] and not lease.expired
    assert first.claim(job.id, owner=winners[0], lease_seconds=30)  # holder: again
    loser = next(o for o in won if o != winners[0])
    assert not first.claim(job.id, owner=loser, lease_seconds=30)


def _take_over_rounds(kind: str, location: str, job_ids: list[str], me: str, together: Barrier,
                      won: mp.Queue[tuple[str, str]]) -> None:
    store = open_store(Backend(kind, location))
    for job_id in job_ids:
        together.wait(timeout=60)
        if store.claim(job_id, owner=me, lease_seconds=30):
            # What a replica does once its claim is confirmed: say so in the log, in its own name.
            store.append_event(job_id, type="log", status="resumed", message=f"resumed by {me}", lease_owner=me)
            won.put((job_id, me))
    close = getattr(store, "close", None)
    if close is not None:
        close()


def test_processes_taking_over_the_same_expired_jobs_at_once_take_each_exactly_once(
    backend: Backend, opened: Callable[[], LeasingJobStore]
) -> None:
    """Six processes (six replicas) claim the same job whose owner died, at the same moment, 25 times
    over: each time one of them wins, and only the winner's `resumed` reaches the log."""
    store = opened()
    jobs = [store.create_job(kind="render", params={}).id for _ in range(25)]
    for job_id in jobs:
        assert store.claim(job_id, owner="dead-replica", lease_seconds=0.01)
    time.sleep(0.05)
    ctx = mp.get_context("spawn")
    together, won = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_take_over_rounds, args=(backend.kind, backend.location, jobs, f"replica-{n}",
                                                         together, won)) for n in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    winners: dict[str, list[str]] = {}
    while not won.empty():
        job_id, owner = won.get()
        winners.setdefault(job_id, []).append(owner)
    for job_id in jobs:
        assert len(winners.get(job_id, [])) == 1, (job_id, winners.get(job_id))
        lease = store.lease(job_id)
        assert lease is not None and lease.owner == winners[job_id][0]
        assert [e.message for e in store.events(job_id)] == [f"resumed by {winners[job_id][0]}"]


def test_an_expired_lease_is_taken_over_and_the_old_owner_can_no_longer_renew(
    opened: Callable[[], LeasingJobStore],
) -> None:
    old, new = opened(), opened()
    job = old.create_job(kind="render", params={})
    assert old.lease(job.id) is None
    assert old.claim(job.id, owner="old", lease_seconds=0.4)
    assert old.renew(job.id, owner="old", lease_seconds=0.4)
    assert not new.claim(job.id, owner="new", lease_seconds=30)  # held
    time.sleep(0.6)  # "old" stopped renewing: its lease runs out
    lease = new.lease(job.id)
    assert lease is not None and lease.owner == "old" and lease.expired
    assert not old.renew(job.id, owner="old", lease_seconds=30), "an expired lease is lost"
    assert new.claim(job.id, owner="new", lease_seconds=30)
    assert not old.renew(job.id, owner="old", lease_seconds=30)
    assert not old.claim(job.id, owner="old", lease_seconds=30)
    assert not old.release(job.id, owner="old"), "the old owner cannot free the new one's job"
    # The old owner's writes are refused by the store itself, and leave no trace (no number is used up).
    new.append_event(job.id, type="log", message="taken over", lease_owner="new")
    with pytest.raises(LeaseLostError):
        old.append_event(job.id, type="item", stage="clips", status="done", lease_owner="old")
    with pytest.raises(LeaseLostError):
        old.set_status(job.id, status="failed", error="stale", lease_owner="old")
    new.append_event(job.id, type="log", message="still going", lease_owner="new")
    assert [(e.seq, e.message) for e in old.events(job.id)] == [(1, "taken over"), (2, "still going")]
    assert old.get_job(job.id).status == "queued" and old.get_job(job.id).error is None
    new.set_status(job.id, status="running", lease_owner="new")
    lease = old.lease(job.id)
    assert lease is not None and lease.owner == "new" and not lease.expired
    assert new.renew(job.id, owner="new", lease_seconds=30)
    assert new.release(job.id, owner="new")
    assert old.lease(job.id) is None
    assert old.claim(job.id, owner="old", lease_seconds=30)  # free again


def test_a_known_dead_owner_is_taken_over_at_once_and_finished_jobs_are_never_claimed(
    opened: Callable[[], LeasingJobStore],
) -> None:
    store = opened()
    job = store.create_job(kind="render", params={})
    assert store.claim(job.id, owner="dead", lease_seconds=30)
    assert not store.claim(job.id, owner="heir", lease_seconds=30, take_from="someone-else")
    assert store.claim(job.id, owner="heir", lease_seconds=30, take_from="dead")
    assert not store.claim(job.id, owner="third", lease_seconds=30, take_from="dead"), "only one heir"
    store.set_status(job.id, status="cancelled")  # e.g. by another replica
    assert not store.renew(job.id, owner="heir", lease_seconds=30), "a cancelled job is lost to its runner"
    assert store.release(job.id, owner="heir")
    assert not store.claim(job.id, owner="heir", lease_seconds=30)
    store.set_status(job.id, status="queued")  # resumed: claimable again
    assert store.claim(job.id, owner="heir", lease_seconds=30)
    with pytest.raises(JobNotFoundError):
        store.claim("no-such-job", owner="heir", lease_seconds=30)
    with pytest.raises(JobNotFoundError):
        store.lease("no-such-job")


# The schema the first released version created (before leases): a user's existing file must keep working.
_SQLITE_SCHEMA_BEFORE_LEASES = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, params TEXT NOT NULL,
                   result TEXT, error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE events (job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                     ts TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (job_id, seq));
"""
_POSTGRES_SCHEMA_BEFORE_LEASES = """
CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, params JSONB NOT NULL,
                   result JSONB, error TEXT, last_seq BIGINT NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL,
                   updated_at TIMESTAMPTZ NOT NULL);
CREATE TABLE job_events (job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE, seq BIGINT NOT NULL,
                         ts TIMESTAMPTZ NOT NULL, type TEXT NOT NULL, body JSONB NOT NULL, PRIMARY KEY (job_id, seq));
"""


def _fresh_postgres_database(url: str) -> str:
    """A new, empty database on the test server (for a schema made by an earlier version)."""
    import uuid

    import psycopg

    name = f"ml_old_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1)


def test_a_database_made_before_leases_keeps_its_jobs_and_gains_leases(backend: Backend) -> None:
    """The first store version made this file (or database) and left a job in it; the new store opens
    it, reads the job and its events, appends, and claims — twice opened at once, nothing breaks."""
    if backend.kind == "sqlite":
        import sqlite3

        with sqlite3.connect(backend.location) as db:
            db.execute("PRAGMA journal_mode=WAL")  # as every version has opened it
            db.executescript(_SQLITE_SCHEMA_BEFORE_LEASES)
            db.execute("INSERT INTO jobs VALUES ('old-job', 'render', 'running', '{\"look\": \"lego\"}', NULL, NULL,"
                       " '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')")
            db.execute("INSERT INTO events VALUES ('old-job', 1, '2026-01-01T00:00:00+00:00', 'log', ?)",
                       ('{"job_id": "old-job", "seq": 1, "ts": "2026-01-01T00:00:00Z", "type": "log", '
                        '"message": "started"}',))
        old = Backend("sqlite", backend.location)
    else:
        import psycopg

        url = _fresh_postgres_database(backend.location)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(_POSTGRES_SCHEMA_BEFORE_LEASES)
            conn.execute("INSERT INTO jobs VALUES ('old-job', 'render', 'running', '{\"look\": \"lego\"}', NULL,"
                         " NULL, 1, now(), now())")
            conn.execute("INSERT INTO job_events VALUES ('old-job', 1, now(), 'log', %s::jsonb)",
                         ('{"job_id": "old-job", "seq": 1, "ts": "2026-01-01T00:00:00Z", "type": "log", '
                          '"message": "started"}',))
        old = Backend("postgres", url)
    opened_at_once: list[LeasingJobStore] = []
    threads = [threading.Thread(target=lambda: opened_at_once.append(open_store(old))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened_at_once) == 2, "both stores opened (the migration ran once, the other saw it done)"
    store = opened_at_once[0]
    try:
        job = store.get_job("old-job")
        assert (job.status, job.params) == ("running", {"look": "lego"})
        assert [e.message for e in store.events("old-job")] == ["started"]
        assert store.append_event("old-job", type="log", message="after the upgrade").seq == 2
        assert store.lease("old-job") is None
        assert store.claim("old-job", owner="replica", lease_seconds=30)
        assert not opened_at_once[1].claim("old-job", owner="other", lease_seconds=30)
    finally:
        for s in opened_at_once:
            close = getattr(s, "close", None)
            if close is not None:
                close()


def test_the_column_types_that_differ_by_database_keep_statements_cacheable() -> None:
    """SQLAlchemy caches a statement only when each TypeDecorator class says cache_ok itself; otherwise it warns
    on stderr at every query (the CLI's one-line errors got it as a second line) and compiles each afresh."""
    import warnings

    from sqlalchemy import bindparam, select

    from shared.db.tables import Deadline, Document, Timestamp

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for column_type in (Document, Timestamp, Deadline):
            assert select(bindparam("x", type_=column_type))._generate_cache_key() is not None, column_type
