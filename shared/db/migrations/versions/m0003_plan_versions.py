"""Storyboards are kept, not discarded (issue 11): every state of a project's storyboard is a numbered
version (`plan_versions`), `plans.version` says which one is shown (undo and redo move it), a project
knows whether the user ordered its photos by hand (`projects.photo_order`), and an export records the
project state, storyboard and look it shows (`exports.fingerprint`, `plan_digest`, `look`, `made_for`) so an out-of-date
video can be told apart. Each storyboard already stored becomes its project's version 1."""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"

_TYPES = {"sqlite": ("TEXT", "TEXT"), "postgresql": ("TIMESTAMPTZ", "JSONB")}
"""A time and a JSON document on each database (as shared/db/tables.py has them)."""


def upgrade() -> None:
    time, document = _TYPES[op.get_bind().dialect.name]
    op.execute("ALTER TABLE projects ADD COLUMN photo_order TEXT NOT NULL DEFAULT 'capture_time'")
    op.execute("ALTER TABLE plans ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    op.execute("ALTER TABLE exports ADD COLUMN fingerprint TEXT")
    op.execute("ALTER TABLE exports ADD COLUMN plan_digest TEXT")
    op.execute("ALTER TABLE exports ADD COLUMN look TEXT")
    op.execute(f"ALTER TABLE exports ADD COLUMN made_for {document}")
    op.execute(
        "CREATE TABLE plan_versions (project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE, "
        f"number INTEGER NOT NULL, body TEXT NOT NULL, note TEXT NOT NULL, created_at {time} NOT NULL, "
        "PRIMARY KEY (project_id, number))")
    op.execute("INSERT INTO plan_versions (project_id, number, body, note, created_at) "
               "SELECT project_id, 1, body, 'storyboard made', updated_at FROM plans")


def downgrade() -> None:
    op.execute("DROP TABLE plan_versions")
    for column in ("made_for", "look", "plan_digest", "fingerprint"):
        op.execute(f"ALTER TABLE exports DROP COLUMN {column}")
    op.execute("ALTER TABLE plans DROP COLUMN version")
    op.execute("ALTER TABLE projects DROP COLUMN photo_order")
