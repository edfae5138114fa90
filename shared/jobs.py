"""The job store: jobs and their append-only progress event log, with a gap-free per-job sequence,
and each job's lease: which process runs it, until when.

SQLite is the embedded default. The interface is what the web app's SSE stream and the pipeline use;
a PostgreSQL implementation of the same interface serves several containers.

A lease (`claim` / `renew` / `release`) lets several web replicas share one job table without two of
them running the same job: a claim is one UPDATE whose WHERE clause says who may take the job (nobody
holds it, its lease ran out, or the claimer already holds it), so of any number of concurrent claimers
exactly one wins. An owner that stops renewing loses the job once the lease runs out."""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

from shared.errors import MomentLoopError
from shared.models import EventType, JobRecord, JobStatus, ProgressEvent
from shared.sqlite import SQLiteDatabase

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    lease_owner   TEXT,
    lease_expires REAL
);
CREATE TABLE IF NOT EXISTS events (
    job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    ts      TEXT NOT NULL,
    type    TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""

# Columns later versions added to `jobs`: a database file made by an earlier version gets them on open.
_ADDED_JOB_COLUMNS = {"lease_owner": "TEXT", "lease_expires": "REAL"}

UNFINISHED: tuple[JobStatus, ...] = ("queued", "running")
"""The statuses of a job someone may still run, and so claim."""


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


def _now() -> datetime:
    return datetime.now(UTC)


class SQLiteJobStore:
    """One database file; safe to share between threads of one process and between processes (WAL)."""

    def __init__(self, path: Path) -> None:
        self.db = SQLiteDatabase(path, schema=_SCHEMA, added_columns={"jobs": _ADDED_JOB_COLUMNS})
        self.path = self.db.path

    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.db.tx()

    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord:
        now = _now().isoformat()
        jid = job_id or uuid.uuid4().hex
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, kind, status, params, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (jid, kind, "queued", json.dumps(params, default=str), now, now),
            )
        return self.get_job(jid)

    def get_job(self, job_id: str) -> JobRecord:
        row = self._conn().execute(
            "SELECT id, kind, status, params, result, error, created_at, updated_at FROM jobs WHERE id=?",
            (job_id,),
        ).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        return JobRecord(
            id=row[0],
            kind=row[1],
            status=row[2],
            params=json.loads(row[3]),
            result=json.loads(row[4]) if row[4] else None,
            error=row[5],
            created_at=datetime.fromisoformat(row[6]),
            updated_at=datetime.fromisoformat(row[7]),
        )

    def set_status(
        self,
        job_id: str,
        *,
        status: JobStatus,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        lease_owner: str | None = None,
    ) -> None:
        with self._tx() as db:
            if lease_owner is not None:
                self._require_lease(db, job_id, lease_owner)
            cur = db.execute(
                "UPDATE jobs SET status=?, result=COALESCE(?, result), error=?, updated_at=? WHERE id=?",
                (
                    status,
                    json.dumps(result, default=str) if result is not None else None,
                    error,
                    _now().isoformat(),
                    job_id,
                ),
            )
            if cur.rowcount == 0:
                raise JobNotFoundError(job_id)

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
    ) -> ProgressEvent:
        ts = _now()
        with self._tx() as db:
            if lease_owner is not None:
                self._require_lease(db, job_id, lease_owner)
            (last,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE job_id=?", (job_id,)).fetchone()
            event = ProgressEvent(
                job_id=job_id,
                seq=last + 1,
                ts=ts,
                type=type,
                stage=stage,
                item=item,
                status=status,
                percent=percent,
                total=total,
                message=message,
                error=error,
                hint=hint,
            )
            db.execute(
                "INSERT INTO events (job_id, seq, ts, type, body) VALUES (?,?,?,?,?)",
                (job_id, event.seq, ts.isoformat(), type, event.model_dump_json()),
            )
        return event

    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]:
        rows = self._conn().execute(
            "SELECT body FROM events WHERE job_id=? AND seq>? ORDER BY seq", (job_id, after)
        ).fetchall()
        return [ProgressEvent.model_validate_json(r[0]) for r in rows]

    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        """Jobs, oldest first; only those in `statuses` when given (the web app resumes `queued` and
        `running` ones after a restart)."""
        query = "SELECT id FROM jobs"
        args: tuple[str, ...] = ()
        if statuses is not None:
            if not statuses:
                return []
            query += f" WHERE status IN ({','.join('?' * len(statuses))})"
            args = tuple(statuses)
        rows = self._conn().execute(query + " ORDER BY created_at, id", args).fetchall()
        return [self.get_job(r[0]) for r in rows]

    # ------------------------------------------------------------------ leases
    # Times are this machine's clock (epoch seconds): a SQLite file is shared only by processes of one
    # machine, so they all read the same clock.

    def _require(self, db: sqlite3.Connection, job_id: str) -> None:
        if db.execute("SELECT 1 FROM jobs WHERE id=?", (job_id,)).fetchone() is None:
            raise JobNotFoundError(job_id)

    def _require_lease(self, db: sqlite3.Connection, job_id: str, owner: str) -> None:
        """Inside a write transaction (which excludes every other writer until it ends)."""
        row = db.execute("SELECT lease_owner, lease_expires FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        if row[0] != owner or row[1] <= time.time():
            raise LeaseLostError(job_id=job_id, owner=owner)

    def claim(self, job_id: str, *, owner: str, lease_seconds: float, take_from: str | None = None) -> bool:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_owner=?, lease_expires=? WHERE id=? AND status IN (?,?)"
                " AND (lease_owner IS NULL OR lease_expires <= ? OR lease_owner=? OR lease_owner=?)",
                (owner, now + lease_seconds, job_id, *UNFINISHED, now, owner, take_from),
            )
            if cur.rowcount == 0:
                self._require(db, job_id)
            return cur.rowcount == 1

    def renew(self, job_id: str, *, owner: str, lease_seconds: float) -> bool:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET lease_expires=? WHERE id=? AND lease_owner=? AND lease_expires > ?"
                " AND status IN (?,?)",
                (now + lease_seconds, job_id, owner, now, *UNFINISHED),
            )
            return cur.rowcount == 1

    def release(self, job_id: str, *, owner: str) -> bool:
        with self._tx() as db:
            cur = db.execute("UPDATE jobs SET lease_owner=NULL, lease_expires=NULL WHERE id=? AND lease_owner=?",
                             (job_id, owner))
            return cur.rowcount == 1

    def lease(self, job_id: str) -> JobLease | None:
        row = self._conn().execute("SELECT lease_owner, lease_expires FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        if row[0] is None:
            return None
        return JobLease(owner=row[0], expires_at=datetime.fromtimestamp(row[1], UTC), expired=row[1] <= time.time())
