"""Projects: create, list, read, change, delete."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, Stores, UserProject
from api.errors import error_responses
from api.schemas import ProjectCreate, ProjectPublic, ProjectUpdate
from api.views import project_public
from shared.jobs import UNFINISHED

router = APIRouter(tags=["projects"], responses=error_responses(401, 422))

_FIELDS = {"order": "photo_order"}
"""ProjectUpdate's names that the store calls otherwise."""


@router.post("/projects", status_code=201)
def create_project(body: ProjectCreate, user: CurrentUser, state: Stores) -> ProjectPublic:
    project = state.projects.create_project(user_id=user.id, name=body.name, look=body.look, aspect=body.aspect,
                                            duration=body.duration, fps=body.fps)
    return project_public(project=project, projects=state.projects, assets=[])


@router.get("/projects")
def list_projects(user: CurrentUser, state: Stores) -> list[ProjectPublic]:
    """The user's projects, newest first."""
    return [project_public(project=p, projects=state.projects) for p in state.projects.list_projects(user_id=user.id)]


@router.get("/projects/{project_id}", responses=error_responses(404))
def get_project(project: UserProject, state: Stores) -> ProjectPublic:
    return project_public(project=project, projects=state.projects)


@router.patch("/projects/{project_id}", responses=error_responses(404))
def update_project(body: ProjectUpdate, project: UserProject, user: CurrentUser, state: Stores) -> ProjectPublic:
    """A new aspect, length, frame rate or photo order makes the storyboard out of date (GET .../plan says
    so, and what changed); it is kept, with its edits, until a new one is made. A new look restyles it."""
    asked = {_FIELDS.get(k, k): v for k, v in body.model_dump(exclude_unset=True).items()}
    changes = {k: v for k, v in asked.items() if getattr(project, k) != v}
    if not changes:
        return project_public(project=project, projects=state.projects)
    updated = state.projects.update_project(user_id=user.id, project_id=project.id, changes=changes)
    return project_public(project=updated, projects=state.projects)


@router.delete("/projects/{project_id}", status_code=204, responses=error_responses(404))
def delete_project(project: UserProject, user: CurrentUser, state: Stores) -> None:
    """The project, its assets, storyboard, jobs and exports. Its running jobs are cancelled first."""
    for link in state.projects.list_job_links(project_id=project.id):
        if state.jobs.get_job(link.job_id).status in UNFINISHED:
            state.runner.cancel(link.job_id)
    state.projects.delete_project(user_id=user.id, project_id=project.id)
