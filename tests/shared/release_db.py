"""A database as the last release before migrations (commit 752d7dc) left it, written from that release's
own statements: its four schemas, copied verbatim below, and rows in the form its stores wrote them
(SQLite: ISO 8601 text times, JSON text, lease deadlines in epoch seconds; PostgreSQL: timestamptz, jsonb).
tests/shared/test_migrations.py opens such a database with today's stores; no code of that release is
needed. To keep one:  python tests/shared/release_db.py sqlite old.db   (or: postgres postgresql://...)"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

RELEASE = "752d7dc"

SQLITE_JOBS = """
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

SQLITE_PROJECTS = """
CREATE TABLE IF NOT EXISTS users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    look        TEXT NOT NULL,
    aspect      TEXT NOT NULL,
    duration    REAL,
    fps         INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_by_user ON projects (user_id, created_at);
CREATE TABLE IF NOT EXISTS assets (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    position     INTEGER,
    key          TEXT NOT NULL,
    thumb_key    TEXT,
    preview_key  TEXT,
    width        INTEGER,
    height       INTEGER,
    duration     REAL,
    size_bytes   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT 'photo'
);
CREATE INDEX IF NOT EXISTS assets_by_project ON assets (project_id, kind, position);
CREATE TABLE IF NOT EXISTS plans (
    project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS project_jobs (
    job_id      TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_project ON project_jobs (project_id, created_at);
CREATE TABLE IF NOT EXISTS exports (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    job_id       TEXT NOT NULL,
    video_key    TEXT NOT NULL,
    poster_key   TEXT,
    duration     REAL NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size_bytes   INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exports_by_project ON exports (project_id, created_at);
CREATE TABLE IF NOT EXISTS products (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    job_id         TEXT NOT NULL,
    turntable_key  TEXT NOT NULL,
    poster_key     TEXT NOT NULL,
    frames         INTEGER NOT NULL,
    fps            INTEGER NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    duration       REAL NOT NULL,
    renderer       TEXT NOT NULL,
    size_bytes     INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS products_by_project ON products (project_id, created_at);
CREATE TABLE IF NOT EXISTS project_products (
    project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    product_id  TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE
);
"""

POSTGRES_JOBS = """
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

POSTGRES_PROJECTS = """
CREATE TABLE IF NOT EXISTS users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    look        TEXT NOT NULL,
    aspect      TEXT NOT NULL,
    duration    DOUBLE PRECISION,
    fps         INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_by_user ON projects (user_id, created_at);
CREATE TABLE IF NOT EXISTS assets (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    position     INTEGER,
    key          TEXT NOT NULL,
    thumb_key    TEXT,
    preview_key  TEXT,
    width        INTEGER,
    height       INTEGER,
    duration     DOUBLE PRECISION,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    role         TEXT NOT NULL DEFAULT 'photo'
);
CREATE INDEX IF NOT EXISTS assets_by_project ON assets (project_id, kind, position);
CREATE TABLE IF NOT EXISTS plans (
    project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS project_jobs (
    job_id      TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_project ON project_jobs (project_id, created_at);
CREATE TABLE IF NOT EXISTS exports (
    id           TEXT PRIMARY KEY,
    project_id   TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    job_id       TEXT NOT NULL,
    video_key    TEXT NOT NULL,
    poster_key   TEXT,
    duration     DOUBLE PRECISION NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    size_bytes   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS exports_by_project ON exports (project_id, created_at);
CREATE TABLE IF NOT EXISTS products (
    id             TEXT PRIMARY KEY,
    project_id     TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    job_id         TEXT NOT NULL,
    turntable_key  TEXT NOT NULL,
    poster_key     TEXT NOT NULL,
    frames         INTEGER NOT NULL,
    fps            INTEGER NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    duration       DOUBLE PRECISION NOT NULL,
    renderer       TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS products_by_project ON products (project_id, created_at);
CREATE TABLE IF NOT EXISTS project_products (
    project_id  TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    product_id  TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE
);
-- assets.role (photo: the video's own; capture: a product capture's), added to a table an earlier version
-- made. Looked up first: ALTER TABLE would take the table's exclusive lock on every open.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'assets' AND column_name = 'role') THEN
        ALTER TABLE assets ADD COLUMN role TEXT NOT NULL DEFAULT 'photo';
    END IF;
END $$;
"""

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def at(n: int) -> datetime:
    """A distinct time per row, with microseconds (both databases keep them)."""
    return BASE + timedelta(seconds=n, microseconds=100_001 * n % 1_000_000)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKENS = {"u-ana": "ml_ana-token", "u-bob": "ml_bob-token"}
SESSIONS = {"mls_ana-session": "u-ana"}
HELD_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
"""The running job's lease: held by its owner long after this test runs."""


def _event(job: str, seq: int, ts: datetime, type: str, **fields: Any) -> dict[str, Any]:
    body = {"job_id": job, "seq": seq, "ts": ts.isoformat().replace("+00:00", "Z"), "type": type, "stage": None,
            "item": None, "status": None, "percent": None, "total": None, "message": "", "error": None, "hint": None}
    body.update(fields)
    # The release wrote ProgressEvent.model_dump_json(): compact JSON.
    return {"job_id": job, "seq": seq, "ts": ts, "type": type, "body": json.dumps(body, separators=(",", ":"))}


def _plan(project: str, assets: list[str], ts: datetime) -> str:
    return json.dumps({
        "project_id": project,
        "plan": {"output": {"aspect": "9:16", "width": 1080, "height": 1920, "fps": 30, "duration": 4.0},
                 "look": "lego", "tempo": 120.0, "music_offset": 0.0, "fade_out": 0.5, "beats": [0.0, 0.5],
                 "downbeats": [0.0], "scenes": [], "dropped": [], "provider": "local", "cost_usd": 0.0,
                 "attempts": []},
        "track": {"audio_key": "music/t.wav", "name": "t.wav", "origin": "generated", "duration": 4.0, "tempo": 120.0,
                  "beats": [0.0, 0.5], "downbeats": None, "provider": "local", "cost_usd": 0.0, "attempts": []},
        "asset_ids": assets, "waveform": {"duration": 4.0, "peaks": [0.0, 0.5, 1.0]}, "fingerprint": "f1",
        "updated_at": ts.isoformat().replace("+00:00", "Z")}, separators=(",", ":"))


def _asset(aid: str, project: str, n: int, *, kind: str = "photo", position: int | None = None,
           role: str = "photo", size: int = 100, duration: float | None = None) -> dict[str, Any]:
    photo = kind == "photo"
    return {"id": aid, "project_id": project, "kind": kind, "name": f"{aid}.{'jpg' if photo else 'mp3'}",
            "position": position, "key": f"uploads/{aid}", "thumb_key": f"thumbs/{aid}" if photo else None,
            "preview_key": f"previews/{aid}" if photo else None, "width": 640 if photo else None,
            "height": 480 if photo else None, "duration": duration, "size_bytes": size, "created_at": at(n),
            "role": role}


def _product(pid: str, job: str, n: int, renderer: str) -> dict[str, Any]:
    return {"id": pid, "project_id": "p-shop", "job_id": job, "turntable_key": f"product/{pid}/turntable.webm",
            "poster_key": f"product/{pid}/poster.png", "frames": 120, "fps": 30, "width": 1080, "height": 1080,
            "duration": 4.0, "renderer": renderer, "size_bytes": 1000 + n, "created_at": at(n)}


ROWS: dict[str, list[dict[str, Any]]] = {
    "jobs": [
        {"id": "job-running", "kind": "render", "status": "running", "error": None, "created_at": at(1),
         "updated_at": at(2), "params": '{"look": "lego", "photos": ["a.jpg", "b.jpg"], "duration": null}',
         "result": None, "lease_owner": "host:1:abc", "lease_expires": HELD_UNTIL},
        {"id": "job-done", "kind": "plan", "status": "done", "params": '{"n": 2}', "error": None,
         "result": '{"video_key": "compose/x/video.mp4", "n": 2}', "created_at": at(3), "updated_at": at(4),
         "lease_owner": None, "lease_expires": None},
        {"id": "job-queued", "kind": "render", "status": "queued", "params": "{}", "result": None, "error": None,
         "created_at": at(5), "updated_at": at(5), "lease_owner": None, "lease_expires": None},
        {"id": "job-failed", "kind": "product", "status": "failed", "params": '{"scene": 1}', "result": None,
         "error": "clips: 1 failed", "created_at": at(6), "updated_at": at(7), "lease_owner": "gone:2:def",
         "lease_expires": at(6)},
    ],
    "events": [
        *(_event("job-running", k, at(10 + k), "item", stage="clips", item=f"{k}.jpg", status="done",
                 percent=33.3 * (k - 1), total=3, message=f"clip {k}") for k in (1, 2, 3)),
        _event("job-done", 1, at(20), "stage", stage="plan", status="running", message="planning"),
        _event("job-done", 2, at(21), "done", message="done"),
        _event("job-failed", 1, at(22), "item", stage="clips", status="failed", error="1.jpg: bad",
               hint="re-export it"),
    ],
    "users": [{"id": uid, "name": uid.removeprefix("u-"), "token_hash": token_hash(token), "created_at": at(30 + n)}
              for n, (uid, token) in enumerate(TOKENS.items())],
    "sessions": [{"token_hash": token_hash(s), "user_id": uid, "created_at": at(35)} for s, uid in SESSIONS.items()],
    "projects": [
        {"id": "p-trip", "user_id": "u-ana", "name": "trip", "look": "lego", "aspect": "9:16", "duration": None,
         "fps": 30, "created_at": at(40), "updated_at": at(41)},
        {"id": "p-shop", "user_id": "u-ana", "name": "shop", "look": "comic", "aspect": "1:1", "duration": 12.5,
         "fps": 24, "created_at": at(42), "updated_at": at(43)},
        {"id": "p-party", "user_id": "u-bob", "name": "party", "look": "film", "aspect": "16:9", "duration": 8.0,
         "fps": 12, "created_at": at(44), "updated_at": at(44)},
    ],
    "assets": [
        *(_asset(f"a-photo{k}", "p-trip", 50 + k, position=(k + 1) % 3, size=5_000_000_000 + k) for k in range(3)),
        _asset("a-song", "p-trip", 54, kind="music", duration=30.25, size=9),
        *(_asset(f"a-cap{k}", "p-shop", 55 + k, position=k, role="capture") for k in range(2)),
        _asset("a-hero", "p-shop", 57, position=0),
    ],
    "plans": [{"project_id": "p-trip", "body": _plan("p-trip", ["a-photo2", "a-photo0", "a-photo1"], at(60)),
               "updated_at": at(60)}],
    "project_jobs": [
        {"job_id": "job-running", "project_id": "p-trip", "kind": "render", "created_at": at(61)},
        {"job_id": "job-done", "project_id": "p-trip", "kind": "plan", "created_at": at(62)},
        {"job_id": "job-failed", "project_id": "p-shop", "kind": "product", "created_at": at(63)},
    ],
    "exports": [
        {"id": "e-trip", "project_id": "p-trip", "job_id": "job-done", "video_key": "compose/x/video.mp4",
         "poster_key": "compose/x/poster.jpg", "duration": 4.0, "width": 1080, "height": 1920,
         "size_bytes": 12_345_678, "created_at": at(64)},
        {"id": "e-party", "project_id": "p-party", "job_id": "other", "video_key": "compose/y/video.mp4",
         "poster_key": None, "duration": 8.0, "width": 1920, "height": 1080, "size_bytes": 1, "created_at": at(65)},
    ],
    "products": [_product("t-preview", "job-failed", 66, "preview"), _product("t-nerf", "job-2", 67, "nerf")],
    "project_products": [{"project_id": "p-shop", "product_id": "t-preview"}],
}
"""Every table's rows, as the release's stores wrote them (JSON as the text they wrote)."""

JSON_COLUMNS = {"jobs": {"params", "result"}, "events": {"body"}}


def _sqlite_value(table: str, column: str, value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp() if column == "lease_expires" else value.isoformat()
    return value


def write_sqlite(path: Path) -> None:
    """The release's SQLite file (jobs and projects in one file, as `momentloop serve` keeps them)."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")  # as every version has opened it
        db.executescript(SQLITE_JOBS + SQLITE_PROJECTS)
        for table, rows in ROWS.items():
            for row in rows:
                db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                           [_sqlite_value(table, c, v) for c, v in row.items()])
    db.close()


def write_postgres(url: str) -> None:
    """The release's PostgreSQL database (the job log's table is `job_events`, numbered by `jobs.last_seq`)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(POSTGRES_JOBS)
        conn.execute(POSTGRES_PROJECTS)
        for table, rows in ROWS.items():
            name = "job_events" if table == "events" else table
            for row in rows:
                marks = ", ".join("%s::jsonb" if c in JSON_COLUMNS.get(table, ()) else "%s" for c in row)
                conn.execute(f"INSERT INTO {name} ({', '.join(row)}) VALUES ({marks})", list(row.values()))
        conn.execute("UPDATE jobs SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM job_events"
                     " WHERE job_id = jobs.id)")


if __name__ == "__main__":
    kind, where = sys.argv[1], sys.argv[2]
    write_sqlite(Path(where)) if kind == "sqlite" else write_postgres(where)
