"""The project store's product turntables, on a real SQLite file and a real PostgreSQL server alike: added,
listed newest first, scoped by owner, found by job, one in use per project, gone with their project; and a
database made before the product tables gains them when opened."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from shared.db.projects import SQLProjectStore
from shared.projects import NotFoundError, ProductRecord, ProjectStore


def _add(projects: ProjectStore, project_id: str, n: int) -> ProductRecord:
    return projects.add_product(project_id=project_id, job_id=f"job-{uuid.uuid4().hex[:8]}",
                                turntable_key=f"product/{n}/turntable.webm", poster_key=f"product/{n}/poster.png",
                                frames=120, fps=30, width=1080, height=1080, duration=4.0, renderer="preview",
                                size_bytes=1000 + n)


def test_products_of_a_project(projects: ProjectStore) -> None:
    owner, _ = projects.add_user(name=f"seller-{uuid.uuid4().hex[:8]}")
    other, _ = projects.add_user(name=f"other-{uuid.uuid4().hex[:8]}")
    project = projects.create_project(user_id=owner.id, name="shop", look="ghibli", aspect="9:16", duration=None,
                                      fps=30)
    elsewhere = projects.create_project(user_id=owner.id, name="other shop", look="ghibli", aspect="9:16",
                                        duration=None, fps=30)
    first, second = _add(projects, project.id, 1), _add(projects, project.id, 2)
    assert [p.id for p in projects.list_products(project_id=project.id)] == [second.id, first.id]
    assert projects.get_product(user_id=owner.id, product_id=first.id) == first
    with pytest.raises(NotFoundError):
        projects.get_product(user_id=other.id, product_id=first.id)
    assert projects.product_for_job(job_id=second.job_id) == second
    assert projects.product_for_job(job_id="no-such-job") is None

    assert projects.project_product(project_id=project.id) is None
    projects.use_product(project_id=project.id, product_id=first.id)
    assert projects.project_product(project_id=project.id) == first
    projects.use_product(project_id=project.id, product_id=second.id)  # one in use: the newer choice wins
    assert projects.project_product(project_id=project.id) == second
    with pytest.raises(NotFoundError):
        projects.use_product(project_id=elsewhere.id, product_id=second.id)  # not that project's turntable
    assert projects.project_product(project_id=elsewhere.id) is None
    projects.use_product(project_id=project.id, product_id=None)
    assert projects.project_product(project_id=project.id) is None

    projects.use_product(project_id=project.id, product_id=first.id)
    projects.delete_project(user_id=owner.id, project_id=project.id)
    assert projects.list_products(project_id=project.id) == []
    with pytest.raises(NotFoundError):
        projects.get_product(user_id=owner.id, product_id=first.id)


def test_a_database_from_before_the_product_tables_gains_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the project table as the first release made it, with one project
        db.executescript("""
            CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
                                created_at TEXT NOT NULL);
            CREATE TABLE projects (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                                   name TEXT NOT NULL, look TEXT NOT NULL, aspect TEXT NOT NULL, duration REAL,
                                   fps INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
            INSERT INTO users VALUES ('u1', 'old', 'h', '2026-01-01T00:00:00+00:00');
            INSERT INTO projects VALUES ('p1', 'u1', 'old shop', 'ghibli', '9:16', NULL, 30,
                                         '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00');
        """)
    projects = SQLProjectStore(path)
    assert projects.get_project(user_id="u1", project_id="p1").name == "old shop"
    product = _add(projects, "p1", 7)
    projects.use_product(project_id="p1", product_id=product.id)
    assert projects.project_product(project_id="p1") == product
