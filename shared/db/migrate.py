"""Bringing a database to the newest schema: Alembic, run in code when a store opens the database.

The migrations ship inside the package (shared/db/migrations), so an installed MomentLoop needs no
alembic.ini and no command: opening a store migrates. A database at the newest revision is only read
(no lock, no DDL). Otherwise the upgrade runs in one write transaction that first takes a lock (SQLite's
write lock; a PostgreSQL advisory lock), so of several processes opening an old database at once one
migrates and the others find it done. A new schema change is a new module in migrations/versions whose
`down_revision` is the newest one's `revision`."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, select

from shared.errors import MomentLoopError

if TYPE_CHECKING:
    from shared.db.engine import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_MIGRATION_LOCK = 0x6D6C6D6967  # any constant: the advisory lock one migrating process holds


class SchemaError(MomentLoopError):
    """The database's schema is one this version of MomentLoop does not know (a newer version migrated it)."""

    def __init__(self, *, revision: str, known: str) -> None:
        super().__init__(f"the database is at schema revision {revision}, which this MomentLoop does not know "
                         f"(it knows up to {known})", hint="run the newer MomentLoop that migrated it, or upgrade")
        self.revision = revision


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest schema revision."""
    newest = _scripts().get_current_head()
    assert newest is not None, f"no migrations in {MIGRATIONS}"
    return newest


def revision_of(conn: Connection) -> str | None:
    """The database's schema revision; None for an empty database or one the last release before
    migrations made (it has no alembic_version table)."""
    return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database) -> None:
    """Bring `db` to the newest revision (see the module's docstring)."""
    newest = head()
    with db.read() as conn:
        current = revision_of(conn)
    if current == newest:
        return
    if current is not None and current not in {s.revision for s in _scripts().walk_revisions()}:
        raise SchemaError(revision=current, known=newest)
    with db.write() as conn:
        upgrade(conn, revision="head")


def upgrade(conn: Connection, *, revision: str) -> None:
    """Upgrade to `revision` in `conn`'s transaction, which commits it (on SQLite a write transaction:
    BEGIN IMMEDIATE holds the write lock; on PostgreSQL this takes the migration lock first)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
    command.upgrade(_config(conn), revision)
