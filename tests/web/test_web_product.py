"""The Product 360° page in a real browser (Debian Chromium through Playwright, a real `momentloop serve`):
an optional page of its own, reached from the step bar instead of a block between the steps; what this
server can make (a GPU, or the CPU preview) said in plain words from the server's own answer; and its
button off, saying why, until enough photos taken around the product are chosen."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import PICKS, Server, Tab, expect, open_tab, sign_in

from api.routes.products import GOOD_PHOTOS, MIN_PHOTOS
from tests.web.pagecheck import contrast_failures, screen

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 380, "height": 800}
JARGON = ["Frames per turn", "Preview quality", "no GPU)", "photos of the product ·"]


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60) as c:
        yield c


@pytest.fixture()
def tab(browser: Any, server: Server) -> Iterator[Tab]:
    yield from open_tab(browser, server, WIDE)


@pytest.fixture(scope="module")
def fox(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Frames of the fox walk-around, long side 320 (quick to upload and thumbnail)."""
    from PIL import Image

    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < MIN_PHOTOS + 1:
        pytest.skip("the fox capture is absent")
    out = tmp_path_factory.mktemp("fox")
    small = []
    for src in frames[: MIN_PHOTOS + 1]:
        with Image.open(src) as im:
            im.thumbnail((320, 320))
            im.convert("RGB").save(out / src.name, quality=90)
        small.append(out / src.name)
    return small


def project(http: httpx.Client, *, name: str, photos: list[Path]) -> str:
    r = http.post("/api/projects", json={"name": name})
    assert r.status_code == 201, r.text
    pid = str(r.json()["id"])
    for p in photos:
        with p.open("rb") as f:
            assert http.post(f"/api/projects/{pid}/assets", files={"file": (p.name, f)}).status_code == 201
    return pid


def asked_for(tab: Tab) -> list[dict[str, Any]]:
    """Catch the page's POST .../product (what it asks the server to make) and answer it 409."""
    bodies: list[dict[str, Any]] = []

    def answer(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        route.fulfill(status=409, content_type="application/json",
                      body=json.dumps({"detail": "not made: the test only reads the request"}))

    tab.page.route(re.compile(r".*/api/projects/[^/]+/product$"), answer)
    return bodies


def test_product_360_is_an_optional_page_of_its_own(http: httpx.Client, good_photos: list[Path], tab: Tab) -> None:
    page = tab.page
    pid = project(http, name="Shop window", photos=[p for p in good_photos if p.name in PICKS][:2])
    sign_in(tab)
    page.goto(f"{tab.server.url}/#/p/{pid}")
    expect(page.locator("#step-photos")).to_be_visible()
    # The project page holds the four steps, in order, and nothing between them.
    steps = page.locator("main section.step").evaluate_all("els => els.map(e => e.id)")
    assert steps == ["step-photos", "step-look", "step-storyboard", "step-render"], steps
    link = page.locator(".stepnav").get_by_role("link", name=re.compile("Product 360°"))
    expect(link).to_contain_text("optional")
    link.click()
    expect(page).to_have_url(re.compile(rf"#/p/{pid}/product$"))
    expect(page.get_by_role("heading", name="Product 360°", level=1)).to_be_visible()
    text = page.locator("main").inner_text()
    assert not [j for j in JARGON if j in text], text
    page.get_by_role("link", name="Shop window").click()
    expect(page.locator("#step-photos")).to_be_visible()
    assert not tab.errors, tab.errors


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_the_button_waits_for_enough_photos_around_the_product(http: httpx.Client, fox: list[Path], browser: Any,
                                                               server: Server, viewport: dict[str, int]) -> None:
    from functions.product.render import choose_renderer
    from shared.models.media import PhotoSource
    from shared.models.product import ProductRequest

    for tab in open_tab(browser, server, viewport):
        the_button_waits(http, fox, tab, choose_renderer(
            request=ProductRequest(photos=[PhotoSource(key="k", name="a.jpg", index=0)])) == "nerf")


def the_button_waits(http: httpx.Client, fox: list[Path], tab: Tab, gpu: bool) -> None:
    page = tab.page
    can = http.get("/api/products/capabilities").json()
    assert can == {"gpu": gpu, "renderer": "nerf" if gpu else "preview", "min_photos": MIN_PHOTOS,
                   "good_photos": GOOD_PHOTOS, "max_photos": 200}
    pid = project(http, name="Fox figurine", photos=[])
    sign_in(tab)
    page.goto(f"{tab.server.url}/#/p/{pid}/product")
    panel = page.locator("#step-product")
    expect(panel.locator("#product-capability")).to_contain_text(
        "This server has a GPU" if gpu else "This server has no GPU, so it makes a quick preview")
    expect(panel.get_by_role("radio", name="Full quality")).to_have_count(1 if gpu else 0)
    start = panel.get_by_role("button", name="Make turntable")
    ready = panel.locator("#product-ready")
    expect(start).to_be_disabled()
    expect(ready).to_have_text(f"Choose at least {MIN_PHOTOS} photos taken around the product: {MIN_PHOTOS} more. "
                               "Fewer cannot show it from every side.")

    add = panel.get_by_label("Add photos of the product")
    add.set_input_files([str(p) for p in fox[:3]])
    expect(panel.locator("#product-count")).to_have_text("3 photos · 3 chosen", timeout=30_000)
    expect(start).to_be_disabled()
    expect(ready).to_contain_text(f"{MIN_PHOTOS - 3} more")
    add.set_input_files([str(p) for p in fox[3:MIN_PHOTOS]])
    expect(panel.locator("#product-count")).to_have_text(f"{MIN_PHOTOS} photos · {MIN_PHOTOS} chosen",
                                                         timeout=30_000)
    expect(start).to_be_enabled()
    expect(ready).to_have_text(f"{MIN_PHOTOS} photos chosen. Ready; {GOOD_PHOTOS} or more make a smoother turn.")
    panel.get_by_role("button", name="Select none").click()
    expect(start).to_be_disabled()
    expect(ready).to_contain_text(f"{MIN_PHOTOS} more")
    panel.get_by_role("button", name="Select all").click()
    expect(start).to_be_enabled()
    page.locator("#product-picks img").last.evaluate("i => i.decode()")
    assert not contrast_failures(tab, where="product, photos chosen")
    screen(tab, "product-ready", at=".product-pick-head")

    # The choices, in words: how long one turn takes, and the size.
    turns = panel.get_by_label("One turn takes").locator("option").all_inner_texts()
    assert turns == ["1.6 s (quick)", "4 s", "8 s (slow and smooth)"], turns
    sizes = panel.get_by_label("Size", exact=True).locator("option").all_inner_texts()
    assert sizes == ["Small (360 px)", "Medium (720 px)", "Large (1080 px)"], sizes
    bodies = asked_for(tab)
    panel.get_by_label("One turn takes").select_option("48")
    start.click()
    expect(page.locator(".toast", has_text="not made")).to_be_visible()
    captures = http.get(f"/api/projects/{pid}/assets", params={"role": "capture"}).json()
    assert bodies == [{"asset_ids": [c["id"] for c in captures], "preview": not gpu, "frames": 48, "fps": 30,
                       "size": 1080}], bodies
    text = page.locator("main").inner_text()
    assert not [j for j in JARGON if j in text], text
    assert not tab.errors, tab.errors


def test_on_a_gpu_server_the_page_offers_full_quality(http: httpx.Client, good_photos: list[Path],
                                                      tab: Tab) -> None:
    """What the page shows follows the server's answer: a server with a GPU (its answer stood in for here,
    this machine has none) gets the choice between full quality and the quick preview."""
    page = tab.page
    photos = [p for p in good_photos if p.suffix in (".jpg", ".png")][:MIN_PHOTOS]
    assert len(photos) == MIN_PHOTOS
    pid = project(http, name="GPU shop", photos=photos)
    answer = {"gpu": True, "renderer": "nerf", "min_photos": MIN_PHOTOS, "good_photos": GOOD_PHOTOS,
              "max_photos": 200}
    page.route("**/api/products/capabilities", lambda route: route.fulfill(json=answer))
    sign_in(tab)
    page.goto(f"{tab.server.url}/#/p/{pid}/product")
    panel = page.locator("#step-product")
    expect(panel.locator("#product-capability")).to_contain_text("This server has a GPU")
    full = panel.get_by_role("radio", name="Full quality")
    expect(full).to_be_checked()
    # The video's own photos can stand in for a capture, picked one by one.
    panel.get_by_text("Or use some of your video's photos").click()
    boxes = panel.locator("#product-photo-picks input[type=checkbox]")
    expect(boxes).to_have_count(MIN_PHOTOS)
    for i in range(MIN_PHOTOS):
        boxes.nth(i).check()
    expect(panel.locator("#product-count")).to_have_text(
        f"0 photos · {MIN_PHOTOS} chosen ({MIN_PHOTOS} from the video's photos)")
    bodies = asked_for(tab)
    start = panel.get_by_role("button", name="Make turntable")
    start.click()
    expect(page.locator(".toast", has_text="not made")).to_be_visible()
    panel.get_by_role("radio", name="Quick preview").check()
    start.click()
    expect(page.locator(".toast", has_text="not made")).to_have_count(2)
    assert [b["preview"] for b in bodies] == [False, True], bodies
    assert not tab.errors, tab.errors
