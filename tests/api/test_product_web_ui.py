"""The Product 360° page in a real browser: Playwright drives Debian Chromium against the test server; a
person goes from the project's step bar to the page, adds photos of the product through its own upload
(captures: never the video's photos), removes one, starts the turntable, watches the bar fill from SSE to
100 % and the turntable (VP9 WebM with alpha) play in the page's <video>. Screenshots go to
test-artifacts/ui/."""

from __future__ import annotations

import re
from pathlib import Path

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
def fox_frames(media_dir: Path, tmp_path: Path) -> list[Path]:
    """13 fox frames (not those test_product_routes.py uses: a capture of its own), long side 480."""
    from PIL import Image

    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 26:
        pytest.skip("the fox capture is absent")
    small = []
    for src in frames[1:26:2]:
        dest = tmp_path / src.name
        with Image.open(src) as im:
            im.thumbnail((480, 480))
            im.convert("RGB").save(dest, quality=92)
        small.append(dest)
    return small


def test_the_panel_makes_a_turntable_and_plays_it(live: LiveServer, fox_frames: list[Path]) -> None:
    api = Api(live, live.add_user())
    project = api.project(name="fox turntable")
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
        page.locator(".stepnav").get_by_role("link", name=re.compile("Product 360°")).click()

        panel = page.locator("#step-product")
        expect(page.get_by_role("heading", name="Product 360°")).to_be_visible()
        # This test server has no GPU (CPU-only CI): the page says it makes the preview, and offers nothing else.
        expect(panel.locator("#product-capability")).to_contain_text("This server has no GPU")
        start = panel.get_by_role("button", name="Make turntable")
        expect(start).to_be_disabled()  # no photos of the product yet
        expect(panel.locator("#product-count")).to_have_text("0 photos · 0 chosen")
        panel.get_by_label("Add photos of the product").set_input_files([str(p) for p in fox_frames])
        expect(panel.locator("#capture-status")).to_have_text("13 added", timeout=30_000)
        expect(panel.locator("#product-count")).to_have_text("13 photos · 13 chosen")
        panel.get_by_role("button", name=f"Remove {fox_frames[-1].name}").click()
        expect(panel.locator("#product-count")).to_have_text("12 photos · 12 chosen")
        captures = api.http.get(f"/api/projects/{project['id']}/assets", params={"role": "capture"}).json()
        assert sorted(c["name"] for c in captures) == sorted(p.name for p in fox_frames[:-1])
        # The video's own photos (step 1's grid, the storyboard) got none of them.
        assert api.http.get(f"/api/projects/{project['id']}/assets").json() == []
        panel.get_by_role("button", name="Select none").click()
        expect(panel.locator("#product-count")).to_have_text("12 photos · 0 chosen")
        expect(start).to_be_disabled()
        panel.get_by_role("button", name="Select all").click()
        expect(panel.locator("#product-count")).to_have_text("12 photos · 12 chosen")
        panel.get_by_label("One turn takes", exact=True).select_option("48")
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

        job = api.http.get(f"/api/projects/{project['id']}/jobs").json()[0]
        assert job["kind"] == "product" and job["status"] == "done"
        # "Use in video" off: the project's video shows no product any more (asked of the server itself).
        panel.get_by_label("Use in video").uncheck()
        expect(page.get_by_text("The video will not show the product.")).to_be_visible()
        assert api.http.get(f"/api/projects/{project['id']}").json()["product"] is None
        # Back on the project page: step 1's grid got none of the product's photos.
        page.get_by_role("link", name="Back to the project").click()
        expect(page.locator("#step-photos .photo-count")).to_have_text("No photos yet")
        expect(page.locator("#step-photos .grid-host img")).to_have_count(0)
        assert errors == [], errors
        browser.close()
