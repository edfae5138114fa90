"""Product captures as their own kind of asset (issue 6): real fox frames uploaded with `role=capture` go
past the 40-photo limit of the video (their own limit, 200), are listed apart, refused like photos when
broken, hidden from other users, never become scenes of the video's storyboard; and a database made before
captures existed (SQLite and PostgreSQL) opens with its photos kept as the video's own."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from PIL import Image

from shared.db.projects import SQLProjectStore
from tests.api.conftest import Api, LiveServer


@pytest.fixture(scope="module")
def fox_tiny(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """All 50 frames of the fox walk-around, long side 96 (the upload path does not care about size)."""
    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 50:
        pytest.skip("the fox capture is absent")
    out = tmp_path_factory.mktemp("fox-tiny")
    small = []
    for src in frames:
        with Image.open(src) as im:
            im.thumbnail((96, 96))
            dest = out / src.name
            im.convert("RGB").save(dest, quality=90)
        small.append(dest)
    return small


def _ids(api: Api, pid: str, role: str) -> list[str]:
    r = api.http.get(f"/api/projects/{pid}/assets", params={"role": role})
    assert r.status_code == 200, r.text
    return [a["id"] for a in r.json()]


def test_fifty_fox_frames_go_in_as_captures_past_the_forty_photo_limit(api: Api, fox_tiny: list[Path]) -> None:
    pid = api.project(name="fox capture")["id"]
    captures = []
    for path in fox_tiny:
        r = api.upload(pid, path, role="capture")
        assert r.status_code == 201, (path.name, r.text)
        body = r.json()
        assert (body["kind"], body["role"], max(body["width"], body["height"])) == ("photo", "capture", 96)
        captures.append(body)
    assert [c["position"] for c in captures] == list(range(50))

    # The video's photos: 40 at most, counted apart from the 50 captures.
    for path in fox_tiny[:40]:
        assert api.upload(pid, path).status_code == 201
    refused = api.upload(pid, fox_tiny[40])
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == "a project holds at most 40 photos"
    assert api.upload(pid, fox_tiny[40], role="capture").status_code == 201, "captures go on past 40"

    assert len(_ids(api, pid, "capture")) == 51
    photos = api.http.get(f"/api/projects/{pid}/assets").json()  # no role: the video's own, as before
    assert len(photos) == 40 and {a["role"] for a in photos} == {"photo"}
    assert set(_ids(api, pid, "photo")) == {a["id"] for a in photos}
    assert api.http.get(f"/api/projects/{pid}").json()["photo_count"] == 40

    # A capture's thumbnail is a real upright JPEG; removing one renumbers only the captures.
    thumb = api.http.get(captures[0]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    assert api.http.delete(f"/api/projects/{pid}/assets/{captures[0]['id']}").status_code == 204
    left = api.http.get(f"/api/projects/{pid}/assets", params={"role": "capture"}).json()
    assert len(left) == 50 and [a["position"] for a in left] == list(range(50))
    assert [a["position"] for a in api.http.get(f"/api/projects/{pid}/assets").json()] == list(range(40))
    # A reorder of the video's photos names only them: the captures are not its business.
    order = [a["id"] for a in reversed(photos)]
    assert api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": order}).status_code == 200
    r = api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": [*order, left[0]["id"]]})
    assert r.status_code == 409


def test_a_capture_limit_of_its_own(live: LiveServer, fox_tiny: list[Path]) -> None:
    api = Api(live, live.add_user())
    pid = api.project(name="few captures")["id"]
    limit = live.settings.max_captures
    assert limit == 200
    live.settings.max_captures = 3  # the same rule as at 200, without 200 uploads
    try:
        for path in fox_tiny[:3]:
            assert api.upload(pid, path, role="capture").status_code == 201
        r = api.upload(pid, fox_tiny[3], role="capture")
        assert r.status_code == 409 and r.json()["detail"] == "a project holds at most 3 photos of a product capture"
        assert api.upload(pid, fox_tiny[3]).status_code == 201, "the video's photos are not held back by it"
    finally:
        live.settings.max_captures = limit
    api.http.close()


def test_broken_captures_get_the_same_one_line_reasons_as_photos(api: Api, bad_photos: list[Path],
                                                                 media_dir: Path) -> None:
    as_photo, as_capture = api.project(name="bad photos")["id"], api.project(name="bad captures")["id"]
    for path in bad_photos:
        photo, capture = api.upload(as_photo, path), api.upload(as_capture, path, role="capture")
        assert capture.status_code == photo.status_code, (path.name, photo.text, capture.text)
        assert capture.status_code < 500
        if photo.status_code != 201:
            assert capture.json()["detail"] == photo.json()["detail"]
            assert "\n" not in capture.json()["detail"]
    assert len(_ids(api, as_capture, "capture")) == len(_ids(api, as_photo, "photo"))
    assert _ids(api, as_capture, "photo") == []

    song = media_dir / "beats" / "beatnet_808kick" / "808kick120bpm.mp3"
    r = api.upload(as_capture, song, role="capture")
    assert r.status_code == 415 and "a product capture takes photos only" in r.json()["detail"]
    assert api.http.get(f"/api/projects/{as_capture}").json()["music"] is None, "the song was not kept either"
    bogus = api.http.post(f"/api/projects/{as_capture}/assets", params={"role": "scene"},
                          files={"file": ("x.jpg", bad_photos[0].read_bytes())})
    assert bogus.status_code == 422


def test_another_user_gets_404_on_captures(api: Api, live: LiveServer, fox_tiny: list[Path]) -> None:
    pid = api.project(name="private capture")["id"]
    capture = api.upload(pid, fox_tiny[0], role="capture").json()
    other = Api(live, live.add_user())
    assert other.http.get(f"/api/projects/{pid}/assets", params={"role": "capture"}).status_code == 404
    assert other.upload(pid, fox_tiny[1], role="capture").status_code == 404
    assert other.http.get(capture["thumbnail_url"]).status_code == 404
    assert other.http.delete(f"/api/projects/{pid}/assets/{capture['id']}").status_code == 404
    mine = other.project(name="theirs")["id"]
    r = other.http.post(f"/api/projects/{mine}/product", json={"asset_ids": [capture["id"]] * 3})
    assert r.status_code == 422  # the same id thrice; three distinct foreign ids are a 404:
    foreign = [capture["id"], *(api.upload(pid, p, role="capture").json()["id"] for p in fox_tiny[1:3])]
    r = other.http.post(f"/api/projects/{mine}/product", json={"asset_ids": foreign})
    assert r.status_code == 404
    assert _ids(api, pid, "capture") == foreign, "the owner's captures are untouched"
    other.http.close()


def test_captures_are_never_scenes_of_the_storyboard(api: Api, small_photos: list[Path],
                                                    fox_tiny: list[Path]) -> None:
    pid = api.project(name="trip with a capture")["id"]
    photo_ids = [api.upload(pid, p).json()["id"] for p in small_photos]
    capture_ids = [api.upload(pid, p, role="capture").json()["id"] for p in fox_tiny[:6]]
    assert len(photo_ids) == 3 and len(capture_ids) == 6
    job = api.http.post(f"/api/projects/{pid}/plan").json()
    assert api.wait(job["id"])["status"] == "done"
    plan = api.http.get(f"/api/projects/{pid}/plan").json()
    shown = [s["asset_id"] for s in plan["scenes"]]
    # A 4 s video has room for two or three of the photos, and for none of the six captures.
    assert shown and set(shown) <= set(photo_ids) and not set(shown) & set(capture_ids), shown
    assert len(plan["scenes"]) <= 3
    # A capture added or removed later leaves the storyboard as it was.
    api.upload(pid, fox_tiny[6], role="capture")
    assert api.http.delete(f"/api/projects/{pid}/assets/{capture_ids[0]}").status_code == 204
    assert api.http.get(f"/api/projects/{pid}/plan").json()["scenes"] == plan["scenes"]


OLD_SQLITE = """
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, token_hash TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL);
CREATE TABLE projects (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                       name TEXT NOT NULL, look TEXT NOT NULL, aspect TEXT NOT NULL, duration REAL,
                       fps INTEGER NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE assets (id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
                     kind TEXT NOT NULL, name TEXT NOT NULL, position INTEGER, key TEXT NOT NULL, thumb_key TEXT,
                     preview_key TEXT, width INTEGER, height INTEGER, duration REAL, size_bytes INTEGER NOT NULL,
                     created_at TEXT NOT NULL);
CREATE INDEX assets_by_project ON assets (project_id, kind, position);
INSERT INTO users VALUES ('u1', 'old', 'h', '2026-01-01T00:00:00+00:00');
INSERT INTO projects VALUES ('p1', 'u1', 'old trip', 'film', '1:1', 4, 12, '2026-01-01T00:00:00+00:00',
                             '2026-01-01T00:00:00+00:00');
INSERT INTO assets VALUES ('a1', 'p1', 'photo', 'old.jpg', 0, 'k1', 't1', NULL, 64, 48, NULL, 100,
                           '2026-01-01T00:00:00+00:00');
"""
"""The user, project and asset tables as they were before captures (no `assets.role`)."""


def test_a_sqlite_database_from_before_captures_opens_and_takes_them(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SQLITE)
    store = SQLProjectStore(path)
    (old,) = store.list_assets(project_id="p1")
    assert (old.id, old.role, old.position) == ("a1", "photo", 0)
    capture = store.add_asset(project_id="p1", kind="photo", name="fox.jpg", key="k2", size_bytes=5, role="capture",
                              max_photos=1, max_captures=200)
    assert (capture.role, capture.position) == ("capture", 0)
    assert [a.id for a in store.list_assets(project_id="p1")] == ["a1"]
    assert [a.id for a in store.list_assets(project_id="p1", role="capture")] == [capture.id]
    assert [a.id for a in SQLProjectStore(path).list_assets(project_id="p1", role="capture")] == [capture.id], \
        "opened again: migrated once, nothing lost"


def test_a_postgres_database_from_before_captures_opens_and_takes_them(postgres_url: str) -> None:
    import psycopg

    name = f"old_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = postgres_url.replace("/postgres?", f"/{name}?") if "/postgres?" in postgres_url \
        else postgres_url.rsplit("/", 1)[0] + f"/{name}"
    old = (OLD_SQLITE.replace(" REAL", " DOUBLE PRECISION").replace("created_at TEXT", "created_at TIMESTAMPTZ")
           .replace("updated_at TEXT", "updated_at TIMESTAMPTZ"))
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(old)
    with SQLProjectStore(url) as store:
        (photo,) = store.list_assets(project_id="p1")
        assert (photo.id, photo.role) == ("a1", "photo")
        capture = store.add_asset(project_id="p1", kind="photo", name="fox.jpg", key="k2", size_bytes=5,
                                  role="capture", max_photos=1, max_captures=200)
        assert (capture.role, capture.position) == ("capture", 0)
        assert [a.id for a in store.list_assets(project_id="p1")] == ["a1"]
        assert [a.id for a in store.list_assets(project_id="p1", role="capture")] == [capture.id]
    with SQLProjectStore(url) as again:
        assert [a.id for a in again.list_assets(project_id="p1", role="capture")] == [capture.id]
