"""What every request meets before a route, and every answer on its way out (pure ASGI middleware, so
event streams and file bodies pass through untouched).

- `RequestGate`: an `/api/` request is signed in before a byte of its body is read (401 otherwise; only
  signing in and out need no user), and no body is read past its cap: `max_json_bytes` for JSON and
  anything else, the upload limit for multipart uploads. A body declared bigger is answered 413 at
  once; one streamed past the cap is cut off there (413). FastAPI reads a JSON body whole before the
  route's dependencies run, so neither check could live in a dependency.
- `SecurityHeaders`: a Content-Security-Policy that allows only this origin, no framing, no MIME
  sniffing and no Referer, on every answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import SESSION_COOKIE, SIGNED_IN, find_user
from api.errors import NotSignedInError, http_error, json_error
from api.settings import ServerSettings
from api.uploads import FORM_OVERHEAD
from shared.projects import ProjectStore, UserRecord

PUBLIC_API = frozenset({("GET", "/api/session"), ("POST", "/api/session"), ("DELETE", "/api/session")})
"""The `/api/` routes that need no user: asking whether one is signed in (a 401 there would be logged as an
error by the browser of everyone who opens the page signed out), signing in, and signing out (which works
with a dead session)."""

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
"""Only this origin; `data:` images for the page's icon, which is inline in index.html."""
DOCS_CSP = "frame-ancestors 'none'"
"""FastAPI's /docs and /redoc pages load their script from a CDN and start it inline: they are only kept
out of frames."""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Referrer-Policy": "no-referrer",
}


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


class HTTPMiddleware:
    """A pure ASGI middleware that acts on HTTP requests (`http`) and lets everything else (lifespan,
    websockets) through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestGate(HTTPMiddleware):
    def __init__(self, app: ASGIApp, *, settings: ServerSettings, projects: ProjectStore) -> None:
        super().__init__(app)
        self.settings = settings
        self.projects = projects

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        has_body = (declared or 0) > 0 or "chunked" in headers.get("transfer-encoding", "").lower()
        # A refused request's body is never read: closing the connection spares both sides the rest of it.
        closing = {"Connection": "close"} if has_body else {}
        path: str = scope["path"]
        if path.startswith("/api/") and (scope["method"], path) not in PUBLIC_API:
            user = await self._sign_in(headers)
            if user is None:
                await NotSignedInError().response(headers=closing)(scope, receive, send)
                return
            scope.setdefault("state", {})[SIGNED_IN] = user
        if not has_body:
            await self.app(scope, receive, send)
            return
        upload = headers.get("content-type", "").lower().startswith("multipart/form-data")
        cap = self.settings.max_upload_bytes + FORM_OVERHEAD if upload else self.settings.max_json_bytes
        if declared is not None and declared > cap:
            await json_error(413, f"the request body is over the {_mib(cap)} limit ({_mib(declared)} sent)",
                             hint=_hint(upload), headers=closing)(scope, receive, send)
            return
        await self.app(scope, _capped(receive, cap=cap, upload=upload), send)

    async def _sign_in(self, headers: Headers) -> UserRecord | None:
        scheme, token = get_authorization_scheme_param(headers.get("authorization"))
        session = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        bearer = token if scheme.lower() == "bearer" else None
        if not bearer and not session:
            return None
        return await run_in_threadpool(find_user, self.projects, token=bearer, session=session)


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


def _hint(upload: bool) -> str:
    return ("send one photo or song per upload" if upload
            else "send the fields this route takes; files go to the upload route")


def _capped(receive: Receive, *, cap: int, upload: bool) -> Callable[[], Awaitable[Message]]:
    """`receive` that refuses (HTTPException 413, which FastAPI's body reading lets through to the
    error handlers) the chunk that would take the body past `cap`; nothing past it is ever read."""
    total = 0

    async def capped() -> Message:
        nonlocal total
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > cap:
                raise http_error(413, f"the request body is over the {_mib(cap)} limit", hint=_hint(upload),
                                 headers={"Connection": "close"})
        return message

    return capped


class SecurityHeaders(HTTPMiddleware):
    def __init__(self, app: ASGIApp, *, docs_paths: frozenset[str]) -> None:
        super().__init__(app)
        self.docs_paths = docs_paths

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        csp = DOCS_CSP if scope["path"] in self.docs_paths else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", csp)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
