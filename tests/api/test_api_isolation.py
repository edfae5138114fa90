"""Isolation: a second user tries every route with the first user's ids and gets 404 (exactly what an id
that does not exist gets), never data; and nothing of the first user's changes."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, LiveServer


def _snapshot(owner: Api, pid: str, job_id: str) -> dict[str, Any]:
    http = owner.http
    return {
        "project": http.get(f"/api/projects/{pid}").json(),
        "assets": http.get(f"/api/projects/{pid}/assets").json(),
        "plan": http.get(f"/api/projects/{pid}/plan").json(),
        "jobs": http.get(f"/api/projects/{pid}/jobs").json(),
        "job": http.get(f"/api/jobs/{job_id}").json(),
        "exports": http.get(f"/api/projects/{pid}/exports").json(),
    }


def test_another_users_ids_are_404_on_every_route(live: LiveServer, rendered: dict[str, Any], api: Api) -> None:
    owner: Api = rendered["owner"]
    pid, eid, jid = rendered["project"]["id"], rendered["export_id"], rendered["job"]["id"]
    aid = rendered["assets"][0]["id"]
    # This project has no product turntable (making one takes COLMAP); tests/api/test_product_routes.py tries
    # these routes with a real one. Here: the owner's project ids on them, and their coverage below.
    tid = "0" * 32
    secret_words = {rendered["project"]["name"], *(a["name"] for a in rendered["assets"])}
    before = _snapshot(owner, pid, jid)

    mine = api.project()["id"]  # the intruder's own project, to mix with the owner's ids
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/api/projects/{pid}", {}),
        ("PATCH", f"/api/projects/{pid}", {"json": {"name": "pwned"}}),
        ("DELETE", f"/api/projects/{pid}", {}),
        ("GET", f"/api/projects/{pid}/assets", {}),
        ("POST", f"/api/projects/{pid}/assets", {"files": {"file": ("x.png", b"\x89PNG\r\n\x1a\n")}}),
        ("PUT", f"/api/projects/{pid}/assets/order", {"json": {"asset_ids": [aid]}}),
        ("DELETE", f"/api/projects/{pid}/assets/{aid}", {}),
        ("DELETE", f"/api/projects/{mine}/assets/{aid}", {}),
        ("GET", f"/api/assets/{aid}/thumbnail", {}),
        ("GET", f"/api/assets/{aid}/waveform", {}),
        ("GET", f"/api/assets/{aid}/styles/lego", {}),
        ("GET", f"/api/assets/{aid}/previews", {}),
        ("POST", f"/api/projects/{pid}/plan", {}),
        ("GET", f"/api/projects/{pid}/plan", {}),
        ("PATCH", f"/api/projects/{pid}/plan/scenes/0", {"json": {"prompt": "pwned"}}),
        ("PUT", f"/api/projects/{pid}/plan/order", {"json": {"order": [1, 0]}}),
        ("POST", f"/api/projects/{pid}/plan/undo", {}),
        ("POST", f"/api/projects/{pid}/plan/redo", {}),
        ("POST", f"/api/projects/{pid}/render", {}),
        ("POST", f"/api/projects/{pid}/scenes/0/render", {}),
        ("GET", f"/api/projects/{pid}/jobs", {}),
        ("GET", f"/api/jobs/{jid}", {}),
        ("POST", f"/api/jobs/{jid}/cancel", {}),
        ("POST", f"/api/jobs/{jid}/resume", {}),
        ("GET", f"/api/jobs/{jid}/events", {}),
        ("GET", f"/api/projects/{pid}/exports", {}),
        ("GET", f"/api/exports/{eid}/video", {}),
        ("GET", f"/api/exports/{eid}/video?download=1", {}),
        ("GET", f"/api/exports/{eid}/poster", {}),
        ("POST", f"/api/projects/{pid}/product", {"json": {"asset_ids": [aid, aid, aid]}}),
        ("GET", f"/api/projects/{pid}/product", {}),
        ("PUT", f"/api/projects/{pid}/product", {"json": {"product_id": tid}}),
        ("DELETE", f"/api/projects/{pid}/product", {}),
        ("GET", f"/api/projects/{pid}/products", {}),
        ("GET", f"/api/products/{tid}", {}),
        ("GET", f"/api/products/{tid}/video", {}),
        ("GET", f"/api/products/{tid}/poster", {}),
    ]
    tried: set[tuple[str, str]] = set()
    for method, path, kwargs in attempts:
        r = api.http.request(method, path, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "application/json", (method, path)
        assert not any(word in r.text for word in secret_words), (method, path, r.text)
        template = path.split("?")[0]
        for name, value in (("project_id", pid), ("project_id", mine), ("asset_id", aid), ("job_id", jid),
                            ("export_id", eid), ("product_id", tid)):
            template = template.replace(value, "{" + name + "}")
        tried.add((method, template.replace("/styles/lego", "/styles/{look}").replace("/scenes/0", "/scenes/{index}")))
    # Nothing an id reaches is left untried: every route of the schema with an id in its path.
    schema = live.client().get("/openapi.json").json()
    with_ids = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops if "_id}" in p}
    assert with_ids <= tried, sorted(with_ids - tried)

    # The owner's ids are not even listed to the intruder, and the owner saw no change.
    assert all(p["id"] != pid for p in api.http.get("/api/projects").json())
    assert api.http.put(f"/api/projects/{mine}/assets/order", json={"asset_ids": [aid]}).status_code == 409
    assert _snapshot(owner, pid, jid) == before
    assert owner.http.get(f"/api/exports/{eid}/video", headers={"Range": "bytes=0-9"}).status_code == 206
