"""The tables of the job and project stores, as both databases hold them after the newest migration.

One set of tables for SQLite and PostgreSQL. Where the two have always stored a value differently, a
column type carries the difference, so rows written by any earlier version read back unchanged: a time is
`timestamptz` on PostgreSQL and ISO 8601 text on SQLite, a JSON document `jsonb` or text, a lease's
deadline `timestamptz` or epoch seconds. The schema itself changes only through a migration
(shared/db/migrations/versions); tests/shared/test_migrations.py checks that a migrated database and these
tables agree."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    REAL,
    BigInteger,
    Column,
    ColumnElement,
    DateTime,
    Dialect,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    literal,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

from shared.db.engine import dumps


def _sqlite(dialect: Dialect) -> bool:
    return dialect.name == "sqlite"


class StoredOnSQLiteAs(TypeDecorator[Any]):
    """A value PostgreSQL holds in a native type (`native`, else `impl`) and SQLite in a plainer one: `sqlite`
    is that type, the conversion into it and the conversion back. None is SQL NULL on both. SQLAlchemy reads
    `cache_ok` from each class's own attributes only, so every subclass says it again."""

    cache_ok = True
    native: TypeEngine[Any] | None = None
    sqlite: ClassVar[tuple[TypeEngine[Any], Callable[[Any], Any], Callable[[Any], Any]]]

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(self.sqlite[0] if _sqlite(dialect) else self.native or self.impl_instance)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return self.sqlite[1](value) if value is not None and _sqlite(dialect) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return self.sqlite[2](value) if value is not None and _sqlite(dialect) else value


def _from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Timestamp(StoredOnSQLiteAs):
    """An aware time: `timestamptz` on PostgreSQL, ISO 8601 text on SQLite."""

    impl, cache_ok = DateTime(timezone=True), True
    sqlite = Text(), datetime.isoformat, datetime.fromisoformat


class Deadline(StoredOnSQLiteAs):
    """A moment by the database's clock (a lease's end): `timestamptz` on PostgreSQL, epoch seconds on SQLite."""

    impl, cache_ok = DateTime(timezone=True), True
    sqlite = REAL(), datetime.timestamp, _from_epoch


class Document(StoredOnSQLiteAs):
    """A JSON document: `jsonb` on PostgreSQL (written with the engine's `dumps`), text on SQLite."""

    impl, native, cache_ok = Text(), JSONB(none_as_null=True), True
    sqlite = Text(), dumps, json.loads


class clock(FunctionElement[datetime]):
    """The database's clock, `seconds` from now. Leases are timed by it, never by a container's clock, so
    replicas whose clocks disagree still agree on when a lease ran out (a SQLite file is shared only by
    the processes of one machine, which read one clock)."""

    type = Deadline()
    inherit_cache = True

    def __init__(self, seconds: float | ColumnElement[float] = 0.0) -> None:
        super().__init__(seconds if isinstance(seconds, ColumnElement) else literal(seconds, Float()))


@compiles(clock, "postgresql")
def _clock_postgresql(element: clock, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(clock_timestamp() + make_interval(secs => {compiler.process(element.clauses, **kw)}))"


@compiles(clock, "sqlite")
def _clock_sqlite(element: clock, compiler: SQLCompiler, **kw: Any) -> str:
    return f"((julianday('now') - 2440587.5) * 86400.0 + {compiler.process(element.clauses, **kw)})"


BigInt: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")
Real: TypeEngine[float] = Double().with_variant(REAL(), "sqlite")


def _project_id() -> Column[str]:
    return Column("project_id", Text, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)


metadata = MetaData()

jobs = Table(
    "jobs", metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("params", Document, nullable=False),
    Column("result", Document),
    Column("error", Text),
    Column("last_seq", BigInt, nullable=False, server_default="0"),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("lease_owner", Text),
    Column("lease_expires", Deadline),
)
"""`last_seq`: the job's last event number. Appending an event bumps it with an UPDATE, whose row lock
(PostgreSQL) or write lock (SQLite) makes writers to one job take their numbers one after another."""

job_events = Table(
    "job_events", metadata,
    Column("job_id", Text, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInt, primary_key=True, autoincrement=False),
    Column("ts", Timestamp, nullable=False),
    Column("type", Text, nullable=False),
    Column("body", Document, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("token_hash", Text, nullable=False, unique=True),
    Column("created_at", Timestamp, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

projects = Table(
    "projects", metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("look", Text, nullable=False),
    Column("aspect", Text, nullable=False),
    Column("duration", Real),
    Column("fps", Integer, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("photo_order", Text, nullable=False, server_default="capture_time"),
    Index("projects_by_user", "user_id", "created_at"),
)

assets = Table(
    "assets", metadata,
    Column("id", Text, primary_key=True),
    _project_id(),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("position", Integer),
    Column("key", Text, nullable=False),
    Column("thumb_key", Text),
    Column("preview_key", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("duration", Real),
    Column("size_bytes", BigInt, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("role", Text, nullable=False, server_default="photo"),
    Index("assets_by_project", "project_id", "kind", "position"),
)

plans = Table(
    "plans", metadata,
    Column("project_id", Text, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("body", Text, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)
"""The storyboard shown: `body` is a copy of its state number `version` in `plan_versions`."""

plan_versions = Table(
    "plan_versions", metadata,
    Column("project_id", Text, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)
"""Every kept state of a project's storyboard (after each edit and each re-plan), numbered from 1: undo
and redo move `plans.version` among them."""

project_jobs = Table(
    "project_jobs", metadata,
    Column("job_id", Text, primary_key=True),
    _project_id(),
    Column("kind", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("jobs_by_project", "project_id", "created_at"),
)

exports = Table(
    "exports", metadata,
    Column("id", Text, primary_key=True),
    _project_id(),
    Column("job_id", Text, nullable=False),
    Column("video_key", Text, nullable=False),
    Column("poster_key", Text),
    Column("duration", Real, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size_bytes", BigInt, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("fingerprint", Text),
    Column("plan_digest", Text),
    Column("look", Text),
    Column("made_for", Document),
    Index("exports_by_project", "project_id", "created_at"),
)

products = Table(
    "products", metadata,
    Column("id", Text, primary_key=True),
    _project_id(),
    Column("job_id", Text, nullable=False),
    Column("turntable_key", Text, nullable=False),
    Column("poster_key", Text, nullable=False),
    Column("frames", Integer, nullable=False),
    Column("fps", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("duration", Real, nullable=False),
    Column("renderer", Text, nullable=False),
    Column("size_bytes", BigInt, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index("products_by_project", "project_id", "created_at"),
)

project_products = Table(
    "project_products", metadata,
    Column("project_id", Text, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", Text, ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
)
"""The turntable a project's video shows as its product shot (at most one per project)."""
