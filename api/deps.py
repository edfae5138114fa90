"""Dependencies of the routes, as `Annotated` aliases: the app's stores, the signed-in user, the rate
limits, and the records a path names, looked up for that user only (another user's id is a 404, like a
missing one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import NotSignedInError
from api.ratelimit import RateLimiter
from api.state import AppState
from shared.models.jobs import JobRecord
from shared.projects import AssetRecord, ExportRecord, JobLink, ProjectRecord, ProjectStore, UserRecord

SESSION_COOKIE = "ml_session"

_bearer = HTTPBearer(auto_error=False, description="A token from `momentloop users add NAME`.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="Set by POST /api/session.")

Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.ml
    return state


Stores = Annotated[AppState, Depends(get_state)]

SIGNED_IN = "user"
"""Where api/edges.py leaves the user it signed in (`request.state`), before any body was read."""


def find_user(projects: ProjectStore, *, token: str | None, session: str | None) -> UserRecord | None:
    """The user a bearer token (first) or a session cookie names; None when neither is valid."""
    if token:
        user = projects.user_by_token(token)
        if user is not None:
            return user
    if session:
        return projects.user_by_session(session)
    return None


def current_user(
    request: Request,
    state: Stores,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_cookie)],
) -> UserRecord:
    signed_in = getattr(request.state, SIGNED_IN, None)
    if isinstance(signed_in, UserRecord):
        return signed_in
    user = find_user(state.projects, token=bearer.credentials if bearer else None, session=session)
    if user is None:
        raise NotSignedInError()
    return user


CurrentUser = Annotated[UserRecord, Depends(current_user)]


def optional_user(
    state: Stores,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_cookie)],
) -> UserRecord | None:
    """The signed-in user, or None: for the one route that answers either way (GET /api/session)."""
    return find_user(state.projects, token=bearer.credentials if bearer else None, session=session)


OptionalUser = Annotated[UserRecord | None, Depends(optional_user)]


def user_project(project_id: Id, user: CurrentUser, state: Stores) -> ProjectRecord:
    return state.projects.get_project(user_id=user.id, project_id=project_id)


UserProject = Annotated[ProjectRecord, Depends(user_project)]


def user_asset(asset_id: Id, user: CurrentUser, state: Stores) -> AssetRecord:
    return state.projects.get_asset(user_id=user.id, asset_id=asset_id)


UserAsset = Annotated[AssetRecord, Depends(user_asset)]


def user_job(job_id: Id, user: CurrentUser, state: Stores) -> tuple[JobLink, JobRecord]:
    link = state.projects.get_job_link(user_id=user.id, job_id=job_id)
    return link, state.jobs.get_job(job_id)


UserJob = Annotated[tuple[JobLink, JobRecord], Depends(user_job)]


def user_export(export_id: Id, user: CurrentUser, state: Stores) -> ExportRecord:
    return state.projects.get_export(user_id=user.id, export_id=export_id)


UserExport = Annotated[ExportRecord, Depends(user_export)]


def get_limits(request: Request) -> RateLimiter:
    limits: RateLimiter = request.app.state.limits
    return limits


Limits = Annotated[RateLimiter, Depends(get_limits)]
