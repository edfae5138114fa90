-- The schema of release 752d7dc, copied verbatim from its PostgreSQL job and project stores (tests/shared/release_db.py writes it).
CREATE TABLE IF NOT EXISTS jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    params      JSONB NOT NULL,
    result      JSONB,
    error       TEXT,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS job_events (
    job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    ts      TIMESTAMPTZ NOT NULL,
    type    TEXT NOT NULL,
    body    JSONB NOT NULL,
    PRIMARY KEY (job_id, seq)
);
-- The lease columns, added to a table an earlier version made. Looked up first: ALTER TABLE would take
-- the table's exclusive lock on every open, even with nothing to add, and wait for running writers.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema()
                   AND table_name = 'jobs' AND column_name = 'lease_owner') THEN
        ALTER TABLE jobs ADD COLUMN lease_owner TEXT, ADD COLUMN lease_expires TIMESTAMPTZ;
    END IF;
END $$;
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
