"""What a web replica knows about the jobs it holds: its own name, and each held job's lease, which fences
the job store's writes for that job the moment the lease is no longer certain.

Several replicas share one PostgreSQL job table. Each job is run by the replica holding its lease
(shared/jobs.py: claim / renew / release); a replica that dies stops renewing, and once the lease runs
out another replica takes the job over. The replica that lost a lease must not write another event
for that job, or the log would show two runs at once: the job runs on the job store fenced by its
`HeldLease` (`jobs.with_hooks(fence=lease)`), which writes in the owner's name, so the store makes the
write only while the lease is held (checked in the write's own transaction); and which refuses at
once, without asking the store, once the heartbeat learnt the lease was lost or the last renewal is
older than the lease."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from shared.jobs import FINISHED, LeaseLostError
from shared.models.jobs import JobStatus

_RUNNING_HERE: set[str] = set()
"""The owner names of this process's job runners that have not stopped (a process may hold several apps)."""


def replica_name() -> str:
    """A new job runner's name as a lease owner: host, process id and a random tag. The tag makes a
    restarted process someone else, even when it gets the same process id again."""
    name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    _RUNNING_HERE.add(name)
    return name


def runner_stopped(name: str) -> None:
    _RUNNING_HERE.discard(name)


def died_on_this_host(owner: str) -> bool:
    """True when `owner` names a process of this host that no longer runs.

    Only asked of owners in a SQLite job store, whose processes all share one host: there a restarted
    server takes its predecessor's jobs at once instead of waiting for their leases to run out."""
    host, _, rest = owner.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        # This process's id: another runner in it (alive until it stops), or a process before us that had it.
        return owner not in _RUNNING_HERE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    return False


class HeldLease:
    """One job's lease as its holder sees it: certain until `valid_until` (this process's monotonic
    clock), lost for good once the heartbeat could not renew it."""

    def __init__(self, *, job_id: str, owner: str, valid_until: float) -> None:
        self.job_id = job_id
        self.owner = owner
        self.valid_until = valid_until
        self.finishing = False
        """Set when the job's own terminal status is written: from then on a failed renewal (the store
        refuses to renew a finished job) is the job ending, not the lease being lost."""
        self._lost = threading.Event()

    def renewed(self, *, asked_at: float, lease_seconds: float) -> None:
        # Counted from when the renewal was sent: the store's expiry is at least that late.
        self.valid_until = asked_at + lease_seconds

    def lose(self) -> None:
        self._lost.set()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def held(self) -> bool:
        return not self._lost.is_set() and time.monotonic() < self.valid_until

    def check(self) -> None:
        """Raise LeaseLostError unless the lease is certainly still ours."""
        if not self.held():
            self.lose()
            raise LeaseLostError(job_id=self.job_id, owner=self.owner)

    def admit(self, *, status: JobStatus | None) -> None:
        """The job store's fence (shared/jobs.py `Fence`): asked before each write for this job."""
        self.check()
        if status in FINISHED:
            self.finishing = True
