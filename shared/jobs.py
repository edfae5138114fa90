"""The job store's interface: jobs and their append-only progress event log, with a gap-free per-job
sequence, and each job's lease: which process runs it, until when.

One implementation serves it on SQLite (the embedded default) and PostgreSQL (several containers):
`SQLJobStore` in shared/db/jobs.py. The interface is what the web app's SSE stream and the pipeline use.

A lease (`claim` / `renew` / `release`) lets several web replicas share one job table without two of
them running the same job: a claim is one UPDATE whose WHERE clause says who may take the job (nobody
holds it, its lease ran out, or the claimer already holds it), so of any number of concurrent claimers
exactly one wins. An owner that stops renewing loses the job once the lease runs out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from shared.errors import MomentLoopError
from shared.models.jobs import EventType, JobRecord, JobStatus, ProgressEvent

UNFINISHED: tuple[JobStatus, ...] = ("queued", "running")
"""The statuses of a job someone may still run, and so claim."""
FINISHED: frozenset[JobStatus] = frozenset({"done", "failed", "cancelled"})
"""The statuses of a job that is over."""


class JobNotFoundError(MomentLoopError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no such job: {job_id}")
        self.job_id = job_id


class LeaseLostError(MomentLoopError):
    """A write for a job was refused: the writer no longer holds the job's lease (it ran out, another
    process took the job over, or the job was cancelled elsewhere)."""

    def __init__(self, *, job_id: str, owner: str) -> None:
        super().__init__(f"job {job_id}: {owner} no longer holds its lease; it writes nothing more for it",
                         hint="another replica took the job over (or it was cancelled); it goes on there")
        self.job_id = job_id
        self.owner = owner


class JobStore(Protocol):
    """Jobs and their event logs. `set_status` and `append_event` take `lease_owner` from a job's runner:
    then the write happens only while that owner holds the job's lease, checked in the same transaction
    (LeaseLostError otherwise), so a runner that lost its job cannot add one more event to it."""

    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord: ...
    def get_job(self, job_id: str) -> JobRecord: ...
    def set_status(
        self,
        job_id: str,
        *,
        status: JobStatus,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        lease_owner: str | None = None,
    ) -> None: ...
    def append_event(
        self,
        job_id: str,
        *,
        type: EventType,
        stage: str | None = None,
        item: str | None = None,
        status: str | None = None,
        percent: float | None = None,
        total: int | None = None,
        message: str = "",
        error: str | None = None,
        hint: str | None = None,
        lease_owner: str | None = None,
    ) -> ProgressEvent: ...
    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]: ...


class JobLease(BaseModel):
    """Who holds a job's lease, until when, and whether that time has passed (by the store's clock)."""

    owner: str
    expires_at: datetime
    expired: bool


class JobLeases(Protocol):
    """Leases on jobs, so that of several processes sharing one job store exactly one runs each job."""

    def claim(self, job_id: str, *, owner: str, lease_seconds: float, take_from: str | None = None) -> bool:
        """Take the job for `lease_seconds`, atomically. True when it is unfinished (queued or running)
        and nobody holds it, its lease ran out, `owner` already holds it (the lease is extended), or
        `take_from` holds it (an owner the caller knows to be dead). False when someone else holds it or
        it is finished; JobNotFoundError when there is no such job."""
        ...

    def renew(self, job_id: str, *, owner: str, lease_seconds: float) -> bool:
        """Extend `owner`'s lease to `lease_seconds` from now. False when the lease ran out or is another's,
        or the job is no longer unfinished (someone cancelled it): the owner has lost the job."""
        ...

    def release(self, job_id: str, *, owner: str) -> bool:
        """Give the job up (anyone may claim it now). False when `owner` did not hold it."""
        ...

    def lease(self, job_id: str) -> JobLease | None:
        """The job's lease, None when nobody holds it; JobNotFoundError when there is no such job."""
        ...


class Fence(Protocol):
    """One job's lease as the process running that job holds it (api/leases.py). A job store given a fence
    asks `admit` before each write for the fence's job and makes the write in the owner's name, so the
    store refuses it (LeaseLostError) unless the owner still holds the lease; it tells the fence `lose`
    when that happens."""

    @property
    def job_id(self) -> str: ...
    @property
    def owner(self) -> str: ...
    def admit(self, *, status: JobStatus | None) -> None:
        """Before a write (`status`: the status a set_status writes, None for an event): LeaseLostError
        when the lease is no longer certainly held."""
        ...

    def lose(self) -> None: ...


class ListableJobStore(JobStore, JobLeases, Protocol):
    """What the web app needs of a job store: the jobs, their leases, the unfinished ones listed, and the
    same store with hooks (`notify` told the job id after each status or event written; writes fenced)."""

    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        """Jobs, oldest first; only those in `statuses` when given (the web app resumes `queued` and
        `running` ones after a restart)."""
        ...

    def with_hooks(self, *, notify: Callable[[str], None] | None = None,
                   fence: Fence | None = None) -> ListableJobStore: ...
