"""The schema of the last release before migrations, on each database as that release made it.

Databases that release made have no alembic_version table, so every one of them starts here: what it
lacks is created (a table or index) or added (a column later versions of that release added to an older
table: the job leases, `assets.role`), and what it has is left as it is. A new database gets the whole
schema. Either way the result is that release's schema, exactly (tests/shared/test_migrations.py
compares it with that release's own statements)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

_TYPES = {
    "sqlite": {"time": "TEXT", "json": "TEXT", "real": "REAL", "big": "INTEGER", "deadline": "REAL"},
    "postgresql": {"time": "TIMESTAMPTZ", "json": "JSONB", "real": "DOUBLE PRECISION", "big": "BIGINT",
                   "deadline": "TIMESTAMPTZ"},
}
"""The one place the two databases differed: the type of a time, a JSON document, a float, a byte count,
and a lease's deadline (epoch seconds on SQLite)."""

_PROJECT = "project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE"

_TABLES = {
    "jobs": ["id TEXT PRIMARY KEY", "kind TEXT NOT NULL", "status TEXT NOT NULL", "params {json} NOT NULL",
             "result {json}", "error TEXT", "{last_seq}", "created_at {time} NOT NULL", "updated_at {time} NOT NULL"],
    "{events}": ["job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE", "seq {big} NOT NULL",
                 "ts {time} NOT NULL", "type TEXT NOT NULL", "body {json} NOT NULL", "PRIMARY KEY (job_id, seq)"],
    "users": ["id TEXT PRIMARY KEY", "name TEXT NOT NULL UNIQUE", "token_hash TEXT NOT NULL UNIQUE",
              "created_at {time} NOT NULL"],
    "sessions": ["token_hash TEXT PRIMARY KEY", "user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE",
                 "created_at {time} NOT NULL"],
    "projects": ["id TEXT PRIMARY KEY", "user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE",
                 "name TEXT NOT NULL", "look TEXT NOT NULL", "aspect TEXT NOT NULL", "duration {real}",
                 "fps INTEGER NOT NULL", "created_at {time} NOT NULL", "updated_at {time} NOT NULL"],
    "assets": ["id TEXT PRIMARY KEY", _PROJECT, "kind TEXT NOT NULL", "name TEXT NOT NULL", "position INTEGER",
               "key TEXT NOT NULL", "thumb_key TEXT", "preview_key TEXT", "width INTEGER", "height INTEGER",
               "duration {real}", "size_bytes {big} NOT NULL", "created_at {time} NOT NULL"],
    "plans": ["project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE", "body TEXT NOT NULL",
              "updated_at {time} NOT NULL"],
    "project_jobs": ["job_id TEXT PRIMARY KEY", _PROJECT, "kind TEXT NOT NULL", "created_at {time} NOT NULL"],
    "exports": ["id TEXT PRIMARY KEY", _PROJECT, "job_id TEXT NOT NULL", "video_key TEXT NOT NULL", "poster_key TEXT",
                "duration {real} NOT NULL", "width INTEGER NOT NULL", "height INTEGER NOT NULL",
                "size_bytes {big} NOT NULL", "created_at {time} NOT NULL"],
    "products": ["id TEXT PRIMARY KEY", _PROJECT, "job_id TEXT NOT NULL", "turntable_key TEXT NOT NULL",
                 "poster_key TEXT NOT NULL", "frames INTEGER NOT NULL", "fps INTEGER NOT NULL",
                 "width INTEGER NOT NULL", "height INTEGER NOT NULL", "duration {real} NOT NULL",
                 "renderer TEXT NOT NULL", "size_bytes {big} NOT NULL", "created_at {time} NOT NULL"],
    "project_products": ["project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE",
                         "product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE"],
}

_INDEXES = {
    "projects_by_user": "projects (user_id, created_at)",
    "assets_by_project": "assets (project_id, kind, position)",
    "jobs_by_project": "project_jobs (project_id, created_at)",
    "exports_by_project": "exports (project_id, created_at)",
    "products_by_project": "products (project_id, created_at)",
}

_ADDED_COLUMNS = {
    "jobs": {"lease_owner": "TEXT", "lease_expires": "{deadline}"},
    "assets": {"role": "TEXT NOT NULL DEFAULT 'photo'"},
}
"""Columns the release added to tables its earlier versions had made (every earlier asset is a photo of
the video's own, role `photo`)."""


def upgrade() -> None:
    bind = op.get_bind()
    words = {
        **_TYPES[bind.dialect.name],
        # SQLite numbered events by MAX(seq) under its write lock; PostgreSQL kept a counter on the job row.
        "events": "events" if bind.dialect.name == "sqlite" else "job_events",
        "last_seq": "" if bind.dialect.name == "sqlite" else "last_seq BIGINT NOT NULL DEFAULT 0",
    }
    have = set(sa.inspect(bind).get_table_names())
    for name, columns in _TABLES.items():
        table = name.format(**words)
        if table not in have:
            written = [c.format(**words) for c in columns]
            op.execute(f"CREATE TABLE {table} ({', '.join(c for c in written if c)})")
    for index, on in _INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {on}")
    for table, added in _ADDED_COLUMNS.items():
        present = {c["name"] for c in sa.inspect(bind).get_columns(table)}
        for column, kind in added.items():
            if column not in present:
                op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind.format(**words)}")


def downgrade() -> None:
    raise NotImplementedError("the first schema has nothing before it to go back to")
