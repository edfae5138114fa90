"""Signing in (bearer token, session cookie, `momentloop users add`) and the project routes, over HTTP
against the real app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.api.conftest import Api, LiveServer

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_every_api_route_needs_a_user(live: LiveServer) -> None:
    with live.client() as anon, live.client("ml_not-a-real-token") as forged:
        for client in (anon, forged):
            for method, path in [("GET", "/api/me"), ("GET", "/api/projects"), ("POST", "/api/projects"),
                                 ("GET", "/api/styles"), ("GET", "/api/jobs/abc"), ("GET", "/api/jobs/abc/events")]:
                r = client.request(method, path, json={"name": "x"} if method == "POST" else None)
                assert r.status_code == 401, (method, path, r.text)
                assert r.headers["www-authenticate"] == "Bearer"
                body = r.json()
                assert "sign in" in body["detail"] and "\n" not in body["detail"]
                assert "users add" in body["hint"]
        # What needs no user: the schema, the docs and the page itself.
        assert anon.get("/openapi.json").status_code == 200
        assert anon.get("/docs").status_code == 200
        page = anon.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


def test_session_cookie_signs_in_and_out(live: LiveServer) -> None:
    token = live.add_user("cookie-user")
    with live.client() as browser:
        # What the page asks on every open: 200 either way, never a 401 for the console to log.
        assert browser.get("/api/session").json() == {"signed_in": False, "name": None}
        bad = browser.post("/api/session", json={"token": "ml_wrong"})
        assert bad.status_code == 401 and "not valid" in bad.json()["detail"]
        r = browser.post("/api/session", json={"token": token})
        assert r.status_code == 204
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("ml_session=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert token not in cookie, "the cookie is a session of its own, not the token"
        assert browser.get("/api/me").json() == {"name": "cookie-user"}
        assert browser.get("/api/session").json() == {"signed_in": True, "name": "cookie-user"}
        session = browser.cookies["ml_session"]

        assert browser.delete("/api/session").status_code == 204
        assert browser.get("/api/me").status_code == 401
        assert browser.get("/api/session").json() == {"signed_in": False, "name": None}
    # The old cookie value is dead on the server too, not only forgotten by this browser.
    with live.client(cookies={"ml_session": session}) as replay:
        assert replay.get("/api/me").status_code == 401
        answer = replay.get("/api/session")
        assert answer.status_code == 200 and answer.json() == {"signed_in": False, "name": None}
    with live.client(token) as client:
        assert client.get("/api/session").json() == {"signed_in": True, "name": "cookie-user"}


def test_users_add_prints_a_working_token_on_its_last_line(live: LiveServer) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MOMENTLOOP_DATA_DIR"}
    args = [sys.executable, "-m", "api.cli", "--data-dir", str(live.settings.data_dir), "users", "add", "carol"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip().splitlines()[-1]
    with live.client(token) as carol:
        assert carol.get("/api/me").json() == {"name": "carol"}
    again = subprocess.run(args, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr
    listed = subprocess.run([*args[:-3], "users", "list"], capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env=env, timeout=60, check=False)
    assert "carol" in listed.stdout and token not in listed.stdout


def test_project_lifecycle(api: Api) -> None:
    http = api.http
    first = api.project(name="  Lisbon  ")
    assert first["name"] == "Lisbon", "names are trimmed"
    assert (first["look"], first["aspect"], first["fps"], first["photo_count"], first["music"]) == (
        "ghibli", "1:1", 12, 0, None)
    second = http.post("/api/projects", json={"name": "Porto"}).json()
    assert (second["look"], second["aspect"], second["duration"], second["fps"]) == ("ghibli", "9:16", None, 30)

    listed = http.get("/api/projects").json()
    assert [p["id"] for p in listed] == [second["id"], first["id"]], "newest first"
    assert http.get(f"/api/projects/{first['id']}").json() == first

    changed = http.patch(f"/api/projects/{first['id']}", json={"name": "Lisboa", "look": "lego", "duration": None})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["look"], body["duration"], body["aspect"]) == ("Lisboa", "lego", None, "1:1")
    assert body["updated_at"] > first["updated_at"]

    assert http.delete(f"/api/projects/{first['id']}").status_code == 204
    gone = http.get(f"/api/projects/{first['id']}")
    assert gone.status_code == 404 and first["id"] in gone.json()["detail"]
    assert [p["id"] for p in http.get("/api/projects").json()] == [second["id"]]
    assert http.delete(f"/api/projects/{first['id']}").status_code == 404


def test_bad_project_input_is_a_4xx_with_one_line(api: Api) -> None:
    http = api.http
    pid = api.project()["id"]
    cases: list[tuple[str, str, object]] = [
        ("POST", "/api/projects", {"name": "x", "look": "vaporwave"}),
        ("POST", "/api/projects", {"name": "x", "fps": 1000}),
        ("POST", "/api/projects", {"name": "x", "aspect": "4:3"}),
        ("POST", "/api/projects", {"name": "   "}),
        ("POST", "/api/projects", {"name": "x", "duration": "long"}),
        ("POST", "/api/projects", {"name": "x", "colour": "red"}),
        ("POST", "/api/projects", ["not", "an", "object"]),
        ("POST", "/api/projects", {}),
        ("PATCH", f"/api/projects/{pid}", {"name": None}),
        ("PATCH", f"/api/projects/{pid}", {"fps": "fast"}),
    ]
    for method, path, body in cases:
        r = http.request(method, path, json=body)
        assert r.status_code == 422, (body, r.text)
        detail = r.json()["detail"]
        assert isinstance(detail, str) and detail and "\n" not in detail, detail
    assert "choose from" in http.post("/api/projects", json={"name": "x", "look": "vaporwave"}).json()["detail"]

    for raw, ctype in [(b'{"name": "x"', "application/json"), (b"name=x", "application/x-www-form-urlencoded"),
                       (b"\xff\xfe", "application/json")]:
        r = http.post("/api/projects", content=raw, headers={"content-type": ctype})
        assert r.status_code == 422, (raw, r.text)
    assert "not valid JSON" in http.post("/api/projects", content=b"{", headers={
        "content-type": "application/json"}).json()["detail"]
    for path in ("/api/projects/nope", "/api/projects/" + "a" * 32, "/api/jobs/nope", "/api/exports/nope/video",
                 "/api/assets/nope/thumbnail"):
        r = http.get(path)
        assert r.status_code == 404, (path, r.text)
    assert http.get("/api/projects/bad.id").status_code in (404, 422)
    assert http.get("/api/nothing-here").status_code == 404


def test_unknown_methods_and_paths_are_4xx(live: LiveServer, api: Api) -> None:
    pid = api.project()["id"]
    assert api.http.put(f"/api/projects/{pid}", json={}).status_code == 405
    assert api.http.post("/api/me").status_code == 405
    with httpx.Client(base_url=live.url) as anon:
        assert anon.get("/no/such/file.js").status_code == 404
        assert anon.get("/../../etc/passwd").status_code == 404
