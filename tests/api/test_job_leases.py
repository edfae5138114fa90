"""Who may take a SQLite job over at once, without waiting for its lease: only an owner certainly dead,
a process of this host that no longer runs (the server before a restart). And how a held lease fences
the job store's writes for its job."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from api.leases import HeldLease, died_on_this_host, replica_name, runner_stopped
from shared.db.jobs import SQLJobStore
from shared.jobs import LeaseLostError


def test_only_an_owner_that_no_longer_runs_on_this_host_counts_as_dead() -> None:
    host = socket.gethostname()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not died_on_this_host(f"{host}:{other.pid}:abc123"), "a running process keeps its jobs"
    finally:
        other.kill()
        other.wait(timeout=10)
    assert died_on_this_host(f"{host}:{other.pid}:abc123"), "once it is gone, its jobs are free"
    assert not died_on_this_host(f"another-{host}:{other.pid}:abc123"), "another host's processes are unknown"
    assert not died_on_this_host("not-a-name")


def test_another_runner_of_this_process_is_alive_until_it_stops() -> None:
    mine, neighbour = replica_name(), replica_name()
    assert mine != neighbour and not died_on_this_host(neighbour)
    runner_stopped(neighbour)
    assert died_on_this_host(neighbour)
    runner_stopped(mine)


def test_a_store_fenced_by_a_lease_writes_for_its_job_only_while_the_lease_is_certain(tmp_path: Path) -> None:
    """The web app's job store: told `notify` after each write that committed, and, for a running job,
    fenced by that job's HeldLease: the fence refuses at once once the lease is uncertain, the store
    refuses a write whose owner lost the lease (and the fence learns it), other jobs pass through."""
    store = SQLJobStore(tmp_path / "jobs.db")
    notified: list[str] = []
    mine, theirs, finished = (store.create_job(kind="render", params={}) for _ in range(3))
    for job in (mine, finished):
        assert store.claim(job.id, owner="me", lease_seconds=30)
    lease = HeldLease(job_id=mine.id, owner="me", valid_until=time.monotonic() + 30)
    fenced = store.with_hooks(notify=notified.append).with_hooks(fence=lease)

    assert fenced.append_event(mine.id, type="log", message="mine").seq == 1
    assert fenced.append_event(theirs.id, type="log", message="not fenced").seq == 1
    fenced.set_status(mine.id, status="running")
    assert notified == [mine.id, theirs.id, mine.id] and not lease.lost

    # Another replica takes the job over: the store refuses the write, and the fence is lost for good.
    assert store.release(mine.id, owner="me") and store.claim(mine.id, owner="thief", lease_seconds=30)
    with pytest.raises(LeaseLostError):
        fenced.append_event(mine.id, type="log", message="late")
    assert lease.lost and [e.message for e in store.events(mine.id)] == ["mine"]
    with pytest.raises(LeaseLostError):
        fenced.set_status(mine.id, status="failed", error="stale")
    assert store.get_job(mine.id).status == "running" and notified == [mine.id, theirs.id, mine.id]

    # A lease whose last renewal is older than the lease refuses before asking the store, which would accept.
    stale = HeldLease(job_id=finished.id, owner="me", valid_until=time.monotonic() - 1)
    with pytest.raises(LeaseLostError):
        store.with_hooks(fence=stale).append_event(finished.id, type="log", message="too late")
    assert store.events(finished.id) == [] and stale.lost

    # The job's own terminal status marks it finishing: a failed renewal after it is the end, not a loss.
    ending = HeldLease(job_id=finished.id, owner="me", valid_until=time.monotonic() + 30)
    store.with_hooks(fence=ending).set_status(finished.id, status="done")
    assert ending.finishing and not store.renew(finished.id, owner="me", lease_seconds=30)
