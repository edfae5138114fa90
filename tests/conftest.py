"""Shared fixtures. Real media lives in ../shared/media beside the project root; tests that need it skip
with a reason when it is absent (a plain clone has no ../shared)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import postgres_server, s3_server

from shared.db.projects import SQLProjectStore
from shared.projects import ProjectStore
from shared.store import LocalStore

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MEDIA_DIR = PROJECT_ROOT.parent / "shared" / "media"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    if not (MEDIA_DIR / "README.md").is_file():
        pytest.skip(f"real media folder absent: {MEDIA_DIR} (it sits beside the project root)")
    return MEDIA_DIR


@pytest.fixture(scope="session")
def good_photos(media_dir: Path) -> list[Path]:
    return sorted(p for p in (media_dir / "photos" / "good").iterdir() if p.is_file())


@pytest.fixture(scope="session")
def bad_photos(media_dir: Path) -> list[Path]:
    return sorted(p for p in (media_dir / "photos" / "bad").iterdir() if p.is_file())


@pytest.fixture()
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "artifacts")


# Session-wide servers for the scale-out backends (see tests/servers.py): the store and job store
# contract tests and the web app's end-to-end test share one of each.
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def projects(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProjectStore]:
    """The project store on each database: a fresh SQLite file, and the session's PostgreSQL server (shared:
    name users and projects uniquely)."""
    if request.param == "sqlite":
        yield SQLProjectStore(tmp_path / "momentloop.db")
        return
    store = SQLProjectStore(request.getfixturevalue("postgres_url"), pool_size=8)
    try:
        yield store
    finally:
        store.close()
