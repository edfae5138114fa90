"""The job store: jobs and their append-only progress event log, with a gap-free per-job sequence.

SQLite is the embedded default. The interface is what the web app's SSE stream and the pipeline use;
a PostgreSQL implementation of the same interface serves several containers."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

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
    updated_at  TEXT NOT NULL
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


class JobNotFoundError(MomentLoopError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no such job: {job_id}")
        self.job_id = job_id


class JobStore(Protocol):
    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord: ...
    def get_job(self, job_id: str) -> JobRecord: ...
    def set_status(
        self,
        job_id: str,
        *,
        status: JobStatus,
        result: dict[str, Any] | None = None,
        error: str | None = None,
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
    ) -> ProgressEvent: ...
    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]: ...


def _now() -> datetime:
    return datetime.now(UTC)


class SQLiteJobStore:
    """One database file; safe to share between threads of one process and between processes (WAL)."""

    def __init__(self, path: Path) -> None:
        self.db = SQLiteDatabase(path, schema=_SCHEMA)
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
    ) -> None:
        with self._tx() as db:
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
    ) -> ProgressEvent:
        ts = _now()
        with self._tx() as db:
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
