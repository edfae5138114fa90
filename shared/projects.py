"""The web app's records: users (hashed tokens), sessions, projects, assets, storyboards, job links, exports.

SQLite is the embedded default; the statements are plain SQL (no SQLite-only features beyond the
connection setup), so a PostgreSQL twin of `SQLiteProjectStore` can follow with the same interface.
Every read that a person can trigger is scoped by the owner's user id: a record of another user is
answered exactly like a record that does not exist (`NotFoundError`)."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from shared.errors import MomentLoopError
from shared.models import Aspect, MusicTrack, ScenePlan
from shared.sqlite import SQLiteDatabase

_SCHEMA = """
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
# The product tables came after the first databases: being new tables, CREATE TABLE IF NOT EXISTS (run at
# every open) is their migration. `assets.role` came later still: a column of an existing table, added by
# SQLiteDatabase (`added_columns`) to a file made before it (every old row is one of the video's own, `photo`).

AssetKind = Literal["photo", "music"]
AssetRole = Literal["photo", "capture"]
"""`photo`: the video's own media (its photos, in order, and its song); `capture`: a photo of a product
capture (issue 6), for turntables only, never a scene of the video."""

_ADDED_ASSET_COLUMNS = {"role": "TEXT NOT NULL DEFAULT 'photo'"}


class NotFoundError(MomentLoopError):
    """No such record for this user (it does not exist, or belongs to someone else: the same answer)."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"no such {what}: {ident}")
        self.what = what
        self.ident = ident


class ConflictError(MomentLoopError):
    """The request does not fit the record's current state (a reorder that leaves a photo out, ...)."""


class UserRecord(BaseModel):
    id: str
    name: str
    created_at: datetime


class ProjectRecord(BaseModel):
    id: str
    user_id: str
    name: str
    look: str
    aspect: Aspect
    duration: float | None
    fps: int
    created_at: datetime
    updated_at: datetime


class AssetRecord(BaseModel):
    id: str
    project_id: str
    kind: AssetKind
    name: str
    position: int | None = Field(description="Place of a photo in the project's order; None for music.")
    key: str = Field(description="The uploaded bytes in the artifact store (content-addressed).")
    thumb_key: str | None = None
    preview_key: str | None = Field(default=None, description="Upright copy, long side 512, looks are previewed on.")
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    size_bytes: int
    created_at: datetime
    role: AssetRole = Field(default="photo", description="photo: the video's own; capture: a product capture's.")


class Waveform(BaseModel):
    duration: float
    peaks: list[float]


class PlanRecord(BaseModel):
    """A project's storyboard, with what rendering it needs and what it was made from."""

    project_id: str
    plan: ScenePlan
    track: MusicTrack
    asset_ids: list[str] = Field(description="Photo asset ids in the order given to the planner (photo_index).")
    waveform: Waveform = Field(description="The music as heard in the video (from its offset), 0..1 peaks.")
    fingerprint: str = Field(description="Of the photos, music and output options the plan was made for.")
    updated_at: datetime


class JobLink(BaseModel):
    job_id: str
    project_id: str
    kind: str
    created_at: datetime


class ExportRecord(BaseModel):
    id: str
    project_id: str
    job_id: str
    video_key: str
    poster_key: str | None
    duration: float
    width: int
    height: int
    size_bytes: int
    created_at: datetime


class ProductRecord(BaseModel):
    """A project's product turntable (issue 6): VP9 WebM with alpha and its PNG poster, in the store."""

    id: str
    project_id: str
    job_id: str
    turntable_key: str
    poster_key: str
    frames: int
    fps: int
    width: int
    height: int
    duration: float
    renderer: str = Field(description="preview (CPU point splats) or nerf (nerfstudio on a GPU).")
    size_bytes: int
    created_at: datetime


class ProjectStore(Protocol):
    def add_user(self, *, name: str) -> tuple[UserRecord, str]: ...
    def list_users(self) -> list[UserRecord]: ...
    def user_by_token(self, token: str) -> UserRecord | None: ...
    def create_session(self, *, user_id: str) -> str: ...
    def user_by_session(self, session: str) -> UserRecord | None: ...
    def delete_session(self, session: str) -> None: ...

    def create_project(self, *, user_id: str, name: str, look: str, aspect: Aspect, duration: float | None,
                       fps: int) -> ProjectRecord: ...
    def list_projects(self, *, user_id: str) -> list[ProjectRecord]: ...
    def get_project(self, *, user_id: str, project_id: str) -> ProjectRecord: ...
    def update_project(self, *, user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectRecord: ...
    def touch_project(self, *, project_id: str) -> None: ...
    def delete_project(self, *, user_id: str, project_id: str) -> None: ...

    def add_asset(self, *, project_id: str, kind: AssetKind, name: str, key: str, size_bytes: int,
                  thumb_key: str | None = None, preview_key: str | None = None, width: int | None = None,
                  height: int | None = None, duration: float | None = None,
                  max_photos: int | None = None, role: AssetRole = "photo",
                  max_captures: int | None = None) -> AssetRecord: ...
    def list_assets(self, *, project_id: str, role: AssetRole = "photo") -> list[AssetRecord]: ...
    def get_asset(self, *, user_id: str, asset_id: str) -> AssetRecord: ...
    def delete_asset(self, *, project_id: str, asset_id: str) -> None: ...
    def reorder_photos(self, *, project_id: str, asset_ids: Sequence[str]) -> list[AssetRecord]: ...

    def get_plan(self, *, project_id: str) -> PlanRecord | None: ...
    def save_plan(self, record: PlanRecord) -> None: ...
    def delete_plan(self, *, project_id: str) -> None: ...

    def link_job(self, *, job_id: str, project_id: str, kind: str) -> JobLink: ...
    def get_job_link(self, *, user_id: str, job_id: str) -> JobLink: ...
    def list_job_links(self, *, project_id: str) -> list[JobLink]: ...
    def job_links(self, job_ids: Sequence[str]) -> list[JobLink]: ...

    def add_export(self, *, project_id: str, job_id: str, video_key: str, poster_key: str | None,
                   duration: float, width: int, height: int, size_bytes: int) -> ExportRecord: ...
    def list_exports(self, *, project_id: str) -> list[ExportRecord]: ...
    def get_export(self, *, user_id: str, export_id: str) -> ExportRecord: ...
    def export_for_job(self, *, job_id: str) -> ExportRecord | None: ...

    def add_product(self, *, project_id: str, job_id: str, turntable_key: str, poster_key: str, frames: int,
                    fps: int, width: int, height: int, duration: float, renderer: str,
                    size_bytes: int) -> ProductRecord: ...
    def list_products(self, *, project_id: str) -> list[ProductRecord]: ...
    def get_product(self, *, user_id: str, product_id: str) -> ProductRecord: ...
    def product_for_job(self, *, job_id: str) -> ProductRecord | None: ...
    def project_product(self, *, project_id: str) -> ProductRecord | None: ...
    def use_product(self, *, project_id: str, product_id: str | None) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough (no dictionary to attack), and it lets the
    # lookup be one indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


def new_id() -> str:
    return uuid.uuid4().hex


_PROJECT_COLS = "id, user_id, name, look, aspect, duration, fps, created_at, updated_at"
_ASSET_COLS = ("id, project_id, kind, name, position, key, thumb_key, preview_key, width, height, duration, "
               "size_bytes, created_at, role")
_EXPORT_COLS = "id, project_id, job_id, video_key, poster_key, duration, width, height, size_bytes, created_at"
_PRODUCT_COLS = ("id, project_id, job_id, turntable_key, poster_key, frames, fps, width, height, duration, renderer, "
                 "size_bytes, created_at")
_PROJECT_FIELDS = frozenset({"name", "look", "aspect", "duration", "fps"})


def _check_role(*, kind: AssetKind, role: AssetRole) -> None:
    if role == "capture" and kind != "photo":
        raise ConflictError("a capture is a photo of the product; a song belongs to the video (role photo)")


def _check_limit(*, role: AssetRole, count: int, max_photos: int | None, max_captures: int | None) -> None:
    """The video's photos and a product capture's are counted apart, each against its own limit."""
    if role == "photo" and max_photos is not None and count >= max_photos:
        raise ConflictError(f"a project holds at most {max_photos} photos")
    if role == "capture" and max_captures is not None and count >= max_captures:
        raise ConflictError(f"a project holds at most {max_captures} photos of a product capture")


def _project(row: Sequence[Any]) -> ProjectRecord:
    return ProjectRecord(**dict(zip(_PROJECT_COLS.split(", "), row, strict=True)))


def _asset(row: Sequence[Any]) -> AssetRecord:
    return AssetRecord(**dict(zip(_ASSET_COLS.split(", "), row, strict=True)))


def _export(row: Sequence[Any]) -> ExportRecord:
    return ExportRecord(**dict(zip(_EXPORT_COLS.split(", "), row, strict=True)))


def _product(row: Sequence[Any]) -> ProductRecord:
    return ProductRecord(**dict(zip(_PRODUCT_COLS.split(", "), row, strict=True)))


class SQLiteProjectStore:
    """One database file (it may be the job store's own); safe across threads and processes (WAL)."""

    def __init__(self, path: Path) -> None:
        self.db = SQLiteDatabase(path, schema=_SCHEMA, added_columns={"assets": _ADDED_ASSET_COLUMNS})
        self.path = self.db.path

    def _conn(self) -> sqlite3.Connection:
        return self.db.conn()

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.db.tx()

    # ------------------------------------------------------------------ users and sessions

    def add_user(self, *, name: str) -> tuple[UserRecord, str]:
        """A new user and their token (shown once: only its hash is kept)."""
        name = name.strip()
        if not name or len(name) > 100 or any(c in name for c in "\r\n\t"):
            raise ConflictError("a user name is 1 to 100 characters on one line")
        token = "ml_" + secrets.token_urlsafe(32)
        user = UserRecord(id=new_id(), name=name, created_at=_now())
        with self._tx() as db:
            if db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise ConflictError(f"a user named {name!r} already exists")
            db.execute("INSERT INTO users (id, name, token_hash, created_at) VALUES (?,?,?,?)",
                       (user.id, user.name, token_hash(token), user.created_at.isoformat()))
        return user, token

    def list_users(self) -> list[UserRecord]:
        rows = self._conn().execute("SELECT id, name, created_at FROM users ORDER BY created_at").fetchall()
        return [UserRecord(id=r[0], name=r[1], created_at=r[2]) for r in rows]

    def user_by_token(self, token: str) -> UserRecord | None:
        row = self._conn().execute(
            "SELECT id, name, created_at FROM users WHERE token_hash=?", (token_hash(token),)
        ).fetchone()
        return UserRecord(id=row[0], name=row[1], created_at=row[2]) if row else None

    def create_session(self, *, user_id: str) -> str:
        session = "mls_" + secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute("INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?,?,?)",
                       (token_hash(session), user_id, _now().isoformat()))
        return session

    def user_by_session(self, session: str) -> UserRecord | None:
        row = self._conn().execute(
            "SELECT u.id, u.name, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.token_hash=?", (token_hash(session),)
        ).fetchone()
        return UserRecord(id=row[0], name=row[1], created_at=row[2]) if row else None

    def delete_session(self, session: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token_hash=?", (token_hash(session),))

    # ------------------------------------------------------------------ projects

    def create_project(self, *, user_id: str, name: str, look: str, aspect: Aspect, duration: float | None,
                       fps: int) -> ProjectRecord:
        now = _now().isoformat()
        pid = new_id()
        with self._tx() as db:
            db.execute(f"INSERT INTO projects ({_PROJECT_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
                       (pid, user_id, name, look, aspect, duration, fps, now, now))
        return self.get_project(user_id=user_id, project_id=pid)

    def list_projects(self, *, user_id: str) -> list[ProjectRecord]:
        rows = self._conn().execute(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE user_id=? ORDER BY created_at DESC, id DESC", (user_id,)
        ).fetchall()
        return [_project(r) for r in rows]

    def get_project(self, *, user_id: str, project_id: str) -> ProjectRecord:
        row = self._conn().execute(
            f"SELECT {_PROJECT_COLS} FROM projects WHERE id=? AND user_id=?", (project_id, user_id)
        ).fetchone()
        if row is None:
            raise NotFoundError("project", project_id)
        return _project(row)

    def update_project(self, *, user_id: str, project_id: str, changes: dict[str, Any]) -> ProjectRecord:
        unknown = set(changes) - _PROJECT_FIELDS
        if unknown:
            raise ValueError(f"not project fields: {sorted(unknown)}")
        fields = sorted(changes)
        sets = "".join(f"{f}=?, " for f in fields)
        with self._tx() as db:
            cur = db.execute(f"UPDATE projects SET {sets}updated_at=? WHERE id=? AND user_id=?",
                             (*(changes[f] for f in fields), _now().isoformat(), project_id, user_id))
            if cur.rowcount == 0:
                raise NotFoundError("project", project_id)
        return self.get_project(user_id=user_id, project_id=project_id)

    def touch_project(self, *, project_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE projects SET updated_at=? WHERE id=?", (_now().isoformat(), project_id))

    def delete_project(self, *, user_id: str, project_id: str) -> None:
        with self._tx() as db:
            cur = db.execute("DELETE FROM projects WHERE id=? AND user_id=?", (project_id, user_id))
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
        now = _now().isoformat()
        with self._tx() as db:
            if db.execute("SELECT 1 FROM projects WHERE id=?", (project_id,)).fetchone() is None:
                raise NotFoundError("project", project_id)
            position: int | None = None
            if kind == "photo":
                (count,) = db.execute("SELECT COUNT(*) FROM assets WHERE project_id=? AND kind='photo' AND role=?",
                                      (project_id, role)).fetchone()
                _check_limit(role=role, count=count, max_photos=max_photos, max_captures=max_captures)
                position = count
            else:
                db.execute("DELETE FROM assets WHERE project_id=? AND kind='music'", (project_id,))
            db.execute(f"INSERT INTO assets ({_ASSET_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (aid, project_id, kind, name, position, key, thumb_key, preview_key, width, height, duration,
                        size_bytes, now, role))
            db.execute("UPDATE projects SET updated_at=? WHERE id=?", (now, project_id))
        row = self._conn().execute(f"SELECT {_ASSET_COLS} FROM assets WHERE id=?", (aid,)).fetchone()
        return _asset(row)

    def list_assets(self, *, project_id: str, role: AssetRole = "photo") -> list[AssetRecord]:
        """`photo`: the video's photos in their order, then the song; `capture`: the captures in theirs."""
        rows = self._conn().execute(
            f"SELECT {_ASSET_COLS} FROM assets WHERE project_id=? AND role=? "
            "ORDER BY CASE kind WHEN 'photo' THEN 0 ELSE 1 END, position, created_at", (project_id, role)
        ).fetchall()
        return [_asset(r) for r in rows]

    def get_asset(self, *, user_id: str, asset_id: str) -> AssetRecord:
        cols = ", ".join(f"a.{c}" for c in _ASSET_COLS.split(", "))
        row = self._conn().execute(
            f"SELECT {cols} FROM assets a JOIN projects p ON p.id = a.project_id WHERE a.id=? AND p.user_id=?",
            (asset_id, user_id),
        ).fetchone()
        if row is None:
            raise NotFoundError("asset", asset_id)
        return _asset(row)

    def delete_asset(self, *, project_id: str, asset_id: str) -> None:
        with self._tx() as db:
            gone = db.execute("SELECT role FROM assets WHERE id=? AND project_id=?", (asset_id, project_id)).fetchone()
            if gone is None:
                raise NotFoundError("asset", asset_id)
            db.execute("DELETE FROM assets WHERE id=?", (asset_id,))
            ids = [r[0] for r in db.execute(
                "SELECT id FROM assets WHERE project_id=? AND kind='photo' AND role=? ORDER BY position",
                (project_id, gone[0]))]
            for position, aid in enumerate(ids):
                db.execute("UPDATE assets SET position=? WHERE id=?", (position, aid))
            db.execute("UPDATE projects SET updated_at=? WHERE id=?", (_now().isoformat(), project_id))

    def reorder_photos(self, *, project_id: str, asset_ids: Sequence[str]) -> list[AssetRecord]:
        """Put the project's photos in the order of `asset_ids`, which must name each of them once."""
        with self._tx() as db:
            current = {r[0] for r in db.execute(
                "SELECT id FROM assets WHERE project_id=? AND kind='photo' AND role='photo'", (project_id,))}
            given = list(asset_ids)
            if len(set(given)) != len(given):
                raise ConflictError("the order names a photo more than once")
            if set(given) != current:
                missing, extra = len(current - set(given)), len(set(given) - current)
                raise ConflictError(
                    f"the order must name every photo of the project once ({len(current)} photos; "
                    f"{missing} left out, {extra} not photos of this project)")
            for position, aid in enumerate(given):
                db.execute("UPDATE assets SET position=? WHERE id=?", (position, aid))
            db.execute("UPDATE projects SET updated_at=? WHERE id=?", (_now().isoformat(), project_id))
        return self.list_assets(project_id=project_id)

    # ------------------------------------------------------------------ storyboards

    def get_plan(self, *, project_id: str) -> PlanRecord | None:
        row = self._conn().execute("SELECT body FROM plans WHERE project_id=?", (project_id,)).fetchone()
        return PlanRecord.model_validate_json(row[0]) if row else None

    def save_plan(self, record: PlanRecord) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM projects WHERE id=?", (record.project_id,)).fetchone() is None:
                raise NotFoundError("project", record.project_id)
            db.execute("DELETE FROM plans WHERE project_id=?", (record.project_id,))
            db.execute("INSERT INTO plans (project_id, body, updated_at) VALUES (?,?,?)",
                       (record.project_id, record.model_dump_json(), record.updated_at.isoformat()))

    def delete_plan(self, *, project_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM plans WHERE project_id=?", (project_id,))

    # ------------------------------------------------------------------ jobs of projects

    def link_job(self, *, job_id: str, project_id: str, kind: str) -> JobLink:
        link = JobLink(job_id=job_id, project_id=project_id, kind=kind, created_at=_now())
        with self._tx() as db:
            db.execute("INSERT INTO project_jobs (job_id, project_id, kind, created_at) VALUES (?,?,?,?)",
                       (job_id, project_id, kind, link.created_at.isoformat()))
        return link

    def get_job_link(self, *, user_id: str, job_id: str) -> JobLink:
        row = self._conn().execute(
            "SELECT j.job_id, j.project_id, j.kind, j.created_at FROM project_jobs j "
            "JOIN projects p ON p.id = j.project_id WHERE j.job_id=? AND p.user_id=?", (job_id, user_id)
        ).fetchone()
        if row is None:
            raise NotFoundError("job", job_id)
        return JobLink(job_id=row[0], project_id=row[1], kind=row[2], created_at=row[3])

    def list_job_links(self, *, project_id: str) -> list[JobLink]:
        rows = self._conn().execute(
            "SELECT job_id, project_id, kind, created_at FROM project_jobs WHERE project_id=? "
            "ORDER BY created_at DESC, job_id DESC", (project_id,)
        ).fetchall()
        return [JobLink(job_id=r[0], project_id=r[1], kind=r[2], created_at=r[3]) for r in rows]

    def job_links(self, job_ids: Sequence[str]) -> list[JobLink]:
        """The links of those of `job_ids` whose project still exists."""
        if not job_ids:
            return []
        marks = ",".join("?" * len(job_ids))
        rows = self._conn().execute(
            f"SELECT job_id, project_id, kind, created_at FROM project_jobs WHERE job_id IN ({marks})",
            tuple(job_ids),
        ).fetchall()
        return [JobLink(job_id=r[0], project_id=r[1], kind=r[2], created_at=r[3]) for r in rows]

    # ------------------------------------------------------------------ exports

    def add_export(self, *, project_id: str, job_id: str, video_key: str, poster_key: str | None,
                   duration: float, width: int, height: int, size_bytes: int) -> ExportRecord:
        record = ExportRecord(id=new_id(), project_id=project_id, job_id=job_id, video_key=video_key,
                              poster_key=poster_key, duration=duration, width=width, height=height,
                              size_bytes=size_bytes, created_at=_now())
        with self._tx() as db:
            if db.execute("SELECT 1 FROM projects WHERE id=?", (project_id,)).fetchone() is None:
                raise NotFoundError("project", project_id)
            db.execute(f"INSERT INTO exports ({_EXPORT_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (record.id, project_id, job_id, video_key, poster_key, duration, width, height, size_bytes,
                        record.created_at.isoformat()))
        return record

    def list_exports(self, *, project_id: str) -> list[ExportRecord]:
        rows = self._conn().execute(
            f"SELECT {_EXPORT_COLS} FROM exports WHERE project_id=? ORDER BY created_at DESC, id DESC",
            (project_id,),
        ).fetchall()
        return [_export(r) for r in rows]

    def get_export(self, *, user_id: str, export_id: str) -> ExportRecord:
        cols = ", ".join(f"e.{c}" for c in _EXPORT_COLS.split(", "))
        row = self._conn().execute(
            f"SELECT {cols} FROM exports e JOIN projects p ON p.id = e.project_id WHERE e.id=? AND p.user_id=?",
            (export_id, user_id),
        ).fetchone()
        if row is None:
            raise NotFoundError("export", export_id)
        return _export(row)

    def export_for_job(self, *, job_id: str) -> ExportRecord | None:
        row = self._conn().execute(f"SELECT {_EXPORT_COLS} FROM exports WHERE job_id=?", (job_id,)).fetchone()
        return _export(row) if row else None

    # ------------------------------------------------------------------ product turntables

    def add_product(self, *, project_id: str, job_id: str, turntable_key: str, poster_key: str, frames: int,
                    fps: int, width: int, height: int, duration: float, renderer: str,
                    size_bytes: int) -> ProductRecord:
        record = ProductRecord(id=new_id(), project_id=project_id, job_id=job_id, turntable_key=turntable_key,
                               poster_key=poster_key, frames=frames, fps=fps, width=width, height=height,
                               duration=duration, renderer=renderer, size_bytes=size_bytes, created_at=_now())
        with self._tx() as db:
            if db.execute("SELECT 1 FROM projects WHERE id=?", (project_id,)).fetchone() is None:
                raise NotFoundError("project", project_id)
            db.execute(f"INSERT INTO products ({_PRODUCT_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (record.id, project_id, job_id, turntable_key, poster_key, frames, fps, width, height,
                        duration, renderer, size_bytes, record.created_at.isoformat()))
        return record

    def list_products(self, *, project_id: str) -> list[ProductRecord]:
        rows = self._conn().execute(
            f"SELECT {_PRODUCT_COLS} FROM products WHERE project_id=? ORDER BY created_at DESC, id DESC",
            (project_id,),
        ).fetchall()
        return [_product(r) for r in rows]

    def get_product(self, *, user_id: str, product_id: str) -> ProductRecord:
        cols = ", ".join(f"t.{c}" for c in _PRODUCT_COLS.split(", "))
        row = self._conn().execute(
            f"SELECT {cols} FROM products t JOIN projects p ON p.id = t.project_id WHERE t.id=? AND p.user_id=?",
            (product_id, user_id),
        ).fetchone()
        if row is None:
            raise NotFoundError("product", product_id)
        return _product(row)

    def product_for_job(self, *, job_id: str) -> ProductRecord | None:
        row = self._conn().execute(f"SELECT {_PRODUCT_COLS} FROM products WHERE job_id=?", (job_id,)).fetchone()
        return _product(row) if row else None

    def project_product(self, *, project_id: str) -> ProductRecord | None:
        """The turntable the project's video shows as its product shot, if any."""
        cols = ", ".join(f"t.{c}" for c in _PRODUCT_COLS.split(", "))
        row = self._conn().execute(
            f"SELECT {cols} FROM project_products u JOIN products t ON t.id = u.product_id WHERE u.project_id=?",
            (project_id,),
        ).fetchone()
        return _product(row) if row else None

    def use_product(self, *, project_id: str, product_id: str | None) -> None:
        """Show `product_id` (one of the project's turntables) in the project's video; None: none."""
        with self._tx() as db:
            if product_id is None:
                db.execute("DELETE FROM project_products WHERE project_id=?", (project_id,))
                return
            if db.execute("SELECT 1 FROM products WHERE id=? AND project_id=?",
                          (product_id, project_id)).fetchone() is None:
                raise NotFoundError("product", product_id)
            db.execute("INSERT INTO project_products (project_id, product_id) VALUES (?,?) "
                       "ON CONFLICT (project_id) DO UPDATE SET product_id=excluded.product_id",
                       (project_id, product_id))
