"""A tiny threaded HTTP server for fake cloud providers: routes, recorded requests, scripted failures,
and a count of requests in flight (for concurrency limits).

A provider's fake subclasses `FakeServer`, declares its routes and answers in that provider's real JSON
shapes; a test scripts what goes wrong with `fail(route, ...)` and reads what the SDK really sent from
`requests`."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    route: str = ""
    started: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, tuple[str | None, bytes]]:
        """Fields of a multipart/form-data body: name -> (file name or None, raw bytes)."""
        ctype = self.headers.get("content-type", "")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + self.body
        )
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_param("filename", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = (str(filename) if filename else None, payload)
        return fields


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status=status, body=json.dumps(obj).encode(),
                   headers={"Content-Type": "application/json", **(headers or {})})


@dataclass
class Failure:
    """One scripted failure: `kind` is "429", "500", "503", "timeout", "refuse", "malformed", "not_video",
    "bad_input" or "failed" (what the last four mean is the provider's to say)."""

    kind: str
    retry_after: str | None = None


Handler = Callable[[Request, "re.Match[str]"], Response]


@dataclass
class Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True


class FakeServer:
    """Base of the fakes. Subclasses call `route(...)` in `__init__` and implement `authorised` and
    `failure_response` in their provider's formats."""

    hang_seconds = 3.0
    """How long a "timeout" failure keeps the client waiting (longer than the tests' client timeout)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[Request] = []
        self.failures: dict[str, deque[Failure]] = {}
        self.delays: dict[str, float] = {}
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ set-up

    def route(self, name: str, method: str, pattern: str, handler: Handler, *, auth: bool = True) -> None:
        self.routes.append(Route(name, method, re.compile(pattern + r"$"), handler, auth))

    def fail(self, route: str, *kinds: str | Failure) -> None:
        """The next calls to `route` fail in these ways, in order; later calls succeed."""
        queue = self.failures.setdefault(route, deque())
        for kind in kinds:
            queue.append(kind if isinstance(kind, Failure) else Failure(kind))

    def delay(self, route: str, seconds: float) -> None:
        """Every call to `route` takes at least this long (to make calls overlap)."""
        self.delays[route] = seconds

    # ------------------------------------------------------------ reading back

    def calls(self, route: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.route == route]

    def count(self, route: str) -> int:
        return len(self.calls(route))

    # ------------------------------------------------------------ provider formats (subclasses)

    def authorised(self, request: Request) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Response:
        return Response.json({"error": {"message": "bad key"}}, status=401)

    def failure_response(self, failure: Failure, request: Request, route: Route) -> Response | None:
        """The provider's answer for `failure`; None means "answer normally" (the handler deals with it)."""
        if failure.kind in ("429", "500", "502", "503"):
            headers = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
            return Response.json({"error": {"code": int(failure.kind), "message": "try again later"}},
                                 status=int(failure.kind), headers=headers)
        if failure.kind == "malformed":
            return Response(status=200, body=b'{"candidates": [ {"content": ', headers={
                "Content-Type": "application/json"})
        return None

    # ------------------------------------------------------------ serving

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(method=self.command, path=parts.path, query=parse_qs(parts.query),
                                  headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                                  started=time.monotonic())
                response = server.dispatch(request)
                try:
                    self.send_response(response.status)
                    for k, v in response.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = do_PUT = _serve

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dispatch(self, request: Request) -> Response:
        for route in self.routes:
            if route.method != request.method:
                continue
            match = route.pattern.match(request.path)
            if match is None:
                continue
            request.route = route.name
            with self.lock:
                self.requests.append(request)
                self.in_flight[route.name] = self.in_flight.get(route.name, 0) + 1
                self.max_in_flight[route.name] = max(self.max_in_flight.get(route.name, 0),
                                                     self.in_flight[route.name])
            try:
                return self._answer(route=route, request=request, match=match)
            except Exception as exc:  # a bug in a fake answers 500 with its reason, as a real server would
                self.errors.append(f"{route.name}: {exc.__class__.__name__}: {exc}")
                return Response.json({"error": {"message": f"fake failed: {exc}"}}, status=500)
            finally:
                with self.lock:
                    self.in_flight[route.name] -= 1
        return Response.json({"error": {"message": f"no route for {request.method} {request.path}"}}, status=404)

    def _answer(self, *, route: Route, request: Request, match: re.Match[str]) -> Response:
        if route.auth and not self.authorised(request):
            return self.unauthorised()
        delay = self.delays.get(route.name, 0.0)
        if delay:
            time.sleep(delay)
        with self.lock:
            queue = self.failures.get(route.name)
            failure = queue.popleft() if queue else None
        if failure is not None and failure.kind == "timeout":
            time.sleep(self.hang_seconds)
            return Response.json({"error": {"message": "too late"}}, status=504)
        if failure is not None:
            answer = self.failure_response(failure, request, route)
            if answer is not None:
                return answer
            request.headers["x-fake-failure"] = failure.kind
        return route.handler(request, match)


class GenerationServer(FakeServer):
    """A fake of a provider that generates asynchronously: its key, long-running generations that finish after
    `polls_before_done` polls (numbered by `next_id`, kept under `generation_lock`), and the planner's
    answers a test queues (`plan_answers`; a default proposal when none is left)."""

    def __init__(self, *, key: str, polls_before_done: int) -> None:
        super().__init__()
        self.key = key
        self.polls_before_done = polls_before_done
        self.plan_answers: deque[str] = deque()
        self.generation_lock = threading.Lock()
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)
