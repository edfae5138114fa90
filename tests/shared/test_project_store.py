"""The project store contract, on a real SQLite file and a real PostgreSQL server: users and sessions,
projects scoped by owner, the photo order (uploads, reorders, deletes, concurrent uploads), storyboards,
job links and exports. Both stores must answer every call alike."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import pytest

from shared.models.base import OutputSpec
from shared.models.media import MusicTrack
from shared.models.plan import ScenePlan
from shared.projects import ConflictError, NotFoundError, PlanRecord, ProjectStore, Waveform


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"  # the PostgreSQL server is shared by the session


def _photo(projects: ProjectStore, project_id: str, n: int, **kw: object) -> str:
    return projects.add_asset(project_id=project_id, kind="photo", name=f"p{n}.jpg", key=f"uploads/{n}.jpg",
                              size_bytes=100 + n, thumb_key=f"thumbs/{n}.jpg", width=640, height=480,
                              **kw).id  # type: ignore[arg-type]


def test_users_tokens_and_sessions(projects: ProjectStore) -> None:
    name = _name("ana")
    user, token = projects.add_user(name=f"  {name} ")
    assert user.name == name and token.startswith("ml_")
    assert projects.user_by_token(token) == user
    assert projects.user_by_token(token + "x") is None
    with pytest.raises(ConflictError, match="already exists"):
        projects.add_user(name=name)
    with pytest.raises(ConflictError, match="one line"):
        projects.add_user(name="two\nlines")
    assert user.id in [u.id for u in projects.list_users()]

    session = projects.create_session(user_id=user.id)
    assert projects.user_by_session(session) == user
    projects.delete_session(session)
    assert projects.user_by_session(session) is None


def test_projects_belong_to_their_owner(projects: ProjectStore) -> None:
    ana, _ = projects.add_user(name=_name("ana"))
    bob, _ = projects.add_user(name=_name("bob"))
    first = projects.create_project(user_id=ana.id, name="trip", look="lego", aspect="9:16", duration=None, fps=30)
    second = projects.create_project(user_id=ana.id, name="party", look="comic", aspect="1:1", duration=12.5,
                                     fps=24)
    assert (second.duration, second.aspect, second.created_at.tzinfo is not None) == (12.5, "1:1", True)
    assert [p.id for p in projects.list_projects(user_id=ana.id)] == [second.id, first.id]
    assert projects.list_projects(user_id=bob.id) == []
    with pytest.raises(NotFoundError):
        projects.get_project(user_id=bob.id, project_id=first.id)

    changed = projects.update_project(user_id=ana.id, project_id=first.id, changes={"look": "sketch", "fps": 12})
    assert (changed.look, changed.fps, changed.name) == ("sketch", 12, "trip")
    assert changed.updated_at >= first.updated_at
    with pytest.raises(NotFoundError):
        projects.update_project(user_id=bob.id, project_id=first.id, changes={"name": "mine"})
    with pytest.raises(ValueError, match="not project fields"):
        projects.update_project(user_id=ana.id, project_id=first.id, changes={"user_id": bob.id})

    with pytest.raises(NotFoundError):
        projects.delete_project(user_id=bob.id, project_id=first.id)
    projects.delete_project(user_id=ana.id, project_id=first.id)
    assert [p.id for p in projects.list_projects(user_id=ana.id)] == [second.id]


def test_photo_order_song_and_limits(projects: ProjectStore) -> None:
    ana, _ = projects.add_user(name=_name("ana"))
    bob, _ = projects.add_user(name=_name("bob"))
    pid = projects.create_project(user_id=ana.id, name="trip", look="lego", aspect="1:1", duration=None, fps=12).id
    ids = [_photo(projects, pid, n, max_photos=3) for n in range(3)]
    with pytest.raises(ConflictError, match="at most 3"):
        _photo(projects, pid, 9, max_photos=3)
    song = projects.add_asset(project_id=pid, kind="music", name="a.mp3", key="uploads/a.mp3", size_bytes=9,
                              duration=30.0)
    newer = projects.add_asset(project_id=pid, kind="music", name="b.mp3", key="uploads/b.mp3", size_bytes=9,
                               duration=40.0)
    listed = projects.list_assets(project_id=pid)
    assert [a.id for a in listed] == [*ids, newer.id], "photos in order, then the one song (the new one)"
    assert [a.position for a in listed] == [0, 1, 2, None] and song.id not in [a.id for a in listed]
    assert projects.get_asset(user_id=ana.id, asset_id=ids[1]).size_bytes == 101
    with pytest.raises(NotFoundError):
        projects.get_asset(user_id=bob.id, asset_id=ids[1])

    reordered = projects.reorder_photos(project_id=pid, asset_ids=[ids[2], ids[0], ids[1]])
    assert [a.id for a in reordered][:3] == [ids[2], ids[0], ids[1]]
    with pytest.raises(ConflictError, match="1 left out"):
        projects.reorder_photos(project_id=pid, asset_ids=[ids[0], ids[1]])
    with pytest.raises(ConflictError, match="more than once"):
        projects.reorder_photos(project_id=pid, asset_ids=[ids[0], ids[0], ids[1]])

    projects.delete_asset(project_id=pid, asset_id=ids[0])
    after = [a for a in projects.list_assets(project_id=pid) if a.kind == "photo"]
    assert [(a.id, a.position) for a in after] == [(ids[2], 0), (ids[1], 1)], "the order closes the gap"
    with pytest.raises(NotFoundError):
        projects.delete_asset(project_id=pid, asset_id=ids[0])
    with pytest.raises(NotFoundError):
        _photo(projects, uuid.uuid4().hex, 1)


def test_concurrent_uploads_to_one_project_get_distinct_places(projects: ProjectStore) -> None:
    ana, _ = projects.add_user(name=_name("ana"))
    pid = projects.create_project(user_id=ana.id, name="trip", look="lego", aspect="1:1", duration=None, fps=12).id
    errors: list[BaseException] = []

    def upload(n: int) -> None:
        try:
            _photo(projects, pid, n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(a.position for a in projects.list_assets(project_id=pid)) == list(range(8))


def test_plans_job_links_and_exports(projects: ProjectStore) -> None:
    ana, _ = projects.add_user(name=_name("ana"))
    bob, _ = projects.add_user(name=_name("bob"))
    pid = projects.create_project(user_id=ana.id, name="trip", look="lego", aspect="1:1", duration=4, fps=12).id
    assert projects.get_plan(project_id=pid) is None
    plan = ScenePlan(look="lego", tempo=120.0, music_offset=0.0, fade_out=0.5, beats=[0.0, 0.5], downbeats=[0.0],
                     output=OutputSpec.for_aspect(aspect="1:1", fps=12, duration=4.0), scenes=[])
    track = MusicTrack(audio_key="music/t.wav", name="t.wav", origin="generated", duration=4.0, tempo=120.0,
                       beats=[0.0, 0.5])
    record = PlanRecord(project_id=pid, plan=plan, track=track, asset_ids=["a"], fingerprint="f1",
                        waveform=Waveform(duration=4.0, peaks=[0.0, 1.0]), updated_at=datetime.now(UTC))
    projects.save_plan(record)
    projects.save_plan(record.model_copy(update={"fingerprint": "f2"}))
    stored = projects.get_plan(project_id=pid)
    assert stored is not None and stored.fingerprint == "f2" and stored.plan == plan
    projects.delete_plan(project_id=pid)
    assert projects.get_plan(project_id=pid) is None

    jobs = [uuid.uuid4().hex for _ in range(2)]
    for job in jobs:
        projects.link_job(job_id=job, project_id=pid, kind="render")
    assert projects.get_job_link(user_id=ana.id, job_id=jobs[0]).project_id == pid
    with pytest.raises(NotFoundError):
        projects.get_job_link(user_id=bob.id, job_id=jobs[0])
    assert {link.job_id for link in projects.list_job_links(project_id=pid)} == set(jobs)
    assert {link.job_id for link in projects.job_links([jobs[1], "nope"])} == {jobs[1]}
    assert projects.job_links([]) == []

    export = projects.add_export(project_id=pid, job_id=jobs[0], video_key="compose/x/video.mp4",
                                 poster_key=None, duration=4.0, width=1080, height=1080, size_bytes=5_000_000_000)
    assert projects.get_export(user_id=ana.id, export_id=export.id) == export
    assert projects.export_for_job(job_id=jobs[0]) == export and projects.export_for_job(job_id=jobs[1]) is None
    assert projects.list_exports(project_id=pid) == [export]
    with pytest.raises(NotFoundError):
        projects.get_export(user_id=bob.id, export_id=export.id)

    projects.delete_project(user_id=ana.id, project_id=pid)
    assert projects.job_links(jobs) == [] and projects.export_for_job(job_id=jobs[0]) is None
