"""The job store on PostgreSQL: the same interface as SQLiteJobStore, shared by many containers.

Every web replica and every worker reads and writes the same jobs and event logs, so an SSE stream
served by any replica can follow any job. The per-job sequence stays gap-free and ordered under any
number of concurrent writers: appending an event bumps the job row's `last_seq` with an UPDATE,
which holds that row's lock until the transaction commits. Writers to one job therefore commit one
after another in sequence order (a reader tailing `seq > n` never sees 7 before 6), writers to
different jobs never wait for each other, and a failed append rolls its number back with it.

psycopg (3) and psycopg_pool are imported when a store is built, never at module import."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.jobs import JobNotFoundError
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
    ) -> None:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE jobs SET status = %s, result = COALESCE(%s::jsonb, result), error = %s, updated_at = %s"
                " WHERE id = %s",
                (status, _json(result) if result is not None else None, error, datetime.now(UTC), job_id),
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
    ) -> ProgressEvent:
        ts = datetime.now(UTC)
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE jobs SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", (job_id,)
            ).fetchone()
            if row is None:
                raise JobNotFoundError(job_id)
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
