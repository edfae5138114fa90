"""One schema for both databases: SQLite's event log takes PostgreSQL's name and its per-job counter.

The event table becomes `job_events`, and `jobs.last_seq` holds each job's last event number (filled in
from the log), so that one implementation numbers events the same way on either database. PostgreSQL
already has both."""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE events RENAME TO job_events")
    op.execute("ALTER TABLE jobs ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0")
    op.execute("UPDATE jobs SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM job_events WHERE job_id = jobs.id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE jobs DROP COLUMN last_seq")
    op.execute("ALTER TABLE job_events RENAME TO events")
