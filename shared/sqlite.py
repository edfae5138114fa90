"""One SQLite database file shared by threads (a connection each) and processes (WAL)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SQLiteDatabase:
    def __init__(self, path: Path, *, schema: str, added_columns: dict[str, dict[str, str]] | None = None) -> None:
        """Open `path`, create `schema` if missing, and give tables the columns `added_columns`
        ({table: {column: type}}) that a file made by an earlier version lacks."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.conn().executescript(schema)
        if added_columns:
            self._add_columns(added_columns)

    def _add_columns(self, added: dict[str, dict[str, str]]) -> None:
        """Checked and altered in one write transaction, so two processes opening the same old file at
        once add each column once."""
        with self.tx() as db:
            for table, columns in added.items():
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column, kind in columns.items():
                    if column not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections must not cross threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. BEGIN IMMEDIATE takes the write lock up front, so two writers never
        read the same state and both act on it (e.g. the same next event number)."""
        db = self.conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
