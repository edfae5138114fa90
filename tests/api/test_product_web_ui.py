"""The Product 360° panel in a real browser: Playwright drives Debian Chromium against the test server; a
person picks the project's photos, starts the turntable, watches the bar fill from SSE to 100 % and the
turntable (VP9 WebM with alpha) play in the page's <video>. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"

if not CHROMIUM.is_file():
    pytest.skip(f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
expect = sync_api.expect


@pytest.fixture()
def fox_project(live: LiveServer, media_dir: Path, tmp_path: Path) -> tuple[Api, dict[str, Any]]:
    from PIL import Image

    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 24:
        pytest.skip("the fox capture is absent")
    api = Api(live, live.add_user())
    project = api.project(name="fox turntable")
    for src in frames[1:24:2]:  # not the frames test_product_routes.py uses: a capture of its own
        dest = tmp_path / src.name
        with Image.open(src) as im:
            im.thumbnail((480, 480))
            im.convert("RGB").save(dest, quality=92)
        assert api.upload(project["id"], dest).status_code == 201
    return api, project


def test_the_panel_makes_a_turntable_and_plays_it(live: LiveServer, fox_project: tuple[Api, dict[str, Any]]) -> None:
    api, project = fox_project
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live.url}/")
        page.get_by_label("Access token").fill(api.token)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
        page.goto(f"{live.url}/#/p/{project['id']}")

        panel = page.locator("#step-product")
        expect(panel.get_by_role("heading", name="Product 360°")).to_be_visible()
        start = panel.get_by_role("button", name="Make turntable")
        expect(start).to_be_disabled()  # nothing chosen yet
        panel.get_by_role("button", name="Select all").click()
        expect(panel.get_by_text("12 of 12 chosen")).to_be_visible()
        panel.get_by_label("Preview quality (fast, no GPU)").check()
        panel.get_by_label("Frames per turn", exact=True).select_option("48")
        panel.get_by_label("Size", exact=True).select_option("360")
        start.click()

        bar = panel.get_by_role("progressbar", name="Turntable progress")
        expect(bar).to_be_visible()
        expect(panel.locator("#product-phase")).not_to_have_text("Waiting to start…", timeout=30_000)
        page.screenshot(path=str(SHOTS / "product-progress.png"), full_page=True)
        expect(bar).to_have_attribute("aria-valuenow", "100", timeout=60_000)
        expect(panel.locator("#product-phase")).to_have_text("Turntable ready")
        video = panel.locator("#product-video")
        expect(video).to_be_visible()
        page.wait_for_function("() => document.getElementById('product-video')?.duration > 0", timeout=20_000)
        duration = page.evaluate("document.getElementById('product-video').duration")
        assert duration == pytest.approx(48 / 30, abs=0.1), duration
        expect(panel.get_by_label("Use in video")).to_be_checked()
        page.screenshot(path=str(SHOTS / "product-done.png"), full_page=True)

        # "Use in video" off: the project's video shows no product any more (asked of the server itself).
        panel.get_by_label("Use in video").uncheck()
        expect(page.get_by_text("The video will not show the product.")).to_be_visible()
        assert api.http.get(f"/api/projects/{project['id']}").json()["product"] is None
        assert errors == [], errors
        browser.close()
