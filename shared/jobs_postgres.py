"""The job store on PostgreSQL: the same interface as SQLiteJobStore, shared by many containers.

Every web replica and every worker reads and writes the same jobs and event logs, so an SSE stream
served by any replica can follow any job. The per-job sequence stays gap-free and ordered under any
number of concurrent writers: appending an event bumps the job row's `last_seq` with an UPDATE,
which holds that row's lock until the transaction commits. Writers to one job therefore commit one
after another in sequence order (a reader tailing `seq > n` never sees 7 before 6), writers to
different jobs never wait for each other, and a failed append rolls its number back with it.

Leases are timed by the server's clock (`clock_timestamp()`), never a container's, so replicas whose
clocks disagree still agree on when a lease ran out.

psycopg (3) and psycopg_pool are imported when a store is built, never at module import."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.jobs import UNFINISHED, JobLease, JobNotFoundError, LeaseLostError
from shared.models import EventType, JobRecord, JobStatus, ProgressEvent
from shared.postgres import open_pool

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      JSONB NOT NULL,
    result      JSONB,
    error       TEXT,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS job_events (
    job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    ts      TIMESTAMPTZ NOT NULL,
    type    TEXT NOT NULL,
    body    JSONB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
-- The lease columns, added to a table an earlier version made. Looked up first: ALTER TABLE would take
-- the table's exclusive lock on every open, even with nothing to add, and wait for running writers.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'jobs' AND column_name = 'lease_owner') THEN
        ALTER TABLE jobs ADD COLUMN lease_owner TEXT, ADD COLUMN lease_expires TIMESTAMPTZ;
    END IF;
END $$;
"""

_SCHEMA_LOCK = 0x6D6C6A6F62  # any constant: serialises CREATE TABLE IF NOT EXISTS across processes

NOTIFY_CHANNEL = "momentloop_job_events"
"""Each append also NOTIFYs this channel with the job id, so a listener can wake instead of polling."""


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


def _record(row: Sequence[Any]) -> JobRecord:
    return JobRecord(id=row[0], kind=row[1], status=row[2], params=row[3], result=row[4], error=row[5],
                     created_at=row[6], updated_at=row[7])


class PostgresJobStore:
    """Jobs and event logs in PostgreSQL, through a connection pool shared by this process's threads."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 30.0) -> None:
        self.pool: ConnectionPool = open_pool(url, name="momentloop-jobs", schema=_SCHEMA, schema_lock=_SCHEMA_LOCK,
                                              min_size=min_size, max_size=max_size, timeout=timeout)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> PostgresJobStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord:
        now = datetime.now(UTC)
        jid = job_id or uuid.uuid4().hex
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO jobs (id, kind, status, params, created_at, updated_at)"
                " VALUES (%s, %s, 'queued', %s::jsonb, %s, %s)",
                (jid, kind, _json(params), now, now),
            )
        return self.get_job(jid)

    def get_job(self, job_id: str) -> JobRecord:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT id, kind, status, params, result, error, created_at, updated_at FROM jobs WHERE id = %s",
                (job_id,),
            ).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        return _record(row)

    def set_status(
        self,
        job_id: str,
        *,
        status: JobStatus,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        lease_owner: str | None = None,
    ) -> None:
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE jobs SET status = %s, result = COALESCE(%s::jsonb, result), error = %s, updated_at = %s"
                " WHERE id = %s RETURNING lease_owner = %s AND lease_expires > clock_timestamp()",
                (status, _json(result) if result is not None else None, error, datetime.now(UTC), job_id,
                 lease_owner),
            ).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            if lease_owner is not None and not row[0]:
                raise LeaseLostError(job_id=job_id, owner=lease_owner)  # rolls the update back

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
        ts = datetime.now(UTC)
        with self.pool.connection() as conn, conn.transaction():
            # The lease is read on the row this UPDATE locks: no claim can change it before we commit.
            row = conn.execute(
                "UPDATE jobs SET last_seq = last_seq + 1 WHERE id = %s"
                " RETURNING last_seq, lease_owner = %s AND lease_expires > clock_timestamp()",
                (job_id, lease_owner),
            ).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
            if lease_owner is not None and not row[1]:
                raise LeaseLostError(job_id=job_id, owner=lease_owner)  # rolls the number back
            event = ProgressEvent(
                job_id=job_id, seq=row[0], ts=ts, type=type, stage=stage, item=item, status=status,
                percent=percent, total=total, message=message, error=error, hint=hint,
            )
            conn.execute(
                "INSERT INTO job_events (job_id, seq, ts, type, body) VALUES (%s, %s, %s, %s, %s::jsonb)",
                (job_id, event.seq, ts, type, event.model_dump_json()),
            )
            conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, job_id))
        return event

    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT body FROM job_events WHERE job_id = %s AND seq > %s ORDER BY seq", (job_id, after)
            ).fetchall()
        return [ProgressEvent.model_validate(r[0]) for r in rows]

    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        """Jobs, oldest first; only those in `statuses` when given."""
        if statuses is not None and not statuses:
            return []
        query = "SELECT id, kind, status, params, result, error, created_at, updated_at FROM jobs"
        with self.pool.connection() as conn:
            if statuses is None:
                rows = conn.execute(query + " ORDER BY created_at, id").fetchall()
            else:
                rows = conn.execute(query + " WHERE status = ANY(%s) ORDER BY created_at, id",
                                    (list(statuses),)).fetchall()
        return [_record(row) for row in rows]

    # ------------------------------------------------------------------ leases

    def _require(self, conn: Any, job_id: str) -> None:
        if conn.execute("SELECT 1 FROM jobs WHERE id = %s", (job_id,)).fetchone() is None:
            raise JobNotFoundError(job_id)

    def claim(self, job_id: str, *, owner: str, lease_seconds: float, take_from: str | None = None) -> bool:
        # One UPDATE: the row lock makes concurrent claimers queue, and each re-checks the WHERE clause
        # on the row as the one before it left it, so exactly one of them changes it.
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_owner = %(owner)s,"
                " lease_expires = clock_timestamp() + make_interval(secs => %(secs)s)"
                " WHERE id = %(id)s AND status = ANY(%(unfinished)s) AND (lease_owner IS NULL"
                " OR lease_expires <= clock_timestamp() OR lease_owner = %(owner)s OR lease_owner = %(take_from)s)",
                {"owner": owner, "secs": lease_seconds, "id": job_id, "unfinished": list(UNFINISHED),
                 "take_from": take_from},
            )
            if cur.rowcount == 0:
                self._require(conn, job_id)
            return cur.rowcount == 1

    def renew(self, job_id: str, *, owner: str, lease_seconds: float) -> bool:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_expires = clock_timestamp() + make_interval(secs => %s)"
                " WHERE id = %s AND lease_owner = %s AND lease_expires > clock_timestamp() AND status = ANY(%s)",
                (lease_seconds, job_id, owner, list(UNFINISHED)),
            )
            return cur.rowcount == 1

    def release(self, job_id: str, *, owner: str) -> bool:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_expires = NULL WHERE id = %s AND lease_owner = %s",
                (job_id, owner),
            )
            return cur.rowcount == 1

    def lease(self, job_id: str) -> JobLease | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT lease_owner, lease_expires, lease_expires <= clock_timestamp() FROM jobs WHERE id = %s",
                (job_id,),
            ).fetchone()
        if row is None:
            raise JobNotFoundError(job_id)
        if row[0] is None:
            return None
        return JobLease(owner=row[0], expires_at=row[1], expired=row[2])
