"""Signing in and out of the web page, and who is signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response

from api.deps import SESSION_COOKIE, CurrentUser, OptionalUser, Stores
from api.errors import error_responses, http_error
from api.schemas import MePublic, SessionCreate, SessionPublic
from api.state import AppState

router = APIRouter(tags=["session"], responses=error_responses(422))

SESSION_DAYS = 30


def _secure(request: Request, state: AppState) -> bool:
    """Secure when asked to always be, or when the browser came over HTTPS: the scheme is the connection's,
    or what a trusted proxy's X-Forwarded-Proto says (uvicorn's proxy headers, or `forwarded_allow_ips`)."""
    return state.settings.cookie_secure or request.url.scheme == "https"


@router.get("/session")
def session_state(user: OptionalUser) -> SessionPublic:
    """Whether a session (or token) is signed in: 200 either way, so the page can ask on every open without
    the browser logging a 401 as an error."""
    return SessionPublic(signed_in=user is not None, name=user.name if user is not None else None)


@router.post("/session", status_code=204, responses=error_responses(401))
def sign_in(body: SessionCreate, request: Request, state: Stores, response: Response) -> None:
    """Trade a token for the HttpOnly `ml_session` cookie the web page uses from then on."""
    user = state.projects.user_by_token(body.token)
    if user is None:
        raise http_error(401, "that token is not valid", hint="`momentloop users add NAME` prints a new one")
    session = state.projects.create_session(user_id=user.id)
    response.set_cookie(SESSION_COOKIE, session, max_age=SESSION_DAYS * 86400, path="/", httponly=True,
                        samesite="strict", secure=_secure(request, state))


@router.delete("/session", status_code=204)
def sign_out(request: Request, state: Stores, response: Response,
             ml_session: Annotated[str | None, Cookie(max_length=500)] = None) -> None:
    """Forget this browser's session (works whether or not it is still valid)."""
    if ml_session:
        state.projects.delete_session(ml_session)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_secure(request, state))


@router.get("/me", responses=error_responses(401))
def me(user: CurrentUser) -> MePublic:
    return MePublic(name=user.name)
