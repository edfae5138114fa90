"""Jobs: render, re-render one scene, cancel, resume, and each job's live event stream (SSE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from fastapi import Path as PathParam
from fastapi.sse import EventSourceResponse

from api.deps import CurrentUser, Limits, Stores, UserJob, UserProject
from api.errors import error_responses, http_error
from api.job_params import JobKind, job_params
from api.ratelimit import RateLimiter
from api.schemas import JobPublic
from api.state import AppState
from api.storyboard import stale_reasons
from api.views import job_public
from shared.jobs import UNFINISHED
from shared.projects import ProjectRecord

router = APIRouter(tags=["jobs"], responses=error_responses(401, 404, 422))


def start_job(*, state: AppState, limits: RateLimiter, project: ProjectRecord, kind: JobKind,
              scene: int | None = None) -> JobPublic:
    """Snapshot what the job needs, record it, and queue it (a 429 past the user's render rate)."""
    assets = state.projects.list_assets(project_id=project.id)
    if not any(a.kind == "photo" for a in assets):
        raise http_error(409, "this project has no photos yet", hint="upload at least one photo first")
    plan = None
    product = state.projects.project_product(project_id=project.id)
    if kind != "plan":
        # A storyboard out of date (made for other photos, options or product shot) is made again.
        record = state.projects.get_plan(project_id=project.id)
        if record is not None and not stale_reasons(record=record, project=project, assets=assets,
                                                    product=product.turntable_key if product else None):
            plan = record.plan
        if kind == "render_scene":
            if plan is None:
                raise http_error(409, "this project has no storyboard to render a scene of",
                                 hint="make the storyboard first")
            if scene is None or scene >= len(plan.scenes):
                raise http_error(404, f"no scene {scene}: the storyboard has {len(plan.scenes)}")
    params = job_params(project=project, assets=assets, plan=plan, scene=scene, product=product)
    limits.take(user_id=project.user_id, action="render")
    job = state.jobs.create_job(kind=kind, params=params.model_dump(mode="json"))
    link = state.projects.link_job(job_id=job.id, project_id=project.id, kind=kind)
    state.runner.submit(job.id)
    return job_public(link=link, job=job)


@router.post("/projects/{project_id}/render", status_code=202, responses=error_responses(409, 429))
def render(project: UserProject, state: Stores, limits: Limits) -> JobPublic:
    """Start a `render` job: the storyboard as edited (or a new one, if there is none), styled, animated
    and composed into the video."""
    return start_job(state=state, limits=limits, project=project, kind="render")


@router.post("/projects/{project_id}/scenes/{index}/render", status_code=202,
             responses=error_responses(409, 429))
def render_scene(index: Annotated[int, PathParam(ge=0, le=10_000)], project: UserProject,
                 state: Stores, limits: Limits) -> JobPublic:
    """Start a `render_scene` job after changing scene `index`: only what changed is made again (that
    scene's clip and the final video); every other item is a cache hit."""
    return start_job(state=state, limits=limits, project=project, kind="render_scene", scene=index)


@router.get("/projects/{project_id}/jobs")
def list_jobs(project: UserProject, state: Stores) -> list[JobPublic]:
    """The project's jobs, newest first."""
    return [job_public(link=link, job=state.jobs.get_job(link.job_id))
            for link in state.projects.list_job_links(project_id=project.id)]


@router.get("/jobs/{job_id}")
def get_job(job: UserJob) -> JobPublic:
    link, record = job
    return job_public(link=link, job=record)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job: UserJob, state: Stores) -> JobPublic:
    """Stop the job: at once if it has not started, else as soon as its running items finish (its
    status becomes `cancelled` then). A finished job is left as it is."""
    link, record = job
    if record.status in UNFINISHED:
        state.runner.cancel(record.id)
    return job_public(link=link, job=state.jobs.get_job(record.id))


@router.post("/jobs/{job_id}/resume", status_code=202, responses=error_responses(409, 429))
def resume_job(job: UserJob, user: CurrentUser, state: Stores, limits: Limits) -> JobPublic:
    """Run a failed, cancelled or interrupted job again; what it had finished is reused."""
    link, record = job
    if record.status == "done":
        raise http_error(409, "this job is done", hint="start a new render to make the video again")
    if state.runner.is_active(record.id):
        raise http_error(409, "this job is already queued or running")
    limits.take(user_id=user.id, action="product" if record.kind == "product" else "render")
    state.jobs.set_status(record.id, status="queued")
    state.jobs.append_event(record.id, type="log", status="resumed", message="resumed; finished work is reused")
    state.runner.submit(record.id)
    return job_public(link=link, job=state.jobs.get_job(record.id))


_STREAM_DOC = ("`id: <seq>`, `event: stage|item|progress|log|done|failed`, `data: <ProgressEvent JSON>`; "
               "`: ping` comments keep it open.")


@router.get(
    "/jobs/{job_id}/events",
    response_class=Response,
    responses={200: {"description": _STREAM_DOC,
                     "content": {"text/event-stream": {"schema": {"type": "string", "format": "event-stream"}}}}},
)
async def job_events(
    job: UserJob,
    state: Stores,
    last_event_id_header: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**62)] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=2**62, description="Like the header, for clients "
                                                                           "that cannot set it.")] = None,
) -> EventSourceResponse:
    """The job's events from the start (or after `Last-Event-ID`), then live; ends after `done`/`failed`."""
    _link, record = job
    after = max(last_event_id_header or 0, last_event_id or 0)
    # The response streams pre-encoded frames from the job's shared feed (api/events.py) rather than
    # yielding one `ServerSentEvent` per event: a thousand subscribers cost one encode per event.
    stream = state.hub.stream(job_id=record.id, after=after, heartbeat=state.settings.sse_heartbeat_seconds)
    return EventSourceResponse(stream, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
