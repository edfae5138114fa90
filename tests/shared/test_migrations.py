"""The stores' schema migrations, on real SQLite files and a real PostgreSQL server.

A database the last release before migrations made (written by tests/shared/release_db.py from that
release's own statements) opens with today's stores and loses nothing: every row, event and lease reads
back as it was written, the event numbers go on from where they were, the leases still fence, the
cascades still delete. The first migration makes exactly that release's schema; the tables the code
uses (shared/db/tables.py) match every migrated database; a database a newer version migrated is refused
with one clear line."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine, inspect, text

from shared.db.engine import Database, database_url
from shared.db.jobs import SQLJobStore
from shared.db.migrate import SchemaError, head, revision_of, upgrade
from shared.db.projects import SQLProjectStore
from shared.db.tables import metadata
from shared.errors import OptionError
from shared.jobs import LeaseLostError
from shared.models.jobs import JobRecord, ProgressEvent
from shared.projects import AssetRecord, ExportRecord, JobLink, PlanRecord, ProductRecord, ProjectRecord, UserRecord
from tests.shared.release_db import HELD_UNTIL, ROWS, SESSIONS, TOKENS, write_postgres, write_sqlite


@dataclass(frozen=True)
class Place:
    """Where a database lives (a SQLite file or a PostgreSQL URL), how to fill it as the release did, and
    where another, empty one can be made beside it."""

    target: Path | str
    write_release: Callable[[], None]
    another: Callable[[], Path | str]

    def raw(self) -> Connection:
        """A plain connection, beside the stores, to look at the tables themselves."""
        return create_engine(database_url(self.target)).connect()


def _fresh_postgres(url: str) -> str:
    import psycopg

    name = f"ml_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture(params=["sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    if request.param == "sqlite":
        path = tmp_path / "momentloop.db"
        return Place(path, lambda: write_sqlite(path), lambda: tmp_path / f"{uuid.uuid4().hex[:8]}.db")
    server = request.getfixturevalue("postgres_url")
    url = _fresh_postgres(server)
    return Place(url, lambda: write_postgres(url), lambda: _fresh_postgres(server))


def _rows(table: str, **where: Any) -> list[dict[str, Any]]:
    return [r for r in ROWS[table] if all(r[k] == v for k, v in where.items())]


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


def _counts(conn: Connection) -> dict[str, int]:
    events = "events" if "events" in inspect(conn).get_table_names() else "job_events"
    return {t: conn.execute(text(f"SELECT COUNT(*) FROM {events if t == 'events' else t}")).scalar_one()
            for t in ROWS}


@pytest.fixture()
def opened(place: Place) -> Iterator[tuple[SQLJobStore, SQLProjectStore]]:
    """The release's database, opened by four stores at once (as a restart of two replicas would)."""
    place.write_release()
    with place.raw() as conn:
        assert _counts(conn) == {t: len(rows) for t, rows in ROWS.items()}
        assert revision_of(conn) is None, "the release kept no schema revision"
    stores: list[Any] = []
    start = threading.Barrier(4)

    def open_one(n: int) -> None:
        start.wait()
        stores.append((SQLJobStore if n % 2 else SQLProjectStore)(place.target, pool_size=4))

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores) == 4, "every store opened: one migrated, the others found it done"
    try:
        yield (next(s for s in stores if isinstance(s, SQLJobStore)),
               next(s for s in stores if isinstance(s, SQLProjectStore)))
    finally:
        for s in stores:
            s.close()


def test_a_release_database_keeps_every_job_event_and_lease(place: Place,
                                                            opened: tuple[SQLJobStore, SQLProjectStore]) -> None:
    jobs, _ = opened
    with place.raw() as conn:
        assert revision_of(conn) == head()
        assert _counts(conn) == {t: len(rows) for t, rows in ROWS.items()}, "not a row lost"
    for row in ROWS["jobs"]:
        record = {k: v for k, v in row.items() if k in JobRecord.model_fields}
        expected = JobRecord(**{**record, "params": json.loads(row["params"]),
                                "result": json.loads(row["result"]) if row["result"] else None})
        assert jobs.get_job(row["id"]) == expected
        assert jobs.events(row["id"]) == [ProgressEvent.model_validate_json(e["body"])
                                          for e in _rows("events", job_id=row["id"])]
    assert [j.id for j in jobs.list_jobs()] == [r["id"] for r in sorted(ROWS["jobs"], key=lambda r: r["created_at"])]

    held = jobs.lease("job-running")
    assert held is not None and (held.owner, held.expires_at, held.expired) == ("host:1:abc", HELD_UNTIL, False)
    ran_out = jobs.lease("job-failed")
    assert ran_out is not None and ran_out.owner == "gone:2:def" and ran_out.expired
    assert jobs.lease("job-done") is None and jobs.lease("job-queued") is None

    # The lease still fences: its holder writes on, from the next number; anyone else is refused.
    assert not jobs.claim("job-running", owner="other", lease_seconds=30)
    with pytest.raises(LeaseLostError):
        jobs.append_event("job-running", type="log", message="stale", lease_owner="other")
    assert jobs.append_event("job-running", type="log", message="on", lease_owner="host:1:abc").seq == 4
    assert jobs.append_event("job-done", type="log", message="more").seq == 3
    assert jobs.append_event("job-queued", type="log", message="first").seq == 1
    assert jobs.claim("job-queued", owner="new", lease_seconds=30)
    assert [e.seq for e in jobs.events("job-running")] == [1, 2, 3, 4]

    # A job's log still goes with it (the foreign key survived SQLite's table rename).
    with place.raw() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")  # as the stores' connections have it
        conn.execute(text("DELETE FROM jobs WHERE id = 'job-done'"))
        conn.commit()
        assert conn.execute(text("SELECT COUNT(*) FROM job_events WHERE job_id = 'job-done'")).scalar_one() == 0


def test_a_release_database_keeps_every_user_project_and_file(place: Place,
                                                              opened: tuple[SQLJobStore, SQLProjectStore]) -> None:
    _, projects = opened
    users = [UserRecord(**{k: r[k] for k in ("id", "name", "created_at")}) for r in ROWS["users"]]
    assert projects.list_users() == users
    assert [projects.user_by_token(TOKENS[u.id]) for u in users] == users
    for session, uid in SESSIONS.items():
        assert projects.user_by_session(session) == next(u for u in users if u.id == uid)
    for user in users:
        assert projects.list_projects(user_id=user.id) == [
            ProjectRecord(**r) for r in _newest_first(_rows("projects", user_id=user.id))]

    photos = sorted(_rows("assets", project_id="p-trip", kind="photo"), key=lambda r: r["position"])
    assert projects.list_assets(project_id="p-trip") == [AssetRecord(**r) for r in
                                                         [*photos, *_rows("assets", kind="music")]]
    assert projects.list_assets(project_id="p-shop", role="capture") == [
        AssetRecord(**r) for r in _rows("assets", project_id="p-shop", role="capture")]
    assert projects.get_asset(user_id="u-ana", asset_id="a-photo2").size_bytes == 5_000_000_002
    assert projects.get_plan(project_id="p-trip") == PlanRecord.model_validate_json(ROWS["plans"][0]["body"])
    assert projects.list_job_links(project_id="p-trip") == [
        JobLink(**r) for r in _newest_first(_rows("project_jobs", project_id="p-trip"))]
    for project in ROWS["projects"]:
        assert projects.list_exports(project_id=project["id"]) == [
            ExportRecord(**r) for r in _newest_first(_rows("exports", project_id=project["id"]))]
    assert projects.list_products(project_id="p-shop") == [ProductRecord(**r) for r in
                                                           _newest_first(ROWS["products"])]
    assert projects.project_product(project_id="p-shop") == ProductRecord(**_rows("products", id="t-preview")[0])

    # Writes go on in the old order, and a project still takes everything of its own with it.
    assert projects.add_asset(project_id="p-trip", kind="photo", name="new.jpg", key="k", size_bytes=1).position == 3
    projects.delete_project(user_id="u-ana", project_id="p-shop")
    with place.raw() as conn:
        left = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t} WHERE {c} = 'p-shop'")).scalar_one()
                for t, c in [("assets", "project_id"), ("products", "project_id"), ("project_products", "project_id"),
                             ("project_jobs", "project_id")]}
    assert left == dict.fromkeys(left, 0)


def _sqlite_schema(conn: Connection) -> dict[str, Any]:
    """Each table's columns (name, type, not null, default, primary key), foreign keys and indexes."""
    schema: dict[str, Any] = {}
    for table in inspect(conn).get_table_names():
        if table == "alembic_version":
            continue
        indexes = conn.exec_driver_sql(f"PRAGMA index_list({table})").all()
        schema[table] = {
            "columns": [tuple(r[1:]) for r in conn.exec_driver_sql(f"PRAGMA table_info({table})")],
            "foreign keys": sorted(tuple(r[2:]) for r in conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})")),
            "indexes": sorted((r[1] if r[3] == "c" else r[3], r[2],
                               tuple(c[2] for c in conn.exec_driver_sql(f"PRAGMA index_info({r[1]})")))
                              for r in indexes),
        }
    return schema


def _postgres_schema(conn: Connection) -> dict[str, Any]:
    columns = conn.execute(text(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name <> 'alembic_version'"
        " ORDER BY table_name, ordinal_position")).all()
    constraints = conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema()"
        " AND c.conrelid::regclass::text <> 'alembic_version' ORDER BY 1, 2")).all()
    indexes = conn.execute(text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
                                "current_schema() AND tablename <> 'alembic_version' ORDER BY 1, 2")).all()
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


def _schema(conn: Connection) -> dict[str, Any]:
    return _sqlite_schema(conn) if conn.dialect.name == "sqlite" else _postgres_schema(conn)


def test_the_first_migration_makes_the_release_schema_exactly(place: Place) -> None:
    place.write_release()
    with place.raw() as conn:
        release = _schema(conn)
    fresh = place.another()
    with create_engine(database_url(fresh)).begin() as conn:
        upgrade(conn, revision="0001")
    with create_engine(database_url(fresh)).connect() as conn:
        assert revision_of(conn) == "0001"
        assert _schema(conn) == release


def _differences(conn: Connection) -> list[Any]:
    """What alembic's autogenerate would change to make the database match shared/db/tables.py."""
    found = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True,
                                                                    "compare_server_default": True}), metadata)
    if conn.dialect.name != "sqlite":
        return found
    # Two things SQLite's reflection cannot see, checked here by other means: a TEXT PRIMARY KEY column
    # declared without NOT NULL (SQLite's own quirk: the metadata says NOT NULL, as the stores behave),
    # and ON DELETE of a foreign key written inline (PRAGMA foreign_key_list shows it: compared below).
    def sqlite_blind_spot(diff: Any) -> bool:
        if isinstance(diff, list) and diff[0][0] == "modify_nullable":
            return bool(metadata.tables[diff[0][2]].c[diff[0][3]].primary_key)
        return isinstance(diff, tuple) and diff[0] in ("add_fk", "remove_fk")

    wanted = sorted((fk.parent.table.name, fk.column.table.name, fk.parent.name, fk.column.name, fk.ondelete)
                    for table in metadata.tables.values() for fk in table.foreign_keys)
    have = sorted((table, r[2], r[3], r[4], r[6]) for table in metadata.tables
                  for r in conn.exec_driver_sql(f"PRAGMA foreign_key_list({table})"))
    assert have == wanted
    return [d for d in found if not sqlite_blind_spot(d)]


def test_the_tables_match_every_migrated_database(place: Place) -> None:
    place.write_release()
    Database(place.target).close()  # the release's database, migrated
    fresh = place.another()
    Database(fresh).close()  # a new one
    for target in (place.target, fresh):
        with create_engine(database_url(target)).connect() as conn:
            assert revision_of(conn) == head()
            assert _differences(conn) == [], target


def test_a_database_a_newer_version_migrated_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Database(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(SchemaError) as err:
        SQLJobStore(path)
    assert str(err.value) == (f"the database is at schema revision 9999, which this MomentLoop does not know "
                              f"(it knows up to {head()})")


@pytest.mark.parametrize("url", ["mysql://db/x", "postgresql+asyncpg://db/x", "not a url"])
def test_a_database_url_of_another_kind_is_refused_in_one_line(url: str) -> None:
    with pytest.raises(OptionError, match="not a database URL MomentLoop can open") as err:
        SQLJobStore(url)
    assert "\n" not in str(err.value) and "db/x" not in str(err.value), "no URL (it may hold a password) echoed"
