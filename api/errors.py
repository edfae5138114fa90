"""Errors as the API answers them: `{"detail": "<one line>", "hint": "<optional>"}` with a 4xx status.

Routes raise `HTTPException` (made by `http_error`); the stores and dependencies raise their own error
families, which the handlers here map to a status. Anything else is a bug: a 500 with a one-line detail
(its traceback goes to the log, never to the client)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect

from api.ratelimit import RateLimitedError
from shared.errors import InputError, MomentLoopError
from shared.projects import ConflictError, NotFoundError

log = logging.getLogger(__name__)


class NotSignedInError(MomentLoopError):
    """No valid bearer token or session cookie came with the request."""

    def __init__(self) -> None:
        super().__init__("sign in first: send `Authorization: Bearer <token>` or sign in on the web page",
                         hint="`momentloop users add NAME` prints a token")

    def response(self, *, headers: dict[str, str] | None = None) -> JSONResponse:
        """The 401 (also sent by api/edges.py, before any route runs)."""
        return JSONResponse(_body(str(self), self.hint or None), status_code=401,
                            headers={"WWW-Authenticate": "Bearer", **(headers or {})})


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers a route can give."""
    from api.schemas import ErrorPublic

    return {code: {"model": ErrorPublic} for code in codes}


def http_error(status: int, detail: str, *, hint: str | None = None,
               headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"detail": detail, "hint": hint}, headers=headers)


def _body(detail: str, hint: str | None = None) -> dict[str, Any]:
    return {"detail": detail, "hint": hint}


def json_error(status: int, detail: str, *, hint: str | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    """An error answer made outside a route (api/edges.py), in the same shape as the handlers' answers."""
    return JSONResponse(_body(_one_line(detail), hint), status_code=status, headers=headers)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_validation(exc: RequestValidationError) -> str:
    """Pydantic's error list as one line: `body.fps: Input should be less than or equal to 60; ...`."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            msg = f"the body is not valid JSON ({ctx.get('error', 'cannot parse')})"
            loc = "body"
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - 5
    return _one_line("; ".join(parts) + (f" (+{more} more)" if more > 0 else ""))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "detail" in exc.detail:
            body = _body(_one_line(exc.detail["detail"]), exc.detail.get("hint"))
        else:
            body = _body(_one_line(str(exc.detail)))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(_body(describe_validation(exc), "see /docs for what this route takes"),
                            status_code=422)

    @app.exception_handler(NotSignedInError)
    async def _unauthorised(request: Request, exc: NotSignedInError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RateLimitedError)
    async def _too_many(request: Request, exc: RateLimitedError) -> JSONResponse:
        return JSONResponse(_body(str(exc), exc.hint or None), status_code=429,
                            headers={"Retry-After": str(exc.retry_seconds)})

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # A closed tab or a dropped connection mid-upload: the client's doing, not a fault here. Whatever
        # was received is already discarded (api/uploads.py); nobody is left to read this answer.
        log.info("%s %s: the client went away before its request body was complete",
                 request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(NotFoundError)
    async def _not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(_body(str(exc)), status_code=404)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> JSONResponse:
        return JSONResponse(_body(_one_line(str(exc)), exc.hint or None), status_code=409)

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(_body(_one_line(str(exc)), exc.hint or None), status_code=422)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body(f"internal error ({exc.__class__.__name__})",
                                  "this is a bug in MomentLoop; please report it"), status_code=500)
