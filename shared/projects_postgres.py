"""The web app's records on PostgreSQL: the same interface as SQLiteProjectStore, shared by many web containers.

Every replica signs in the same users and reads the same projects, assets, storyboards and exports.
Writes that depend on what is already there (a photo's place in the order, a reorder, a replaced song)
lock the project's row first (`SELECT ... FOR UPDATE`): two uploads to one project never get the same
position, while work on different projects never waits. The statements mirror the SQLite store's, so
the two answer exactly alike (ids, orders, the NotFoundError of another user's record).

psycopg (3) and psycopg_pool are imported when a store is built, never at module import."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from shared.models import Aspect
from shared.postgres import open_pool
from shared.projects import (
    _ASSET_COLS,
    _EXPORT_COLS,
    _PRODUCT_COLS,
    _PROJECT_COLS,
    _PROJECT_FIELDS,
    AssetKind,
    AssetRecord,
    AssetRole,
    ConflictError,
    ExportRecord,
    JobLink,
    NotFoundError,
    PlanRecord,
    ProductRecord,
    ProjectRecord,
    UserRecord,
    _asset,
    _check_limit,
    _check_role,
    _export,
    _now,
    _product,
    _project,
    new_id,
    token_hash,
)

if TYPE_CHECKING:
    from psycopg import Connection
    from psycopg_pool import ConnectionPool

_SCHEMA = """
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
# The product tables are new tables: CREATE TABLE IF NOT EXISTS, run under the schema lock at every start,
# is their migration for databases made before them; the DO block above is assets.role's.

_SCHEMA_LOCK = 0x6D6C70726A  # any constant: serialises CREATE TABLE IF NOT EXISTS across processes


def _user(row: Sequence[Any]) -> UserRecord:
    return UserRecord(id=row[0], name=row[1], created_at=row[2])


def _link(row: Sequence[Any]) -> JobLink:
    return JobLink(job_id=row[0], project_id=row[1], kind=row[2], created_at=row[3])


class PostgresProjectStore:
    """Users, projects, assets, storyboards, job links and exports in PostgreSQL, through a connection pool."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8, timeout: float = 30.0) -> None:
        self.pool: ConnectionPool = open_pool(url, name="momentloop-projects", schema=_SCHEMA, schema_lock=_SCHEMA_LOCK,
                                              min_size=min_size, max_size=max_size, timeout=timeout)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> PostgresProjectStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection[Any]]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def _one(self, query: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        with self.pool.connection() as conn:
            row: tuple[Any, ...] | None = conn.execute(query, params).fetchone()
        return row

    def _all(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.pool.connection() as conn:
            rows: list[tuple[Any, ...]] = conn.execute(query, params).fetchall()
        return rows

    @staticmethod
    def _lock_project(db: Connection[Any], project_id: str) -> None:
        if db.execute("SELECT 1 FROM projects WHERE id=%s FOR UPDATE", (project_id,)).fetchone() is None:
            raise NotFoundError("project", project_id)

    # ------------------------------------------------------------------ users and sessions

    def add_user(self, *, name: str) -> tuple[UserRecord, str]:
        """A new user and their token (shown once: only its hash is kept)."""
        from psycopg.errors import UniqueViolation

        name = name.strip()
        if not name or len(name) > 100 or any(c in name for c in "\r\n\t"):
            raise ConflictError("a user name is 1 to 100 characters on one line")
        token = "ml_" + secrets.token_urlsafe(32)
        user = UserRecord(id=new_id(), name=name, created_at=_now())
        try:
            with self._tx() as db:
                db.execute("INSERT INTO users (id, name, token_hash, created_at) VALUES (%s,%s,%s,%s)",
                           (user.id, user.name, token_hash(token), user.created_at))
        except UniqueViolation:
            raise ConflictError(f"a user named {name!r} already exists") from None
        return user, token

    def list_users(self) -> list[UserRecord]:
        return [_user(r) for r in self._all("SELECT id, name, created_at FROM users ORDER BY created_at")]

    def user_by_token(self, token: str) -> UserRecord | None:
        row = self._one("SELECT id, name, created_at FROM users WHERE token_hash=%s", (token_hash(token),))
        return _user(row) if row else None

    def create_session(self, *, user_id: str) -> str:
        session = "mls_" + secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute("INSERT INTO sessions (token_hash, user_id, created_at) VALUES (%s,%s,%s)",
                       (token_hash(session), user_id, _now()))
        return session

    def user_by_session(self, session: str) -> UserRecord | None:
        row = self._one(
            "SELECT u.id, u.name, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash=%s", (token_hash(session),))
        return _user(row) if row else None

    def delete_session(self, session: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token_hash=%s", (token_hash(session),))

    # ------------------------------------------------------------------ projects

    def create_project(self, *, user_id: str, name: str, look: str, aspect: Aspect, duration: float | None,
                       fps: int) -> ProjectRecord:
        now = _now()
        pid = new_id()
        with self._tx() as db:
            db.execute(f"INSERT INTO projects ({_PROJECT_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                       (pid, user_id, name, look, aspect, duration, fps, now, now))
        return self.get_project(user_id=user_id, project_id=pid)

    def list_projects(self, *, user_id: str) -> list[ProjectRecord]:
        rows = self._all(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE user_id=%s ORDER BY created_at DESC, id DESC", (user_id,))
        return [_project(r) for r in rows]

    def get_project(self, *, user_id: str, project_id: str) -> ProjectRecord:
        row = self._one(f"SELECT {_PROJECT_COLS} FROM projects WHERE id=%s AND user_id=%s", (project_id, user_id))
        if row is None:
            raise NotFoundError("project", project_id)
        return _project(row)

    def update_project(self, *, user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectRecord:
        unknown = set(changes) - _PROJECT_FIELDS
        if unknown:
            raise ValueError(f"not project fields: {sorted(unknown)}")
        fields = sorted(changes)  # only names from _PROJECT_FIELDS reach the statement
        sets = "".join(f"{f}=%s, " for f in fields)
        with self._tx() as db:
            cur = db.execute(f"UPDATE projects SET {sets}updated_at=%s WHERE id=%s AND user_id=%s",
                             (*(changes[f] for f in fields), _now(), project_id, user_id))
            if cur.rowcount == 0:
                raise NotFoundError("project", project_id)
        return self.get_project(user_id=user_id, project_id=project_id)

    def touch_project(self, *, project_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE projects SET updated_at=%s WHERE id=%s", (_now(), project_id))

    def delete_project(self, *, user_id: str, project_id: str) -> None:
        with self._tx() as db:
            cur = db.execute("DELETE FROM projects WHERE id=%s AND user_id=%s", (project_id, user_id))
            if cur.rowcount == 0:
                raise NotFoundError("project", project_id)

    # ------------------------------------------------------------------ assets

    def add_asset(self, *, project_id: str, kind: AssetKind, name: str, key: str, size_bytes: int,
                  thumb_key: str | None = None, preview_key: str | None = None, width: int | None = None,
                  height: int | None = None, duration: float | None = None,
                  max_photos: int | None = None, role: AssetRole = "photo",
                  max_captures: int | None = None) -> AssetRecord:
        """A photo goes last in its role's order (the video's photos, or the captures: each with its own
        limit); a song replaces the project's song."""
        _check_role(kind=kind, role=role)
        aid = new_id()
        now = _now()
        with self._tx() as db:
            self._lock_project(db, project_id)
            position: int | None = None
            if kind == "photo":
                row = db.execute("SELECT COUNT(*) FROM assets WHERE project_id=%s AND kind='photo' AND role=%s",
                                 (project_id, role)).fetchone()
                count = int(row[0]) if row else 0
                _check_limit(role=role, count=count, max_photos=max_photos, max_captures=max_captures)
                position = count
            else:
                db.execute("DELETE FROM assets WHERE project_id=%s AND kind='music'", (project_id,))
            db.execute(f"INSERT INTO assets ({_ASSET_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                       (aid, project_id, kind, name, position, key, thumb_key, preview_key, width, height, duration,
                        size_bytes, now, role))
            db.execute("UPDATE projects SET updated_at=%s WHERE id=%s", (now, project_id))
        row = self._one(f"SELECT {_ASSET_COLS} FROM assets WHERE id=%s", (aid,))
        assert row is not None  # just committed; assets go only with their project
        return _asset(row)

    def list_assets(self, *, project_id: str, role: AssetRole = "photo") -> list[AssetRecord]:
        """`photo`: the video's photos in their order, then the song; `capture`: the captures in theirs."""
        rows = self._all(
            f"SELECT {_ASSET_COLS} FROM assets WHERE project_id=%s AND role=%s "
            "ORDER BY CASE kind WHEN 'photo' THEN 0 ELSE 1 END, position, created_at", (project_id, role))
        return [_asset(r) for r in rows]

    def get_asset(self, *, user_id: str, asset_id: str) -> AssetRecord:
        cols = ", ".join(f"a.{c}" for c in _ASSET_COLS.split(", "))
        row = self._one(
            f"SELECT {cols} FROM assets a JOIN projects p ON p.id = a.project_id WHERE a.id=%s AND p.user_id=%s",
            (asset_id, user_id))
        if row is None:
            raise NotFoundError("asset", asset_id)
        return _asset(row)

    def delete_asset(self, *, project_id: str, asset_id: str) -> None:
        with self._tx() as db:
            self._lock_project(db, project_id)
            gone = db.execute("DELETE FROM assets WHERE id=%s AND project_id=%s RETURNING role",
                              (asset_id, project_id)).fetchone()
            if gone is None:
                raise NotFoundError("asset", asset_id)
            ids = [r[0] for r in db.execute(
                "SELECT id FROM assets WHERE project_id=%s AND kind='photo' AND role=%s ORDER BY position",
                (project_id, gone[0]))]
            for position, aid in enumerate(ids):
                db.execute("UPDATE assets SET position=%s WHERE id=%s", (position, aid))
            db.execute("UPDATE projects SET updated_at=%s WHERE id=%s", (_now(), project_id))

    def reorder_photos(self, *, project_id: str, asset_ids: Sequence[str]) -> list[AssetRecord]:
        """Put the project's photos in the order of `asset_ids`, which must name each of them once."""
        with self._tx() as db:
            self._lock_project(db, project_id)
            current = {r[0] for r in db.execute(
                "SELECT id FROM assets WHERE project_id=%s AND kind='photo' AND role='photo'", (project_id,))}
            given = list(asset_ids)
            if len(set(given)) != len(given):
                raise ConflictError("the order names a photo more than once")
            if set(given) != current:
                missing, extra = len(current - set(given)), len(set(given) - current)
                raise ConflictError(
                    f"the order must name every photo of the project once ({len(current)} photos; "
                    f"{missing} left out, {extra} not photos of this project)")
            for position, aid in enumerate(given):
                db.execute("UPDATE assets SET position=%s WHERE id=%s", (position, aid))
            db.execute("UPDATE projects SET updated_at=%s WHERE id=%s", (_now(), project_id))
        return self.list_assets(project_id=project_id)

    # ------------------------------------------------------------------ storyboards

    def get_plan(self, *, project_id: str) -> PlanRecord | None:
        row = self._one("SELECT body FROM plans WHERE project_id=%s", (project_id,))
        return PlanRecord.model_validate_json(row[0]) if row else None

    def save_plan(self, record: PlanRecord) -> None:
        with self._tx() as db:
            self._lock_project(db, record.project_id)
            db.execute(
                "INSERT INTO plans (project_id, body, updated_at) VALUES (%s,%s,%s) "
                "ON CONFLICT (project_id) DO UPDATE SET body=EXCLUDED.body, updated_at=EXCLUDED.updated_at",
                (record.project_id, record.model_dump_json(), record.updated_at))

    def delete_plan(self, *, project_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM plans WHERE project_id=%s", (project_id,))

    # ------------------------------------------------------------------ jobs of projects

    def link_job(self, *, job_id: str, project_id: str, kind: str) -> JobLink:
        link = JobLink(job_id=job_id, project_id=project_id, kind=kind, created_at=_now())
        with self._tx() as db:
            db.execute("INSERT INTO project_jobs (job_id, project_id, kind, created_at) VALUES (%s,%s,%s,%s)",
                       (job_id, project_id, kind, link.created_at))
        return link

    def get_job_link(self, *, user_id: str, job_id: str) -> JobLink:
        row = self._one(
            "SELECT j.job_id, j.project_id, j.kind, j.created_at FROM project_jobs j "
            "JOIN projects p ON p.id = j.project_id WHERE j.job_id=%s AND p.user_id=%s", (job_id, user_id))
        if row is None:
            raise NotFoundError("job", job_id)
        return _link(row)

    def list_job_links(self, *, project_id: str) -> list[JobLink]:
        rows = self._all(
            "SELECT job_id, project_id, kind, created_at FROM project_jobs WHERE project_id=%s "
            "ORDER BY created_at DESC, job_id DESC", (project_id,))
        return [_link(r) for r in rows]

    def job_links(self, job_ids: Sequence[str]) -> list[JobLink]:
        """The links of those of `job_ids` whose project still exists."""
        if not job_ids:
            return []
        rows = self._all("SELECT job_id, project_id, kind, created_at FROM project_jobs WHERE job_id = ANY(%s)",
                         (list(job_ids),))
        return [_link(r) for r in rows]

    # ------------------------------------------------------------------ exports

    def add_export(self, *, project_id: str, job_id: str, video_key: str, poster_key: str | None,
                   duration: float, width: int, height: int, size_bytes: int) -> ExportRecord:
        record = ExportRecord(id=new_id(), project_id=project_id, job_id=job_id, video_key=video_key,
                              poster_key=poster_key, duration=duration, width=width, height=height,
                              size_bytes=size_bytes, created_at=_now())
        with self._tx() as db:
            self._lock_project(db, project_id)
            db.execute(f"INSERT INTO exports ({_EXPORT_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                       (record.id, project_id, job_id, video_key, poster_key, duration, width, height, size_bytes,
                        record.created_at))
        return record

    def list_exports(self, *, project_id: str) -> list[ExportRecord]:
        rows = self._all(
            f"SELECT {_EXPORT_COLS} FROM exports WHERE project_id=%s ORDER BY created_at DESC, id DESC",
            (project_id,))
        return [_export(r) for r in rows]

    def get_export(self, *, user_id: str, export_id: str) -> ExportRecord:
        cols = ", ".join(f"e.{c}" for c in _EXPORT_COLS.split(", "))
        row = self._one(
            f"SELECT {cols} FROM exports e JOIN projects p ON p.id = e.project_id WHERE e.id=%s AND p.user_id=%s",
            (export_id, user_id))
        if row is None:
            raise NotFoundError("export", export_id)
        return _export(row)

    def export_for_job(self, *, job_id: str) -> ExportRecord | None:
        row = self._one(f"SELECT {_EXPORT_COLS} FROM exports WHERE job_id=%s", (job_id,))
        return _export(row) if row else None

    # ------------------------------------------------------------------ product turntables

    def add_product(self, *, project_id: str, job_id: str, turntable_key: str, poster_key: str, frames: int,
                    fps: int, width: int, height: int, duration: float, renderer: str,
                    size_bytes: int) -> ProductRecord:
        record = ProductRecord(id=new_id(), project_id=project_id, job_id=job_id, turntable_key=turntable_key,
                               poster_key=poster_key, frames=frames, fps=fps, width=width, height=height,
                               duration=duration, renderer=renderer, size_bytes=size_bytes, created_at=_now())
        with self._tx() as db:
            self._lock_project(db, project_id)
            db.execute(f"INSERT INTO products ({_PRODUCT_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                       (record.id, project_id, job_id, turntable_key, poster_key, frames, fps, width, height,
                        duration, renderer, size_bytes, record.created_at))
        return record

    def list_products(self, *, project_id: str) -> list[ProductRecord]:
        rows = self._all(
            f"SELECT {_PRODUCT_COLS} FROM products WHERE project_id=%s ORDER BY created_at DESC, id DESC",
            (project_id,))
        return [_product(r) for r in rows]

    def get_product(self, *, user_id: str, product_id: str) -> ProductRecord:
        cols = ", ".join(f"t.{c}" for c in _PRODUCT_COLS.split(", "))
        row = self._one(
            f"SELECT {cols} FROM products t JOIN projects p ON p.id = t.project_id WHERE t.id=%s AND p.user_id=%s",
            (product_id, user_id))
        if row is None:
            raise NotFoundError("product", product_id)
        return _product(row)

    def product_for_job(self, *, job_id: str) -> ProductRecord | None:
        row = self._one(f"SELECT {_PRODUCT_COLS} FROM products WHERE job_id=%s", (job_id,))
        return _product(row) if row else None

    def project_product(self, *, project_id: str) -> ProductRecord | None:
        cols = ", ".join(f"t.{c}" for c in _PRODUCT_COLS.split(", "))
        row = self._one(
            f"SELECT {cols} FROM project_products u JOIN products t ON t.id = u.product_id WHERE u.project_id=%s",
            (project_id,))
        return _product(row) if row else None

    def use_product(self, *, project_id: str, product_id: str | None) -> None:
        with self._tx() as db:
            self._lock_project(db, project_id)
            if product_id is None:
                db.execute("DELETE FROM project_products WHERE project_id=%s", (project_id,))
                return
            if db.execute("SELECT 1 FROM products WHERE id=%s AND project_id=%s",
                          (product_id, project_id)).fetchone() is None:
                raise NotFoundError("product", product_id)
            db.execute("INSERT INTO project_products (project_id, product_id) VALUES (%s,%s) "
                       "ON CONFLICT (project_id) DO UPDATE SET product_id=excluded.product_id",
                       (project_id, product_id))
