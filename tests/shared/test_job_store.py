"""The SQLite job store: real database files, concurrent writers, ordered gap-free event logs."""

from __future__ import annotations

import multiprocessing as mp
import threading
from pathlib import Path

import pytest

from shared.jobs import JobNotFoundError, SQLiteJobStore


def test_job_lifecycle_and_event_history(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    job = store.create_job(kind="make", params={"look": "lego"})
    assert job.status == "queued" and job.params == {"look": "lego"}
    store.append_event(job.id, type="stage", stage="style", status="running", percent=0)
    store.append_event(job.id, type="item", stage="style", item="a.jpg", status="failed", error="a.jpg: bad",
                       hint="re-export it")
    store.set_status(job.id, status="done", result={"video_key": "compose/x/video.mp4"})
    again = SQLiteJobStore(tmp_path / "jobs.db")  # a new process would open it the same way
    assert again.get_job(job.id).status == "done"
    assert again.get_job(job.id).result == {"video_key": "compose/x/video.mp4"}
    events = again.events(job.id)
    assert [e.seq for e in events] == [1, 2]
    assert events[1].error == "a.jpg: bad" and events[1].hint == "re-export it"
    assert [e.seq for e in again.events(job.id, after=1)] == [2]
    with pytest.raises(JobNotFoundError):
        again.get_job("nope")


def test_concurrent_writers_threads_keep_sequence_gap_free(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    job = store.create_job(kind="make", params={})

    def write(n: int) -> None:
        for k in range(50):
            store.append_event(job.id, type="log", message=f"{n}-{k}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = [e.seq for e in store.events(job.id)]
    assert seqs == list(range(1, 401))
    # Each writer's own events stay in the order it wrote them.
    for n in range(8):
        mine = [e.message for e in store.events(job.id) if e.message.startswith(f"{n}-")]
        assert mine == [f"{n}-{k}" for k in range(50)]


def _append_many(path: str, job_id: str, n: int) -> None:
    store = SQLiteJobStore(Path(path))
    for k in range(n):
        store.append_event(job_id, type="log", message=str(k))


def test_concurrent_writer_processes_keep_sequence_gap_free(tmp_path: Path) -> None:
    store = SQLiteJobStore(tmp_path / "jobs.db")
    job = store.create_job(kind="make", params={})
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path / "jobs.db"), job.id, 40)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert [e.seq for e in store.events(job.id)] == list(range(1, 161))
