"""The storyboard: made by a job, then edited scene by scene and re-laid on the beat grid."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from api.deps import Limits, Stores, UserProject
from api.errors import error_responses, http_error
from api.routes.jobs import start_job
from api.schemas import JobPublic, PlanPublic, SceneOrder, SceneUpdate
from api.state import AppState
from api.storyboard import edit_scene, plan_public, reorder_scenes
from shared.models import ScenePlan
from shared.projects import PlanRecord, ProjectRecord

router = APIRouter(tags=["plan"], responses=error_responses(401, 404, 422))

# Edits are read-modify-write of one record: one at a time per project.
_edit_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

SceneIndex = Annotated[int, PathParam(ge=0, le=10_000)]


def _stored(state: AppState, project: ProjectRecord) -> PlanRecord:
    record = state.projects.get_plan(project_id=project.id)
    if record is None:
        raise http_error(404, "this project has no storyboard yet", hint="POST /api/projects/{id}/plan makes one")
    return record


def _public(state: AppState, project: ProjectRecord, record: PlanRecord) -> PlanPublic:
    live = {a.id for a in state.projects.list_assets(project_id=project.id)}
    return plan_public(record=record, look=project.look, live_assets=live)


@router.post("/projects/{project_id}/plan", status_code=202, responses=error_responses(409, 429))
def make_plan(project: UserProject, state: Stores, limits: Limits) -> JobPublic:
    """Start a `plan` job (analysis and planning); follow it on its event stream."""
    return start_job(state=state, limits=limits, project=project, kind="plan")


@router.get("/projects/{project_id}/plan")
def get_plan(project: UserProject, state: Stores) -> PlanPublic:
    return _public(state, project, _stored(state, project))


def _save(state: AppState, record: PlanRecord, plan: ScenePlan) -> PlanRecord:
    updated = record.model_copy(update={"plan": plan})
    state.projects.save_plan(updated)
    state.projects.touch_project(project_id=record.project_id)
    return updated


@router.patch("/projects/{project_id}/plan/scenes/{index}", responses=error_responses(409))
def update_scene(body: SceneUpdate, index: SceneIndex, project: UserProject, state: Stores) -> PlanPublic:
    """Change one scene (length in beats, camera move, transition, prompt); the scenes are re-laid."""
    with _edit_locks[project.id]:
        record = _stored(state, project)
        if index >= len(record.plan.scenes):
            raise http_error(404, f"no scene {index}: the storyboard has {len(record.plan.scenes)} "
                                  f"(indexes 0 to {len(record.plan.scenes) - 1})")
        record = _save(state, record, edit_scene(plan=record.plan, index=index, update=body))
    return _public(state, project, record)


@router.put("/projects/{project_id}/plan/order", responses=error_responses(409))
def reorder_plan(body: SceneOrder, project: UserProject, state: Stores) -> PlanPublic:
    """Put the scenes in a new order (every index once); each keeps its length in beats."""
    with _edit_locks[project.id]:
        record = _stored(state, project)
        record = _save(state, record, reorder_scenes(plan=record.plan, order=body.order))
    return _public(state, project, record)
