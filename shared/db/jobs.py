"""The job store (shared/jobs.py's interface) on SQLite or PostgreSQL, through SQLAlchemy Core.

Every web replica and worker sharing one database reads and writes the same jobs and event logs, so an
SSE stream served by any replica can follow any job. The per-job sequence stays gap-free and ordered under
any number of concurrent writers: appending an event bumps the job row's `last_seq` with an UPDATE, which
holds that row's lock (PostgreSQL) or the database's write lock (SQLite) until the transaction commits.
Writers to one job therefore commit one after another in sequence order (a reader tailing `seq > n`
never sees 7 before 6), and a failed append rolls its number back with it.

A write in a lease owner's name reads the lease on the row the same UPDATE locks, so no claim can change
it before the write commits; leases are timed by the database's clock (`clock`)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BindParameter, Float, Text, and_, bindparam, cast, func, or_, select, update

from shared.db.engine import Database, DatabaseStore
from shared.db.tables import Document, clock, job_events, jobs
from shared.jobs import UNFINISHED, Fence, JobLease, JobNotFoundError, LeaseLostError
from shared.models.jobs import EventType, JobRecord, JobStatus, ProgressEvent

NOTIFY_CHANNEL = "momentloop_job_events"
"""On PostgreSQL each append also NOTIFYs this channel with the job id, so a listener can wake instead of
polling."""

_RECORD = (jobs.c.id, jobs.c.kind, jobs.c.status, jobs.c.params, jobs.c.result, jobs.c.error, jobs.c.created_at,
           jobs.c.updated_at)

# The statements, built once: executing a built statement skips building it and its cache key again,
# which is most of what SQLAlchemy adds to an append.
_JOB: BindParameter[str] = bindparam("job_id", type_=Text)
_OWNER: BindParameter[str] = bindparam("owner", type_=Text)
_SECONDS: BindParameter[float] = bindparam("seconds", type_=Float)
_HELD = and_(jobs.c.lease_owner == _OWNER, jobs.c.lease_expires > clock())
"""The row's lease is `owner`'s and runs now (NULL, so not true, when owner is None)."""
_UNFINISHED = jobs.c.status.in_(UNFINISHED)

_GET = select(*_RECORD).where(jobs.c.id == _JOB)
_EXISTS = select(jobs.c.id).where(jobs.c.id == _JOB)
_SET_STATUS = (update(jobs).where(jobs.c.id == _JOB)
               .values(status=bindparam("status"), error=bindparam("error"), updated_at=bindparam("now"),
                       result=func.coalesce(bindparam("result", type_=Document), jobs.c.result))
               .returning(_HELD))
_NEXT_SEQ = update(jobs).where(jobs.c.id == _JOB).values(last_seq=jobs.c.last_seq + 1).returning(jobs.c.last_seq, _HELD)
_ADD_EVENT = job_events.insert()
# Each body as JSON text on either database (jsonb cast to text): pydantic parses it faster than a dict.
_EVENTS = (select(cast(job_events.c.body, Text))
           .where(job_events.c.job_id == _JOB, job_events.c.seq > bindparam("after")).order_by(job_events.c.seq))
_CLAIM = (update(jobs)
          .where(jobs.c.id == _JOB, _UNFINISHED,
                 or_(jobs.c.lease_owner.is_(None), jobs.c.lease_expires <= clock(), jobs.c.lease_owner == _OWNER,
                     jobs.c.lease_owner == bindparam("take_from", type_=Text)))
          .values(lease_owner=_OWNER, lease_expires=clock(_SECONDS)))
_RENEW = update(jobs).where(jobs.c.id == _JOB, _HELD, _UNFINISHED).values(lease_expires=clock(_SECONDS))
_RELEASE = (update(jobs).where(jobs.c.id == _JOB, jobs.c.lease_owner == _OWNER)
            .values(lease_owner=None, lease_expires=None))
_NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, _JOB))
_LEASE = select(jobs.c.lease_owner, jobs.c.lease_expires, jobs.c.lease_expires <= clock()).where(jobs.c.id == _JOB)


def _record(row: object) -> JobRecord:
    return JobRecord.model_validate(row, from_attributes=True)


class SQLJobStore(DatabaseStore):
    """Jobs, event logs and leases in one database, shared by this process's threads (a pool) and by
    other processes. `notify` is told the job id after each status or event written; with a `fence`,
    writes for the fence's job go through only while its lease is held (see `with_hooks`)."""

    def __init__(self, database: Database | Path | str, *, pool_size: int = 8, timeout: float = 30.0,
                 notify: Callable[[str], None] | None = None, fence: Fence | None = None) -> None:
        super().__init__(database, pool_size=pool_size, timeout=timeout)
        self.notify = notify
        self.fence = fence

    def with_hooks(self, *, notify: Callable[[str], None] | None = None, fence: Fence | None = None) -> SQLJobStore:
        """This store on the same database, with `notify` and/or `fence` in place of its own (those not
        given are kept): the web app's store notifies its event hub, and each running job writes
        through a copy fenced by that job's lease."""
        hooked = copy.copy(self)
        hooked.notify = notify or self.notify
        hooked.fence = fence or self.fence
        return hooked

    @contextmanager
    def _write_for(self, job_id: str, *, lease_owner: str | None, status: JobStatus | None) -> Iterator[str | None]:
        """Around a write for `job_id`: the owner to write it in the name of (the fence's, for its job),
        and `notify` told once it committed."""
        fence = self.fence if self.fence is not None and self.fence.job_id == job_id else None
        if fence is not None:
            fence.admit(status=status)
            lease_owner = fence.owner
        try:
            yield lease_owner
        except LeaseLostError:
            if fence is not None:
                fence.lose()
            raise
        if self.notify is not None:
            self.notify(job_id)

    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord:
        now = datetime.now(UTC)
        jid = job_id or uuid.uuid4().hex
        with self.db.write() as conn:
            conn.execute(jobs.insert().values(id=jid, kind=kind, status="queued", params=params, created_at=now,
                                              updated_at=now))
        return self.get_job(jid)

    def get_job(self, job_id: str) -> JobRecord:
        with self.db.read() as conn:
            row = conn.execute(_GET, {"job_id": job_id}).first()
        if row is None:
            raise JobNotFoundError(job_id)
        return _record(row)

    def set_status(self, job_id: str, *, status: JobStatus, result: dict[str, Any] | None = None,
                   error: str | None = None, lease_owner: str | None = None) -> None:
        with self._write_for(job_id, lease_owner=lease_owner, status=status) as owner, self.db.write() as conn:
            row = conn.execute(_SET_STATUS, {"job_id": job_id, "status": status, "error": error, "result": result,
                                             "now": datetime.now(UTC), "owner": owner}).first()
            if row is None:
                raise JobNotFoundError(job_id)
            if owner is not None and not row[0]:
                raise LeaseLostError(job_id=job_id, owner=owner)  # rolls the update back

    def append_event(self, job_id: str, *, type: EventType, stage: str | None = None, item: str | None = None,
                     status: str | None = None, percent: float | None = None, total: int | None = None,
                     message: str = "", error: str | None = None, hint: str | None = None,
                     lease_owner: str | None = None) -> ProgressEvent:
        ts = datetime.now(UTC)
        with self._write_for(job_id, lease_owner=lease_owner, status=None) as owner, self.db.write() as conn:
            row = conn.execute(_NEXT_SEQ, {"job_id": job_id, "owner": owner}).first()
            if row is None:
                raise JobNotFoundError(job_id)
            if owner is not None and not row[1]:
                raise LeaseLostError(job_id=job_id, owner=owner)  # rolls the number back
            event = ProgressEvent(job_id=job_id, seq=row[0], ts=ts, type=type, stage=stage, item=item, status=status,
                                  percent=percent, total=total, message=message, error=error, hint=hint)
            conn.execute(_ADD_EVENT, {"job_id": job_id, "seq": event.seq, "ts": ts, "type": type,
                                      "body": event.model_dump(mode="json")})
            if self.db.dialect == "postgresql":
                conn.execute(_NOTIFY, {"job_id": job_id})
        return event

    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]:
        with self.db.read() as conn:
            bodies = conn.scalars(_EVENTS, {"job_id": job_id, "after": after}).all()
        return [ProgressEvent.model_validate_json(body) for body in bodies]

    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        """Jobs, oldest first; only those in `statuses` when given."""
        query = select(*_RECORD).order_by(jobs.c.created_at, jobs.c.id)
        if statuses is not None:
            query = query.where(jobs.c.status.in_(list(statuses)))
        with self.db.read() as conn:
            return [_record(row) for row in conn.execute(query)]

    # ------------------------------------------------------------------ leases

    def claim(self, job_id: str, *, owner: str, lease_seconds: float, take_from: str | None = None) -> bool:
        # One UPDATE: concurrent claimers queue on the row (or the SQLite write lock), and each checks the
        # WHERE clause on the row as the one before it left it, so exactly one of them changes it.
        with self.db.write() as conn:
            taken = conn.execute(_CLAIM, {"job_id": job_id, "owner": owner, "seconds": lease_seconds,
                                          "take_from": take_from}).rowcount
            if taken == 0 and conn.execute(_EXISTS, {"job_id": job_id}).first() is None:
                raise JobNotFoundError(job_id)
        return taken == 1

    def renew(self, job_id: str, *, owner: str, lease_seconds: float) -> bool:
        with self.db.write() as conn:
            return conn.execute(_RENEW, {"job_id": job_id, "owner": owner, "seconds": lease_seconds}).rowcount == 1

    def release(self, job_id: str, *, owner: str) -> bool:
        with self.db.write() as conn:
            return conn.execute(_RELEASE, {"job_id": job_id, "owner": owner}).rowcount == 1

    def lease(self, job_id: str) -> JobLease | None:
        with self.db.read() as conn:
            row = conn.execute(_LEASE, {"job_id": job_id}).first()
        if row is None:
            raise JobNotFoundError(job_id)
        if row[0] is None:
            return None
        return JobLease(owner=row[0], expires_at=row[1], expired=row[2])
