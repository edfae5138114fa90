"""One database the job and project stores live in: a SQLite file (the embedded default) or a PostgreSQL
server (several containers), opened through SQLAlchemy and migrated to the newest schema when opened.

SQLite: every connection runs in WAL mode with a busy timeout and foreign keys on (the cascades), and a
write transaction starts with BEGIN IMMEDIATE, which takes the write lock up front: two writers never
read the same state and both act on it (the same next event number, the same photo position). Reads
start a plain deferred transaction and never block a writer. The pysqlite driver's own transaction
handling is switched off so that these BEGINs are the only ones (SQLAlchemy's pysqlite recipe).

PostgreSQL: psycopg 3 (`postgresql+psycopg://`), a pool per store, and no server-side prepared
statements: they break behind a transaction-mode pooler (PgBouncer, Neon's or Supabase's pooled
endpoints), which is how many containers share one server."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from shared.db.migrate import migrate
from shared.errors import OptionError

dumps = partial(json.dumps, default=str)
"""How a JSON column writes a value, on either database: what json cannot encode is written as its str."""

_WRITE = "momentloop_write"
"""The execution option that makes a SQLite transaction BEGIN IMMEDIATE."""

_DRIVERS = {"sqlite": "sqlite+pysqlite", "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}


def database_url(target: Path | str) -> URL:
    """The SQLAlchemy URL of a SQLite file (a Path) or of a database URL (`postgresql://user@host/db`, also
    `postgres://`; `sqlite:///file.db`), with the driver this project uses."""
    if isinstance(target, Path):
        return URL.create("sqlite+pysqlite", database=str(target))
    try:
        url = make_url(target)
    except ArgumentError:
        url = None
    backend = url.get_backend_name() if url is not None else ""
    if url is None or backend not in _DRIVERS or url.drivername not in (backend, _DRIVERS[backend]):
        scheme = f"{url.drivername}://" if url is not None else "this"
        raise OptionError(f"not a database URL MomentLoop can open: {scheme}",
                          hint="use postgresql://user:password@host:5432/name, or leave it empty for SQLite")
    return url.set(drivername=_DRIVERS[backend])


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # no BEGIN of the driver's: _sqlite_begin emits ours
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        dbapi_connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


class Database:
    """An Engine on one database, migrated to the newest schema (shared/db/migrate.py) when opened.

    `pool_size` connections at most (threads beyond it wait up to `timeout` seconds for one)."""

    def __init__(self, target: Path | str, *, pool_size: int = 8, timeout: float = 30.0) -> None:
        self.url = database_url(target)
        self.dialect = self.url.get_backend_name()
        self.path: Path | None = Path(self.url.database or "") if self.dialect == "sqlite" else None
        options: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": timeout,
                                   "json_serializer": dumps}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(self.url, connect_args={"timeout": timeout}, **options)
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            self.engine = create_engine(self.url, connect_args={"prepare_threshold": None}, **options)
        self._writer = self.engine.execution_options(**{_WRITE: True})
        try:
            migrate(self)
        except BaseException:
            self.close()
            raise

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back when it raises."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        """Close the pool's connections (its threads and sockets would outlive the store otherwise)."""
        self.engine.dispose()


class DatabaseStore:
    """A store on a Database, given or opened from a path or URL (a pool of `pool_size` connections, waiting
    up to `timeout` seconds for a lock): `close` closes its connections, as the end of a `with` block does."""

    def __init__(self, database: Database | Path | str, *, pool_size: int = 8, timeout: float = 30.0) -> None:
        self.db = database if isinstance(database, Database) else Database(database, pool_size=pool_size,
                                                                             timeout=timeout)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
