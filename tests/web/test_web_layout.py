"""The web UI's layout and its safety nets, measured in a real browser (Debian Chromium through Playwright,
against a real `momentloop serve`): a removed photo can be brought back (and the server really keeps it),
arrow keys on the looks move focus without changing the project, the phone layout (380×800) keeps the
scene editor beside its scene and Download within a screen of the player's top, toasts never cover the
control just used, every text on every screen reaches 4.5:1 contrast (light and dark), the project list
names the look and shows a photo, and opening a project with no storyboard logs no 404.

Each screen is saved at 1280×900 and 380×800 to test-artifacts/screens/ (viewport-sized PNGs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import NARROW, PICKS, Server, Tab, expect, no_horizontal_overflow, open_tab, sign_in

from tests.web.pagecheck import contrast_failures, screen

WIDE = {"width": 1280, "height": 900}
UNDO_SECONDS = 8  # the Undo toast of a removed photo stays this long (web/js/views/photogrid.js)

def sticky_chrome(tab: Tab) -> float:
    """How far down the page the bars that stay on screen while scrolling reach (px from the top)."""
    return float(tab.page.evaluate("""() => {
        let bottom = 0;
        for (const el of document.querySelectorAll('body *')) {
            const cs = getComputedStyle(el);
            if (cs.position !== 'sticky' && cs.position !== 'fixed') continue;
            if (el.closest('#toasts') || !el.checkVisibility()) continue;
            const r = el.getBoundingClientRect();
            // Held at its `top` (a bar stacked under another is held lower down, not at 0).
            const held = cs.top !== 'auto' && Math.abs(r.top - parseFloat(cs.top)) <= 1;
            if (held && r.bottom > 0 && r.height) bottom = Math.max(bottom, r.bottom);
        }
        return bottom;
    }"""))


def settle(tab: Tab, *, timeout: float = 5.0) -> None:
    """Wait until the page stops scrolling (smooth scrolls take their time on a busy machine)."""
    deadline = time.monotonic() + timeout
    last, still = None, 0
    while time.monotonic() < deadline and still < 3:
        now = tab.page.evaluate("window.scrollY")
        still = still + 1 if now == last else 0
        last = now
        time.sleep(0.1)


def box(tab: Tab, selector: str) -> dict[str, float]:
    b = tab.page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not on the page"
    return b


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 0
            and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 0)


# ---------------------------------------------------------------------------------------------- fixtures

class Client:
    """The API as the signed-in test user (bearer token), for setting things up quickly."""

    def __init__(self, server: Server) -> None:
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"},
                                 timeout=120)

    def project(self, *, name: str, photos: list[Path], **fields: Any) -> str:
        r = self.http.post("/api/projects", json={"name": name, **fields})
        assert r.status_code == 201, r.text
        pid = str(r.json()["id"])
        for photo in photos:
            with photo.open("rb") as f:
                up = self.http.post(f"/api/projects/{pid}/assets", files={"file": (photo.name, f)})
            assert up.status_code == 201, up.text
        return pid

    def run(self, path: str) -> dict[str, Any]:
        job = self.http.post(path).json()
        deadline = time.monotonic() + 300
        while job["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"{path} took too long"
            time.sleep(0.3)
            job = self.http.get(f"/api/jobs/{job['id']}").json()
        assert job["status"] == "done", job
        return dict(job)

    def photos(self, pid: str) -> list[dict[str, Any]]:
        return [a for a in self.http.get(f"/api/projects/{pid}/assets").json() if a["kind"] == "photo"]


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Client]:
    c = Client(server)
    yield c
    c.http.close()


@pytest.fixture(scope="module")
def picks(good_photos: list[Path]) -> list[Path]:
    photos = [p for p in good_photos if p.name in PICKS]
    assert len(photos) == 5
    return photos


@pytest.fixture(scope="module")
def rendered(client: Client, picks: list[Path]) -> str:
    """A vertical LEGO project with its storyboard and a rendered video (the tall player)."""
    pid = client.project(name="Harbour days", photos=picks, look="lego", aspect="9:16", duration=10, fps=12)
    client.run(f"/api/projects/{pid}/plan")
    client.run(f"/api/projects/{pid}/render")
    return pid


@pytest.fixture()
def wide_tab(browser: Any, server: Server) -> Iterator[Tab]:
    yield from open_tab(browser, server, WIDE)


def requests_made(tab: Tab, method: str) -> list[str]:
    """The URLs of the `method` requests the page makes from now on."""
    urls: list[str] = []
    tab.page.on("request", lambda r: urls.append(r.url) if r.method == method else None)
    return urls


def open_project(tab: Tab, pid: str) -> None:
    tab.page.goto(f"{tab.server.url}/#/p/{pid}")
    expect(tab.page.locator("#step-photos")).to_be_visible()


# ---------------------------------------------------------------------------------------------- removal undo

def test_a_removed_photo_comes_back_with_undo(client: Client, picks: list[Path], wide_tab: Tab) -> None:
    page = wide_tab.page
    pid = client.project(name="Undo me", photos=picks)
    before = [p["id"] for p in client.photos(pid)]
    deletes = requests_made(wide_tab, "DELETE")
    sign_in(wide_tab)
    open_project(wide_tab, pid)
    tiles = page.locator(".photo-grid .tile")
    expect(tiles).to_have_count(5)

    third = client.photos(pid)[2]
    page.get_by_role("button", name=f"Remove {third['name']}").click()
    expect(tiles).to_have_count(4)
    expect(page.locator(".photo-count")).to_have_text("4 photos · add 1 more")
    toast = page.locator(".toast", has_text=f"Removed {third['name']}")
    expect(toast).to_be_visible()
    assert not contrast_failures(wide_tab, where="undo toast")
    screen(wide_tab, "photos-undo")
    toast.get_by_role("button", name="Undo").click()
    expect(tiles).to_have_count(5)
    assert [t.get_attribute("data-id") for t in tiles.all()] == before
    expect(toast).to_be_hidden()
    time.sleep(UNDO_SECONDS + 1.5)  # past the time the removal would have been made
    assert [p["id"] for p in client.photos(pid)] == before, "the server kept every photo, in order"
    assert deletes == []

    # Without Undo, the removal is made when the toast goes.
    with page.expect_response(lambda r: r.request.method == "DELETE", timeout=(UNDO_SECONDS + 6) * 1000) as gone:
        page.get_by_role("button", name=f"Remove {third['name']}").click()
        expect(tiles).to_have_count(4)
    assert gone.value.status == 204
    assert [p["id"] for p in client.photos(pid)] == [i for i in before if i != third["id"]]

    # Leaving the project while an Undo is offered makes the removal at once.
    first = client.photos(pid)[0]
    page.get_by_role("button", name=f"Remove {first['name']}").click()
    with page.expect_response(lambda r: r.request.method == "DELETE", timeout=5000):
        page.get_by_role("link", name="All projects").click()
    assert first["id"] not in [p["id"] for p in client.photos(pid)]
    assert not wide_tab.errors, wide_tab.errors


# ---------------------------------------------------------------------------------------------- looks

def test_arrow_keys_on_looks_move_focus_without_choosing(client: Client, picks: list[Path], wide_tab: Tab) -> None:
    page = wide_tab.page
    pid = client.project(name="Looks by keyboard", photos=picks[:2], look="ghibli")
    patches = requests_made(wide_tab, "PATCH")
    sign_in(wide_tab)
    open_project(wide_tab, pid)
    cards = page.locator(".look-card")
    expect(cards).to_have_count(6)
    chosen = page.locator(".look-card.is-selected")
    expect(chosen).to_have_count(1)
    chosen.locator(".look-pick").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    time.sleep(0.5)
    assert patches == [], "moving focus saved a look"
    assert client.http.get(f"/api/projects/{pid}").json()["look"] == "ghibli"
    focused = page.evaluate("document.activeElement.closest('.look-card')?.dataset.look")
    assert focused == "minecraft", focused
    expect(chosen).to_have_count(1)
    expect(page.locator(".look-card.is-selected")).to_have_attribute("data-look", "ghibli")
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        page.keyboard.press("Enter")
    assert client.http.get(f"/api/projects/{pid}").json()["look"] == "minecraft"
    expect(page.locator(".look-card.is-selected")).to_have_attribute("data-look", "minecraft")
    page.keyboard.press("ArrowLeft")
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        page.keyboard.press("Space")
    assert client.http.get(f"/api/projects/{pid}").json()["look"] == "lego"
    assert not wide_tab.errors, wide_tab.errors


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_look_descriptions_are_shown_whole(client: Client, picks: list[Path], browser: Any, server: Server,
                                           viewport: dict[str, int]) -> None:
    pid = client.project(name="Looks described", photos=picks[:1])
    for tab in open_tab(browser, server, viewport):
        sign_in(tab)
        open_project(tab, pid)
        descs = tab.page.locator(".look-desc")
        expect(descs).to_have_count(6)
        looks = {x["name"]: x["description"] for x in client.http.get("/api/styles").json()}
        shown = descs.evaluate_all("""els => els.map(e => ({
            text: e.innerText.trim(), visible: e.checkVisibility(),
            cut: e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1,
            look: e.closest('.look-card').dataset.look}))""")
        for s in shown:
            assert s["visible"] and not s["cut"], s
            assert s["text"] == looks[s["look"]], s


# ---------------------------------------------------------------------------------------------- phone layout

def test_phone_layout_keeps_things_where_they_are_used(client: Client, rendered: str, narrow: Tab) -> None:
    page = narrow.page
    height = NARROW["height"]
    sign_in(narrow)
    open_project(narrow, rendered)
    expect(page.locator("#result-video")).to_be_visible(timeout=30_000)
    no_horizontal_overflow(narrow)

    # The bars that stay on screen take at most a tenth of it.
    page.locator("#step-look").evaluate("e => e.scrollIntoView({block: 'start'})")
    settle(narrow)
    chrome = sticky_chrome(narrow)
    assert chrome <= 0.1 * height, f"the bars that stay on screen take {chrome:.0f} of {height} px"

    # The scene editor opens right under the scene being edited, both on screen.
    page.get_by_role("button", name="Edit scene 3").click()
    expect(page.get_by_role("heading", name="Scene 3", level=3)).to_be_focused()
    settle(narrow)
    card = box(narrow, '.scene-card[data-index="2"]')
    editor = box(narrow, "#scene-editor")
    gap = editor["y"] - (card["y"] + card["height"])
    assert 0 <= gap <= 24, f"the editor is {gap:.0f} px below scene 3's card"
    assert card["y"] >= sticky_chrome(narrow) - 1, "scene 3's card is hidden under the bars"
    assert editor["y"] < height / 2, f"the editor starts {editor['y']:.0f} px down the screen"
    screen(narrow, "storyboard-editor", at='.scene-card[data-index="2"]')

    # A toast never covers the control just used: Save scene, at the bottom of the screen.
    move = page.locator("#scene-editor").get_by_label("Camera move")
    move.select_option("drift" if move.input_value() != "drift" else "push_in")
    save = page.get_by_role("button", name="Save scene")
    save.evaluate("e => e.scrollIntoView({block: 'end'})")
    before = save.bounding_box()
    save.click()
    toast = page.locator(".toast", has_text="Saved")
    expect(toast).to_be_visible()
    assert before and not overlaps(toast.bounding_box(), before), (toast.bounding_box(), before)

    # The player and Download: Download within one screen of the player's top.
    video = page.locator("#result-video")
    video.evaluate("e => e.scrollIntoView({block: 'start'})")
    settle(narrow)
    top = box(narrow, "#result-video")
    download = box(narrow, "#download-link")
    assert download["y"] + download["height"] - top["y"] <= height, (top, download)
    assert download["y"] + download["height"] <= height, "Download is off the screen with the player"
    assert top["height"] >= 0.4 * height, f"the player is only {top['height']:.0f} px tall"
    screen(narrow, "render-result", at="#step-render")

    # The Length row at the bottom of the screen: its toast goes elsewhere.
    length = page.locator("#project-duration")
    length.evaluate("e => e.scrollIntoView({block: 'end'})")
    length.fill("5")
    length.press("Enter")
    toast = page.locator(".toast", has_text="Length set to 5 s.")
    expect(toast).to_be_visible()
    assert not overlaps(toast.bounding_box(), box(narrow, "#project-duration"))
    assert not narrow.errors, narrow.errors


# ---------------------------------------------------------------------------------------------- contrast

@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["wide", "narrow"])
def test_every_text_reaches_4_5_to_1(client: Client, rendered: str, browser: Any, server: Server,
                                     viewport: dict[str, int], scheme: str) -> None:
    # A crossfade chip on the selected scene's card: soft accent text on two accent tints.
    second = client.http.get(f"/api/projects/{rendered}/plan").json()["scenes"][1]
    if second["transition_in"] != "crossfade":
        r = client.http.patch(f"/api/projects/{rendered}/plan/scenes/{second['index']}",
                              json={"transition_in": "crossfade"})
        assert r.status_code == 200, r.text
    failures: list[str] = []
    for tab in open_tab(browser, server, viewport):
        page = tab.page
        page.emulate_media(color_scheme=scheme)
        shoot = scheme == "light"
        page.goto(f"{server.url}/")
        page.get_by_label("Access token").fill("not-a-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator(".error-hint")).to_be_visible()
        failures += contrast_failures(tab, where="sign-in")
        if shoot:
            screen(tab, "sign-in")
        sign_in(tab)
        expect(page.locator(".project-card img").first).to_be_visible()
        failures += contrast_failures(tab, where="projects")
        if shoot:
            screen(tab, "projects")

        open_project(tab, rendered)
        expect(page.locator("#result-video")).to_be_visible(timeout=30_000)
        expect(page.locator(".look-media.is-loading")).to_have_count(0, timeout=60_000)
        page.get_by_role("button", name="Edit scene 2").click()
        expect(page.locator("#scene-editor")).to_be_visible()
        failures += contrast_failures(tab, where="project")
        if shoot:
            screen(tab, "project")
            screen(tab, "photos", at="#step-photos")
            screen(tab, "looks", at="#step-look")
            screen(tab, "storyboard", at="#step-storyboard")
            screen(tab, "render", at="#step-render")

        page.goto(f"{server.url}/#/p/{rendered}/product")
        expect(page.get_by_role("heading", name="Product 360°", level=1)).to_be_visible()
        expect(page.locator("#product-capability")).not_to_be_empty()
        failures += contrast_failures(tab, where="product")
        if shoot:
            screen(tab, "product")
        assert not tab.errors, tab.errors
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------- the rest

def test_project_list_names_the_look_and_shows_a_photo(client: Client, rendered: str, wide_tab: Tab) -> None:
    page = wide_tab.page
    sign_in(wide_tab)
    card = page.locator(".project-card", has_text="Harbour days")
    expect(card).to_contain_text("LEGO")
    assert "lego" not in card.inner_text()
    thumb = card.locator("img.project-thumb")
    expect(thumb).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    first = client.photos(rendered)[0]
    assert thumb.get_attribute("src") == first["thumbnail_url"]


def test_a_project_without_storyboard_opens_without_a_404(client: Client, picks: list[Path],
                                                          wide_tab: Tab) -> None:
    page = wide_tab.page
    pid = client.project(name="Not planned yet", photos=picks[:2])
    sign_in(wide_tab)  # (the sign-in page's own console: tests/web/test_web_signin.py)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    answers: list[tuple[int, str]] = []
    page.on("response", lambda r: answers.append((r.status, r.url)) if r.status >= 400 else None)
    open_project(wide_tab, pid)
    expect(page.get_by_text("No storyboard yet")).to_be_visible()
    expect(page.get_by_role("button", name="Make storyboard")).to_be_enabled()
    time.sleep(1)
    assert answers == [], answers
    assert errors == [], errors


def test_a_wrong_token_hint_reads_as_text(wide_tab: Tab) -> None:
    page = wide_tab.page
    page.goto(f"{wide_tab.server.url}/")
    page.get_by_label("Access token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    hint = page.locator(".error-hint")
    expect(hint).to_be_visible()
    assert "`" not in hint.inner_text(), hint.inner_text()
    expect(hint.locator("code")).to_have_count(1)
