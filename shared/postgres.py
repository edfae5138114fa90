"""The connection pool every PostgreSQL store of MomentLoop opens the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool


def open_pool(
    url: str, *, name: str, schema: str, schema_lock: int, min_size: int, max_size: int, timeout: float
) -> ConnectionPool:
    """A pool on `url` with `schema` created if missing.

    No server-side prepared statements: they break behind a transaction-mode pooler (PgBouncer, Neon's
    or Supabase's pooled endpoints), which is how many containers share one server. The advisory lock
    serialises CREATE TABLE IF NOT EXISTS between processes starting at the same time."""
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(url, min_size=min_size, max_size=max_size, timeout=timeout, open=True, name=name,
                          kwargs={"prepare_threshold": None})
    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (schema_lock,))
        conn.execute(schema)
    return pool
