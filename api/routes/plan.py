"""The storyboard: made by a job, then edited scene by scene and re-laid on the beat grid. Every state is
kept (undo, redo); a change of photos or options marks it out of date instead of discarding it."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from api.deps import Limits, Stores, UserProject
from api.errors import error_responses, http_error
from api.routes.jobs import start_job
from api.schemas import JobPublic, PlanPublic, SceneOrder, SceneUpdate, WaveformPublic
from api.state import AppState
from api.storyboard import edit_record, plan_public, prompt_readers, reorder_record, stale_reasons
from shared.projects import PlanRecord, ProjectRecord

router = APIRouter(tags=["plan"], responses=error_responses(401, 404, 422))

# Edits are read-modify-write of one record: one at a time per project (across replicas, `expect` below
# refuses an edit made from a state another one has replaced meanwhile).
_edit_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

SceneIndex = Annotated[int, PathParam(ge=0, le=10_000)]
Preview = Annotated[bool, Query(description="Answer what the edit would make, and store nothing.")]


def _stored(state: AppState, project: ProjectRecord) -> PlanRecord:
    record = state.projects.get_plan(project_id=project.id)
    if record is None:
        raise http_error(404, "this project has no storyboard yet", hint="POST /api/projects/{id}/plan makes one")
    return record


def plan_view(*, state: AppState, project: ProjectRecord, record: PlanRecord) -> PlanPublic:
    """`record` as the page shows it: in the project's look, whether it still fits the project (and what
    changed if not), where it stands in its history, and who reads its prompts."""
    assets = state.projects.list_assets(project_id=project.id)
    product = state.projects.project_product(project_id=project.id)
    return plan_public(
        record=record, look=project.look, live_assets={a.id for a in assets},
        history=state.projects.plan_history(project_id=project.id),
        stale=stale_reasons(record=record, project=project, assets=assets,
                            product=product.turntable_key if product else None),
        readers=prompt_readers(state.settings.clip_provider))


@router.post("/projects/{project_id}/plan", status_code=202, responses=error_responses(409, 429))
def make_plan(project: UserProject, state: Stores, limits: Limits) -> JobPublic:
    """Start a `plan` job (analysis and planning); follow it on its event stream. The storyboard it makes
    takes over every edit of the one before that still applies (by photo), and says which could not."""
    return start_job(state=state, limits=limits, project=project, kind="plan")


@router.get("/projects/{project_id}/plan")
def get_plan(project: UserProject, state: Stores) -> PlanPublic:
    """The storyboard; before the first one, an empty one (no scenes, version 0), not a 404: a project
    without a storyboard yet is not an error (the page asks on every open)."""
    record = state.projects.get_plan(project_id=project.id)
    if record is None:
        return PlanPublic(duration=0, tempo=0, music_offset=0, beats=[], downbeats=[],
                          waveform=WaveformPublic(duration=0, peaks=[]), scenes=[], version=0,
                          note="no storyboard yet", can_undo=False, can_redo=False, undo=None, redo=None,
                          current=True, stale=[], carried=[],
                          prompt_readers=prompt_readers(state.settings.clip_provider))
    return plan_view(state=state, project=project, record=record)


def _save(state: AppState, project: ProjectRecord, record: PlanRecord, *, made_from: int) -> None:
    state.projects.save_plan(record.model_copy(update={"updated_at": datetime.now(UTC)}), expect=made_from)
    state.projects.touch_project(project_id=project.id)


def _shown_version(state: AppState, project: ProjectRecord) -> int:
    history = state.projects.plan_history(project_id=project.id)
    return history.version if history else 0


@router.patch("/projects/{project_id}/plan/scenes/{index}", responses=error_responses(409))
def update_scene(body: SceneUpdate, index: SceneIndex, project: UserProject, state: Stores,
                 preview: Preview = False) -> PlanPublic:
    """Change one scene (length in beats, camera move, transition, prompt); the scenes are re-laid, and
    `note` says what the change did elsewhere (which scene gave or took the beats). `?preview=true`:
    the same answer, nothing stored."""
    with _edit_locks[project.id]:
        record = _stored(state, project)
        if index >= len(record.plan.scenes):
            raise http_error(404, f"no scene {index}: the storyboard has {len(record.plan.scenes)} "
                                  f"(indexes 0 to {len(record.plan.scenes) - 1})")
        made_from = _shown_version(state, project)
        edited = edit_record(record=record, index=index, update=body, look=project.look)
        if preview:
            return plan_view(state=state, project=project, record=edited)
        _save(state, project, edited, made_from=made_from)
    return plan_view(state=state, project=project, record=_stored(state, project))


@router.put("/projects/{project_id}/plan/order", responses=error_responses(409))
def reorder_plan(body: SceneOrder, project: UserProject, state: Stores) -> PlanPublic:
    """Put the scenes in a new order (every index once); each keeps its length in beats and its edits."""
    with _edit_locks[project.id]:
        record = _stored(state, project)
        made_from = _shown_version(state, project)
        _save(state, project, reorder_record(record=record, order=body.order), made_from=made_from)
    return plan_view(state=state, project=project, record=_stored(state, project))


@router.post("/projects/{project_id}/plan/undo", responses=error_responses(409))
def undo_plan(project: UserProject, state: Stores) -> PlanPublic:
    """Show the storyboard as it was before its last change (an edit, a reorder or a re-plan); 409 at the
    oldest state kept."""
    with _edit_locks[project.id]:
        _stored(state, project)
        record = state.projects.step_plan(project_id=project.id, by=-1)
    return plan_view(state=state, project=project, record=record)


@router.post("/projects/{project_id}/plan/redo", responses=error_responses(409))
def redo_plan(project: UserProject, state: Stores) -> PlanPublic:
    """Bring back the change undo took back; 409 when nothing was undone (or a new change came since)."""
    with _edit_locks[project.id]:
        _stored(state, project)
        record = state.projects.step_plan(project_id=project.id, by=1)
    return plan_view(state=state, project=project, record=record)
