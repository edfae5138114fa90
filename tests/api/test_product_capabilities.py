"""GET /api/products/capabilities: what a turntable made by this server can be (trained on a GPU, or the
CPU preview) and how many photos around the product the web app asks for; and ProjectPublic.cover_url,
the thumbnail the project list shows."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from api.routes.products import GOOD_PHOTOS, MIN_PHOTOS, product_capabilities
from functions.product.render import choose_renderer
from shared.models.media import PhotoSource
from shared.models.product import ProductRequest
from tests.api.conftest import Api, LiveServer


def test_capabilities_are_the_product_stage_s_own_choice(api: Api, live: LiveServer) -> None:
    r = api.http.get("/api/products/capabilities")
    assert r.status_code == 200, r.text
    gpu = choose_renderer(request=ProductRequest(photos=[PhotoSource(key="k", name="a.jpg", index=0)])) == "nerf"
    assert r.json() == {"gpu": gpu, "renderer": "nerf" if gpu else "preview", "min_photos": MIN_PHOTOS,
                        "good_photos": GOOD_PHOTOS, "max_photos": live.settings.max_captures}
    assert live.client().get("/api/products/capabilities").status_code == 401


def test_on_modal_turntables_are_trained_on_its_gpus() -> None:
    """MOMENTLOOP_EXECUTOR=modal: the deployed app's GPU functions train them, whatever this machine has."""
    state = SimpleNamespace(settings=SimpleNamespace(executor="modal", max_captures=50))
    got = product_capabilities(user=SimpleNamespace(id="u"), state=state)  # type: ignore[arg-type]
    assert (got.gpu, got.renderer, got.max_photos) == (True, "nerf", 50)


def test_a_project_shows_its_first_photo(api: Api, small_photos: list[Path]) -> None:
    pid = api.project(name="with a cover")["id"]
    assert api.http.get(f"/api/projects/{pid}").json()["cover_url"] is None
    ids = [api.upload(pid, p).json()["id"] for p in small_photos]
    listed = {p["id"]: p for p in api.http.get("/api/projects").json()}
    first = api.http.get(f"/api/projects/{pid}/assets").json()[0]
    assert listed[pid]["cover_url"] == first["thumbnail_url"] == f"/api/assets/{first['id']}/thumbnail"
    assert api.http.get(listed[pid]["cover_url"]).headers["content-type"] == "image/jpeg"
    # The cover follows the order, and a product capture never is one.
    order = [*ids[1:], ids[0]]
    assert api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": order}).status_code == 200
    assert api.http.get(f"/api/projects/{pid}").json()["cover_url"] == f"/api/assets/{order[0]}/thumbnail"
    only_capture = api.project(name="a capture only")["id"]
    assert api.upload(only_capture, small_photos[0], role="capture").status_code == 201
    assert api.http.get(f"/api/projects/{only_capture}").json()["cover_url"] is None
