"""What every request meets before a route and every answer carries, over real HTTP: sign-in checked
before a body is read, bodies capped (and what a 40 MB body costs the server), a client that goes away
mid-upload logged as one line, the security headers, and a session cookie that is Secure over HTTPS."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.settings import ServerSettings
from shared.settings import ScaleSettings
from tests.api.conftest import Api, LiveServer, free_port
from tests.api.conftest import test_settings as settings_for_tests
from tests.api.rawhttp import answer, connect

MIB = 1024 * 1024
BIG = 40 * MIB


# ---------------------------------------------------------------- raw HTTP on a socket


def _head(url: str, path: str, *, length: int | None, token: str | None = None,
          content_type: str = "application/json") -> bytes:
    host = url.removeprefix("http://")
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: {content_type}\r\n"
            f"{framing}\r\n\r\n").encode()


# ---------------------------------------------------------------- sign-in first, bodies capped


def test_a_body_is_not_read_before_sign_in(live: LiveServer) -> None:
    # Only the request's head is sent: the answer must come without the server waiting for 40 MB.
    for token in (None, "not-a-token"):
        with connect(live.url) as sock:
            sock.sendall(_head(live.url, "/api/projects", length=BIG, token=token))
            status, headers, body = answer(sock)
        assert status == 401
        assert headers["www-authenticate"] == "Bearer" and headers["connection"] == "close"
        assert json.loads(body)["detail"].startswith("sign in first")


def test_json_bodies_past_the_cap_are_refused_unread(api: Api, live: LiveServer) -> None:
    cap = live.settings.max_json_bytes
    # Declared too big: refused from the head alone.
    with connect(live.url) as sock:
        sock.sendall(_head(live.url, "/api/projects", length=2 * cap, token=api.token))
        status, headers, body = answer(sock)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["detail"] == "the request body is over the 1 MiB limit (2 MiB sent)"

    # Streamed without a length: cut off once past the cap, while the client has most of 40 MB to send.
    chunk = b" " * (64 * 1024)
    sent, status = 0, None
    with connect(live.url) as sock:
        sock.sendall(_head(live.url, "/api/projects", length=None, token=api.token) + b'1\r\n{\r\n')
        sock.settimeout(0.05)
        while sent < BIG and status is None:
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            with suppress(TimeoutError):
                status, _, body = answer(sock)
        sock.settimeout(10)
        if status is None:
            status, _, body = answer(sock)
    assert status == 413, body
    assert json.loads(body)["detail"] == "the request body is over the 1 MiB limit"
    assert sent < 4 * cap, f"the client got to send {sent / MIB:.1f} MiB before the answer"

    # Under the cap a body is read and judged as before; signing in (no user needed) is capped too.
    r = api.http.post("/api/projects", json={"name": "x" * (cap // 2)})
    assert r.status_code == 422 and "name" in r.json()["detail"]
    with connect(live.url) as sock:
        sock.sendall(_head(live.url, "/api/session", length=2 * cap))
        assert answer(sock)[0] == 413
    assert api.http.get("/api/projects").status_code == 200


def _peak_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) * 1024  # type: ignore[index]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
def test_a_40_mb_body_costs_the_server_no_memory(tmp_path: Path) -> None:
    """`momentloop serve` in its own process, its peak resident memory read before and after."""
    root = Path(__file__).resolve().parents[2]
    exe = shutil.which("momentloop", path=str(Path(sys.executable).parent))
    cli = [exe] if exe else [sys.executable, "-m", "api.cli"]
    env = {**os.environ, "MOMENTLOOP_DATA_DIR": str(tmp_path)}
    added = subprocess.run([*cli, "users", "add", "big"], capture_output=True, text=True, env=env, cwd=root,
                           timeout=60, check=True)
    token = added.stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/", timeout=2).close()
                break
            except (urllib.error.URLError, OSError):
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        body = b'{"name": "' + b"x" * BIG + b'"}'
        before = _peak_rss(proc.pid)
        grown, answers = {}, {}
        for who, auth in (("without a token", {}), ("signed in", {"Authorization": f"Bearer {token}"})):
            r = httpx.post(f"{url}/api/projects", content=body, timeout=60,
                           headers={"Content-Type": "application/json", **auth})
            answers[who] = r.status_code
            grown[who] = round((_peak_rss(proc.pid) - before) / MIB, 1)
        assert all(g < 8 for g in grown.values()), f"peak memory grew by {grown} MiB"
        assert answers == {"without a token": 401, "signed in": 413}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ---------------------------------------------------------------- a client that goes away


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _logged() -> Iterator[list[logging.LogRecord]]:
    """Every record the server logs meanwhile: the app's and uvicorn's (whose loggers do not propagate)."""
    handler = _Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    app_logger = logging.getLogger("api")
    level = app_logger.level
    app_logger.setLevel(logging.INFO)
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
        app_logger.setLevel(level)


def test_a_client_gone_mid_upload_is_one_info_line(api: Api, live: LiveServer, good_photos: list[Path]) -> None:
    pid = api.project()["id"]
    path = f"/api/projects/{pid}/assets"
    boundary = uuid.uuid4().hex
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode()
    body = part + good_photos[0].read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    with _logged() as records:
        with connect(live.url) as sock:
            sock.sendall(_head(live.url, path, length=len(body), token=api.token,
                               content_type=f"multipart/form-data; boundary={boundary}"))
            sock.sendall(body[: len(body) // 2])
            time.sleep(0.3)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(path in r.getMessage() for r in records):
            time.sleep(0.05)
        time.sleep(0.3)  # anything the server would log after its answer
    about = [r for r in records if path in r.getMessage() or r.exc_info or r.levelno >= logging.ERROR]
    assert [(r.levelname, r.getMessage()) for r in about] == [
        ("INFO", f"POST {path}: the client went away before its request body was complete")]
    assert not any(live.settings.uploads_dir.iterdir()), "the half-received file was removed"
    assert api.http.get(f"/api/projects/{pid}/assets").json() == []


# ---------------------------------------------------------------- security headers


def test_every_answer_carries_the_security_headers(api: Api, live: LiveServer) -> None:
    anonymous = live.client()
    answers = {
        "the page": anonymous.get("/"),
        "a script": anonymous.get("/js/app.js"),
        "the API": api.http.get("/api/me"),
        "not signed in": anonymous.get("/api/me"),
        "a missing id": api.http.get("/api/projects/nope"),
        "a validation error": api.http.post("/api/projects", json={"name": ""}),
        "the health probe": anonymous.get("/healthz"),
        "the schema": anonymous.get("/openapi.json"),
    }
    for what, r in answers.items():
        csp = r.headers.get("content-security-policy", "")
        directives = dict([*d.strip().split(" ", 1), ""][:2] for d in csp.split(";") if d.strip())
        assert directives.get("default-src") == "'self'", (what, csp)
        assert directives.get("frame-ancestors") == "'none'", (what, csp)
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp, (what, csp)
        assert r.headers.get("x-content-type-options") == "nosniff", what
        assert r.headers.get("x-frame-options") == "DENY", what
        assert r.headers.get("referrer-policy") == "no-referrer", what
    # FastAPI's own docs page runs an inline script from a CDN: it may not be framed, and no more.
    docs = anonymous.get("/docs")
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == "frame-ancestors 'none'"
    anonymous.close()


# ---------------------------------------------------------------- the session cookie over HTTPS


def _cookie(url: str, token: str, **headers: str) -> str:
    r = httpx.post(f"{url}/api/session", json={"token": token}, headers=headers, timeout=30)
    assert r.status_code == 204, r.text
    return r.headers["set-cookie"]


@contextmanager
def _behind_no_proxy_handling(settings: ServerSettings) -> Iterator[LiveServer]:
    """The app served the way Modal serves it: no uvicorn proxy-header handling of its own."""
    app = create_app(settings=settings, scale=ScaleSettings(store="local", database_url=None))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           proxy_headers=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", state=app.state.ml, settings=settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_the_session_cookie_is_secure_over_https(live: LiveServer, tmp_path: Path) -> None:
    token = live.add_user()
    assert "secure" not in _cookie(live.url, token).lower(), "plain HTTP: a Secure cookie would never come back"
    # `momentloop serve` (uvicorn) believes a proxy on this machine about the scheme it was reached by.
    assert "; secure" in _cookie(live.url, token, **{"X-Forwarded-Proto": "https"}).lower()

    # Served without uvicorn's proxy handling (as on Modal), the header is believed only when configured.
    for trusted, secure in ((None, False), ("127.0.0.1", True)):
        settings = settings_for_tests(tmp_path / f"data-{trusted}")
        settings.forwarded_allow_ips = trusted
        with _behind_no_proxy_handling(settings) as server:
            token = server.add_user()
            cookie = _cookie(server.url, token, **{"X-Forwarded-Proto": "https"})
            assert ("; secure" in cookie.lower()) is secure, (trusted, cookie)
