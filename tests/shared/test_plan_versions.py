"""Every state of a storyboard is kept (issue 11): each save is a numbered version, undo and redo move
among them, a new change after an undo lets the undone states go, a change made from a state another
writer replaced meanwhile is refused, and a database made before versions opens with each storyboard as
its version 1. On a real SQLite file and a real PostgreSQL server alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.db import projects as db_projects
from shared.db.projects import SQLProjectStore
from shared.models.base import OutputSpec
from shared.models.media import MusicTrack
from shared.models.plan import ScenePlan
from shared.projects import ConflictError, NotFoundError, PlanBasis, PlanRecord, ProjectStore, Waveform
from tests.shared.release_db import ROWS, write_postgres, write_sqlite


def _project(projects: ProjectStore) -> str:
    user, _ = projects.add_user(name=f"ana-{uuid.uuid4().hex[:8]}")
    return projects.create_project(user_id=user.id, name="trip", look="lego", aspect="1:1", duration=4, fps=12).id


def _record(pid: str, note: str) -> PlanRecord:
    plan = ScenePlan(look="lego", tempo=120.0, music_offset=0.0, fade_out=0.5, beats=[0.5, 1.0], downbeats=[1.0],
                     output=OutputSpec.for_aspect(aspect="1:1", fps=12, duration=4.0), scenes=[])
    track = MusicTrack(audio_key="music/t.wav", name="t.wav", origin="generated", duration=4.0, tempo=120.0,
                       beats=[0.5, 1.0])
    return PlanRecord(project_id=pid, plan=plan, track=track, asset_ids=["a"], fingerprint="f",
                      waveform=Waveform(duration=4.0, peaks=[0.0, 1.0]), updated_at=datetime.now(UTC), note=note,
                      made_for=PlanBasis(photos=["a"], music=None, aspect="1:1", duration=4, fps=12,
                                         order="capture_time"))


def _note(projects: ProjectStore, pid: str) -> str:
    record = projects.get_plan(project_id=pid)
    assert record is not None
    return record.note


def test_undo_and_redo_walk_the_kept_states(projects: ProjectStore) -> None:
    pid = _project(projects)
    assert projects.plan_history(project_id=pid) is None
    numbers = [projects.save_plan(_record(pid, note)) for note in ("made", "scene 1: 4 → 5 beats", "crossfade")]
    assert numbers == [1, 2, 3]
    history = projects.plan_history(project_id=pid)
    assert history is not None
    assert (history.version, history.first, history.last, history.undo, history.redo) == (3, 1, 3, "crossfade", None)

    assert projects.step_plan(project_id=pid, by=-1).note == "scene 1: 4 → 5 beats"
    assert projects.step_plan(project_id=pid, by=-1).note == "made"
    assert _note(projects, pid) == "made"
    history = projects.plan_history(project_id=pid)
    assert history is not None and (history.version, history.undo, history.redo) == (1, None, "scene 1: 4 → 5 beats")
    with pytest.raises(ConflictError, match="nothing to undo"):
        projects.step_plan(project_id=pid, by=-1)
    assert projects.step_plan(project_id=pid, by=1).note == "scene 1: 4 → 5 beats"

    # Something new after an undo: the undone state ("crossfade") is let go, as in any editor.
    assert projects.save_plan(_record(pid, "new prompt")) == 3
    history = projects.plan_history(project_id=pid)
    assert history is not None and (history.version, history.last, history.redo) == (3, 3, None)
    with pytest.raises(ConflictError, match="nothing to redo"):
        projects.step_plan(project_id=pid, by=1)
    assert projects.step_plan(project_id=pid, by=-1).note == "scene 1: 4 → 5 beats"

    # A change made from state 2 while state 2 is shown is kept; one made from a state since replaced is not.
    assert projects.save_plan(_record(pid, "from 2"), expect=2) == 3
    with pytest.raises(ConflictError, match="changed meanwhile"):
        projects.save_plan(_record(pid, "from 2 again"), expect=2)
    assert _note(projects, pid) == "from 2"

    projects.delete_plan(project_id=pid)
    assert projects.get_plan(project_id=pid) is None and projects.plan_history(project_id=pid) is None
    with pytest.raises(NotFoundError):
        projects.step_plan(project_id=pid, by=-1)


def test_the_oldest_states_go_past_the_limit(projects: ProjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_projects, "PLAN_VERSIONS_KEPT", 3)
    pid = _project(projects)
    for n in range(5):
        projects.save_plan(_record(pid, f"state {n + 1}"))
    history = projects.plan_history(project_id=pid)
    assert history is not None and (history.first, history.version, history.last) == (3, 5, 5)
    projects.step_plan(project_id=pid, by=-1)
    assert projects.step_plan(project_id=pid, by=-1).note == "state 3"
    with pytest.raises(ConflictError, match="oldest"):
        projects.step_plan(project_id=pid, by=-1)


def test_the_states_go_with_their_project(projects: ProjectStore) -> None:
    pid = _project(projects)
    projects.save_plan(_record(pid, "made"))
    projects.save_plan(_record(pid, "edited"))
    user_id = next(u.id for u in projects.list_users()
                   if any(p.id == pid for p in projects.list_projects(user_id=u.id)))
    projects.delete_project(user_id=user_id, project_id=pid)
    with pytest.raises(NotFoundError):
        projects.step_plan(project_id=pid, by=-1)
    assert projects.plan_history(project_id=pid) is None


def _fresh_postgres(url: str) -> str:
    import psycopg

    name = f"ml_ver_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.replace("/postgres?", f"/{name}?", 1)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_release_storyboard_becomes_its_version_one(kind: str, request: pytest.FixtureRequest,
                                                      tmp_path: Path) -> None:
    if kind == "sqlite":
        target: Path | str = tmp_path / "release.db"
        write_sqlite(target)
    else:
        target = _fresh_postgres(request.getfixturevalue("postgres_url"))
        write_postgres(target)
    with SQLProjectStore(target) as store:
        stored = ROWS["plans"][0]
        history = store.plan_history(project_id=stored["project_id"])
        assert history is not None
        assert (history.version, history.first, history.last, history.undo, history.redo) == (1, 1, 1, None, None)
        assert store.get_plan(project_id=stored["project_id"]) == PlanRecord.model_validate_json(stored["body"])
        assert all(p.photo_order == "capture_time" for u in store.list_users()
                   for p in store.list_projects(user_id=u.id))
        # The next change is version 2, and undo brings the release's storyboard back.
        record = PlanRecord.model_validate_json(stored["body"]).model_copy(update={"note": "edited"})
        assert store.save_plan(record) == 2
        assert store.step_plan(project_id=stored["project_id"], by=-1) == \
            PlanRecord.model_validate_json(stored["body"])
