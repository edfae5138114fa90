"""The web UI in a real browser: Playwright drives Debian Chromium against a real `momentloop serve`.

The whole flow a person goes through (sign in, create a project, upload real photos, reorder them, pick a
look, make and edit the storyboard, render with live progress, play, download), a rejected upload showing
its reason, and the page at a phone's width. Screenshots of each step go to test-artifacts/ui/."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.media.probe import probe

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHOTS = PROJECT_ROOT / "test-artifacts" / "ui"
# Small, quick-to-decode real photos: people, an animal, a still life, a landscape-ish street.
PICKS = ["chelsea_cat.png", "coffee.png", "kimono_portrait.jpg", "fox_parade.jpg", "rocket_launch.jpg"]
WIDE = {"width": 1280, "height": 860}
NARROW = {"width": 380, "height": 800}
STATIC_BARS = ".topbar, .stepnav { position: static !important; } .toasts { display: none !important; }"

if not CHROMIUM.is_file():
    pytest.skip(f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
expect = sync_api.expect


# ---------------------------------------------------------------------------------------------- server

@dataclass
class Server:
    """`momentloop serve` in a subprocess, on a free port, with its own data folder."""

    url: str
    port: int
    token: str
    data: Path
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [*_momentloop(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data", str(self.data)],
                stdout=sink, stderr=subprocess.STDOUT, env=self.env, cwd=PROJECT_ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"`momentloop serve` did not come up:\n{self.log_tail()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no goodbyes, like a crash or a pulled plug."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _momentloop() -> list[str]:
    exe = shutil.which("momentloop", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "api.cli"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("serve-data")
    env = {**os.environ, "MOMENTLOOP_DATA_DIR": str(data), "MOMENTLOOP_OUTPUT_PRESET": "ultrafast"}
    added = subprocess.run([*_momentloop(), "--data-dir", str(data), "users", "add", "ui-tester"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=PROJECT_ROOT, check=False)
    assert added.returncode == 0, added.stderr[-2000:]
    port = _free_port()
    srv = Server(url=f"http://127.0.0.1:{port}", port=port, token=added.stdout.strip().splitlines()[-1].strip(),
                 data=data, log=data / "server.log", env=env)
    srv.start()
    yield srv
    srv.stop()


# ---------------------------------------------------------------------------------------------- browser

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    page: Any
    errors: list[str]
    server: Server

    def shot(self, name: str, *, part: str | None = None) -> Path:
        """Save a screenshot: the whole page, or one part of it (a CSS selector) at its full height."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        clip = None
        if part is not None:
            box = self.page.locator(part).first.bounding_box()
            assert box is not None, f"{part} is not on the page"
            scroll = self.page.evaluate("[scrollX, scrollY]")
            clip = {"x": box["x"] + scroll[0], "y": box["y"] + scroll[1],
                    "width": box["width"], "height": box["height"]}
        # Sticky bars would otherwise be painted wherever the page happens to be scrolled.
        self.page.screenshot(path=str(path), full_page=True, clip=clip, style=STATIC_BARS, animations="disabled")
        return path

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Ask the API with the page's own session cookie: what the server really holds."""
        r = self.page.request.fetch(f"{self.server.url}{path}", method=method,
                                    data=json.dumps(body) if body is not None else None,
                                    headers={"Content-Type": "application/json"} if body is not None else None)
        assert r.ok, f"{method} {path}: {r.status} {r.text()}"
        return r.json() if r.status != 204 else None


def _open(browser: Any, server: Server, viewport: dict[str, int]) -> Iterator[Tab]:
    context = browser.new_context(viewport=viewport, accept_downloads=True, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Whatever the Content-Security-Policy blocks in the page (an inline style, a script from elsewhere) is a
    # bug too. Reports without a source file are Playwright's own styles injected for screenshots.
    page.on("console", lambda msg: errors.append(f"{msg.text} ({msg.location['url']})")
            if "Content Security Policy" in msg.text and msg.location.get("url") else None)
    yield Tab(page=page, errors=errors, server=server)
    context.close()


@pytest.fixture()
def wide(browser: Any, server: Server) -> Iterator[Tab]:
    yield from _open(browser, server, WIDE)


@pytest.fixture()
def narrow(browser: Any, server: Server) -> Iterator[Tab]:
    yield from _open(browser, server, NARROW)


def sign_in(tab: Tab, *, shot: str | None = None) -> None:
    page = tab.page
    page.goto(tab.server.url + "/")
    token = page.get_by_label("Access token")
    expect(token).to_be_focused()
    if shot:
        tab.shot(shot)
    token.fill(tab.server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()


def create_project(tab: Tab, *, name: str, aspect_label: str = "Square 1:1", seconds: str = "6",
                   shot: str | None = None) -> str:
    page = tab.page
    page.get_by_label("Project name").fill(name)
    page.locator(".new-project").get_by_role("radio", name=aspect_label).check()
    page.get_by_label("Length in seconds").fill(seconds)
    if shot:
        tab.shot(shot)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    return page.url.rsplit("/p/", 1)[1]


def upload(tab: Tab, paths: list[Path]) -> None:
    tab.page.get_by_label("Add photos or a song").set_input_files([str(p) for p in paths])


def no_horizontal_overflow(tab: Tab) -> None:
    over = tab.page.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const out = [];
        for (const el of document.querySelectorAll('main *, header *')) {
            const r = el.getBoundingClientRect();
            if (!r.width || getComputedStyle(el).visibility === 'hidden') continue;
            if (el.closest('.timeline-scroll, .preview-strip, .stepnav ol, .visually-hidden')) continue;
            if (r.right > w + 1 || r.left < -1) out.push(`${el.tagName}.${el.className} ${r.left|0}..${r.right|0}`);
        }
        return {scroll: document.documentElement.scrollWidth, width: w, out: out.slice(0, 8)};
    }""")
    assert over["scroll"] <= over["width"], over
    assert not over["out"], over


UNLABELLED = """() => {
    const named = (el) => {
        const by = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
            .map((id) => document.getElementById(id)?.textContent || '').join(' ');
        return [el.getAttribute('aria-label'), by, el.labels ? [...el.labels].map((l) => l.textContent).join(' ') : '',
                el.tagName === 'INPUT' || el.tagName === 'SELECT' || el.tagName === 'TEXTAREA' ? '' : el.textContent,
                el.getAttribute('title')].some((t) => t && t.trim());
    };
    return [...document.querySelectorAll('button, a[href], input, select, textarea, video, canvas, [tabindex]')]
        .filter((el) => el.getAttribute('tabindex') !== '-1' || el.matches('button, input, select, textarea'))
        .filter((el) => el.type !== 'hidden' && !el.closest('[aria-hidden="true"]'))
        .filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 160));
}"""

FOCUS_RING = """() => {
    const el = document.activeElement;
    const shows = (e) => {
        if (!e) return false;
        const cs = getComputedStyle(e);
        return (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
    };
    return {tag: el.tagName, text: (el.getAttribute('aria-label') || el.textContent || el.name || '').slice(0, 40),
            ring: [el, el.nextElementSibling, el.closest('label')].some(shows)};
}"""


def no_junk_text(tab: Tab) -> None:
    """No stray `null`, `undefined`, `NaN` or `[object Object]` leaked into what the person reads."""
    text = tab.page.locator("body").inner_text()
    junk = re.findall(r"\b(?:null|undefined|NaN)\b|\[object \w+\]", text)
    assert not junk, junk


def as_shown(text: str, *, name: str) -> str:
    """A server message as an upload row shows it: without the file's name in front, as a sentence."""
    text = text.strip().removeprefix(f"{name}: ")
    return re.sub(r"^([a-z]+)(\s|$)", lambda m: m.group(1).capitalize() + m.group(2), text)


def wait_images_loaded(locator: Any, *, count: int, timeout: float = 60.0) -> list[list[int]]:
    """Wait until `count` images under `locator` have decoded pixels; return their natural sizes."""
    deadline = time.monotonic() + timeout
    sizes: list[list[int]] = []
    while time.monotonic() < deadline:
        sizes = locator.evaluate_all(
            "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).map(i => [i.naturalWidth, i.naturalHeight])")
        if len(sizes) >= count:
            return sizes
        time.sleep(0.2)
    raise AssertionError(f"only {len(sizes)} of {count} images loaded")


# ---------------------------------------------------------------------------------------------- tests

def test_whole_flow_from_photos_to_download(good_photos: list[Path], wide: Tab) -> None:
    page = wide.page
    photos = [p for p in good_photos if p.name in PICKS]
    assert len(photos) == 5

    sign_in(wide, shot="wide-01-sign-in")
    assert page.get_by_text("ui-tester").is_visible()
    project_id = create_project(wide, name="Autumn walk", shot="wide-02-projects")

    # Upload: one progress row per file, each ends "Added"; the grid shows their server thumbnails.
    upload(wide, photos)
    rows = page.locator(".upload-row")
    expect(rows).to_have_count(5)
    expect(page.locator('.upload-row[data-state="done"]')).to_have_count(5, timeout=60_000)
    tiles = page.locator(".photo-grid .tile")
    expect(tiles).to_have_count(5)
    thumbs = wait_images_loaded(page.locator(".photo-grid img"), count=5)
    assert all(max(w, h) == 384 for w, h in thumbs), thumbs  # every pick is larger than 384
    expect(page.locator(".photo-count")).to_have_text("5 photos")

    # Reorder with the keyboard: pick up the first photo, move it one to the right, put it down.
    before = [t.get_attribute("data-id") for t in tiles.all()]
    tiles.first.focus()
    with page.expect_response(lambda r: r.url.endswith("/assets/order") and r.request.method == "PUT") as put:
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("Space")
    assert put.value.ok, put.value.text()
    wanted = [before[1], before[0], *before[2:]]
    expect(tiles.first).to_have_attribute("data-id", wanted[0])
    served = [a["id"] for a in wide.api("GET", f"/api/projects/{project_id}/assets") if a["kind"] == "photo"]
    assert served == wanted
    # ...and back with the tile's own button.
    name0 = wide.api("GET", f"/api/projects/{project_id}/assets")[0]["name"]
    with page.expect_response(lambda r: r.url.endswith("/assets/order") and r.request.method == "PUT"):
        page.get_by_role("button", name=f"Move {name0} later").click()
    served = [a["id"] for a in wide.api("GET", f"/api/projects/{project_id}/assets") if a["kind"] == "photo"]
    assert served == before
    # ...and with the mouse: drag the last photo onto the left half of the first.
    with page.expect_response(lambda r: r.url.endswith("/assets/order") and r.request.method == "PUT"):
        tiles.nth(4).drag_to(tiles.nth(0), target_position={"x": 10, "y": 60})
    served = [a["id"] for a in wide.api("GET", f"/api/projects/{project_id}/assets") if a["kind"] == "photo"]
    assert served == [before[4], *before[:4]]
    expect(tiles.first).to_have_attribute("data-id", before[4])
    wide.shot("wide-03-photos", part="#step-photos")

    # Looks: every look previewed on the person's own photo, side by side, 512 px long side.
    looks = wide.api("GET", "/api/styles")
    cards = page.locator(".look-card")
    expect(cards).to_have_count(len(looks))
    previews = wait_images_loaded(page.locator(".look-card img"), count=len(looks), timeout=90)
    shown_id = page.locator(".preview-strip input:checked").get_attribute("value")
    shown = next(a for a in wide.api("GET", f"/api/projects/{project_id}/assets") if a["id"] == shown_id)
    long_side = min(512, max(shown["width"], shown["height"]))  # previews are never upscaled
    assert all(max(w, h) == long_side for w, h in previews), (previews, shown)
    page.locator("#step-look").scroll_into_view_if_needed()
    with page.expect_response(lambda r: r.url.endswith(f"/api/projects/{project_id}") and r.request.method == "PATCH"):
        page.locator(".look-card", has_text="Sketch").click()
    expect(page.locator(".look-card.is-selected")).to_have_count(1)
    expect(page.locator(".look-card.is-selected .look-name")).to_have_text("Sketch")
    assert wide.api("GET", f"/api/projects/{project_id}")["look"] == "sketch"
    wide.shot("wide-04-look", part="#step-look")

    # Storyboard: made by a job followed over SSE; scenes on the waveform with beat markers.
    page.get_by_role("button", name="Make storyboard").click()
    scene_cards = page.locator(".scene-card")
    expect(scene_cards.first).to_be_visible(timeout=90_000)
    plan = wide.api("GET", f"/api/projects/{project_id}/plan")
    expect(scene_cards).to_have_count(len(plan["scenes"]))
    assert len(plan["scenes"]) >= 3
    assert len(plan["beats"]) > 4 and plan["downbeats"]
    expect(page.locator(".lane-scene")).to_have_count(len(plan["scenes"]))
    inked = page.locator("canvas.timeline-wave").evaluate("""c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
        return n / (c.width * c.height);
    }""")
    assert inked > 0.05, f"the waveform canvas is nearly empty ({inked:.3f} of its pixels inked)"
    wide.shot("wide-05-storyboard", part="#step-storyboard")

    # Edit scene 2: camera move, transition, length in beats and prompt; the server's plan changes.
    scene2 = plan["scenes"][1]
    page.get_by_role("button", name="Edit scene 2").click()
    expect(page.get_by_role("heading", name="Scene 2")).to_be_visible()
    new_move = "pan_left" if scene2["move"] != "pan_left" else "pull_out"
    new_transition = "crossfade" if scene2["transition_in"] == "cut" else "cut"
    page.get_by_label("Camera move").select_option(new_move)
    page.locator("#scene-editor").get_by_role("radio", name=new_transition.capitalize()).check()
    page.get_by_label("Length in beats").fill(str(scene2["beats"] + 1))
    page.get_by_label("Animation prompt").fill("Slow pan across the parade, confetti drifting")
    with page.expect_response(lambda r: "/plan/scenes/" in r.url and r.request.method == "PATCH") as edit:
        page.get_by_role("button", name="Save scene").click()
    assert edit.value.ok, edit.value.text()
    edited = wide.api("GET", f"/api/projects/{project_id}/plan")["scenes"][1]
    assert edited["move"] == new_move and edited["transition_in"] == new_transition
    assert edited["prompt"] == "Slow pan across the parade, confetti drifting"
    card2 = scene_cards.nth(1)
    expect(card2).to_contain_text({"pan_left": "Pan left", "pull_out": "Pull out"}[new_move])
    expect(card2).to_contain_text("confetti drifting")
    expect(card2).to_contain_text(f"{edited['beats']} beat")
    wide.shot("wide-06-scene-edited", part="#step-storyboard")

    # Render: live progress over SSE, per scene style → clip, overall reaching 100%.
    page.get_by_role("button", name="Render video").click()
    bar = page.get_by_role("progressbar", name="Render progress")
    expect(bar).to_be_visible()
    seen: list[int] = []
    mid_shot = False
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        value = int(bar.get_attribute("aria-valuenow") or 0)
        if not seen or value != seen[-1]:
            seen.append(value)
        if not mid_shot and 5 <= value < 95:
            wide.shot("wide-07-rendering", part="#step-render")
            mid_shot = True
        if value >= 100 or page.locator(".render-panel.is-failed").count():
            break
        time.sleep(0.15)
    assert not page.locator(".render-panel.is-failed").count(), page.locator(".render-panel").inner_text()
    assert seen[-1] == 100, f"progress stalled at {seen[-1]}%: {seen}\n{wide.server.log_tail()}"
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    assert len(seen) >= 3, f"no live progress, only {seen}"
    expect(page.locator('.render-scene[data-state="done"]')).to_have_count(len(plan["scenes"]))

    # Play it in the page: the <video> element knows its duration and its clock moves.
    video = page.locator("#result-video")
    expect(video).to_be_visible(timeout=30_000)
    exports = wide.api("GET", f"/api/projects/{project_id}/exports")
    duration = video.evaluate("""v => new Promise((ok, bad) => {
        if (v.readyState >= 1) return ok(v.duration);
        v.addEventListener('loadedmetadata', () => ok(v.duration), {once: true});
        v.addEventListener('error', () => bad(new Error('video error ' + (v.error && v.error.code))), {once: true});
    })""")
    assert duration > 0
    assert duration == pytest.approx(exports[0]["duration"], abs=0.1)
    played = video.evaluate("""async v => {
        v.muted = true; await v.play();
        await new Promise(r => setTimeout(r, 600));
        v.pause(); return v.currentTime;
    }""")
    assert played > 0.1
    wide.shot("wide-08-result", part="#step-render")
    no_junk_text(wide)
    wide.shot("wide-10-whole-project")

    # Download it: an MP4 of the length the export says.
    with page.expect_download() as dl:
        page.get_by_role("link", name="Download MP4").click()
    path = Path(dl.value.path())
    assert dl.value.suggested_filename.endswith(".mp4")
    head = path.read_bytes()[:12]
    assert head[4:8] == b"ftyp", head
    info = probe(path)
    assert info.video_codec == "h264" and (info.width, info.height) == (1080, 1080)
    assert info.duration == pytest.approx(exports[0]["duration"], abs=0.1)
    assert not wide.errors, wide.errors

    # The same project on a phone: every step fits in 380 px, nothing spills sideways.
    ctx = page.context.browser.new_context(viewport=NARROW, reduced_motion="reduce",
                                           storage_state=page.context.storage_state())
    phone = ctx.new_page()
    try:
        phone.goto(f"{wide.server.url}/#/p/{project_id}")
        tab = Tab(page=phone, errors=[], server=wide.server)
        phone.on("pageerror", lambda exc: tab.errors.append(str(exc)))
        expect(phone.locator("#result-video")).to_be_visible(timeout=30_000)
        wait_images_loaded(phone.locator(".look-card img"), count=len(looks), timeout=60)
        no_horizontal_overflow(tab)
        for step in ("photos", "look", "storyboard", "render"):
            tab.shot(f"narrow-step-{step}", part=f"#step-{step}")
        assert not tab.errors, tab.errors
    finally:
        ctx.close()


def test_rejected_files_show_their_reason(bad_photos: list[Path], good_photos: list[Path], tmp_path: Path,
                                          wide: Tab) -> None:
    page = wide.page
    sign_in(wide)
    create_project(wide, name="Odd files")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    bad = [p for p in bad_photos if p.name in ("zero_bytes.jpg", "decompression_bomb.gif")] + [notes]
    assert len(bad) == 3
    for path in bad:
        with page.expect_response(lambda r: r.url.endswith("/assets") and r.request.method == "POST") as resp:
            upload(wide, [path])
        answer = resp.value
        assert 400 <= answer.status < 500, (path.name, answer.status, answer.text())
        body = answer.json()
        row = page.locator(".upload-row", has_text=path.name)
        expect(row).to_have_attribute("data-state", "failed")
        expect(row.locator(".upload-status")).to_have_text("Not added")
        reason = row.get_by_role("alert")
        expect(reason.locator(".error-reason")).to_have_text(as_shown(body["detail"], name=path.name))
        if body.get("hint"):
            expect(reason.locator(".error-hint")).to_have_text(as_shown(body["hint"], name=path.name))
    # A good file in the next batch still goes in, and the errors stay on screen beside it.
    upload(wide, [next(p for p in good_photos if p.name == "coffee.png")])
    expect(page.locator(".upload-row", has_text="coffee.png")).to_have_attribute("data-state", "done",
                                                                                 timeout=30_000)
    expect(page.locator('.upload-row[data-state="failed"]')).to_have_count(3)
    expect(page.locator(".photo-grid .tile")).to_have_count(1)
    wide.shot("wide-09-rejected-files", part="#step-photos")
    assert not wide.errors, wide.errors


def test_usable_at_phone_width(good_photos: list[Path], narrow: Tab) -> None:
    page = narrow.page
    sign_in(narrow, shot="narrow-01-sign-in")
    no_horizontal_overflow(narrow)
    project_id = create_project(narrow, name="Phone trip", aspect_label="Vertical 9:16", shot="narrow-02-projects")
    no_horizontal_overflow(narrow)

    upload(narrow, [p for p in good_photos if p.name in PICKS])
    expect(page.locator('.upload-row[data-state="done"]')).to_have_count(5, timeout=60_000)
    tiles = page.locator(".photo-grid .tile")
    expect(tiles).to_have_count(5)
    wait_images_loaded(page.locator(".photo-grid img"), count=5)
    # Two photos a row, each big enough to see and to tap.
    boxes = [t.bounding_box() for t in tiles.all()[:2]]
    assert boxes[0] and boxes[1] and boxes[0]["y"] == boxes[1]["y"] and boxes[0]["width"] >= 140
    no_horizontal_overflow(narrow)

    # Reorder by tapping the tile's button.
    before = [t.get_attribute("data-id") for t in tiles.all()]
    first = tiles.first.get_attribute("aria-label").split(",")[0]
    later = page.get_by_role("button", name=f"Move {first} later")
    box = later.bounding_box()
    assert box and box["width"] >= 28 and box["height"] >= 28
    with page.expect_response(lambda r: r.url.endswith("/assets/order") and r.request.method == "PUT"):
        later.click()
    served = [a["id"] for a in narrow.api("GET", f"/api/projects/{project_id}/assets")]
    assert served == [before[1], before[0], *before[2:]]
    narrow.shot("narrow-03-photos", part="#step-photos")

    # Pick a look by tapping its card.
    with page.expect_response(lambda r: r.url.endswith(f"/api/projects/{project_id}") and r.request.method == "PATCH"):
        page.locator(".look-card", has_text="LEGO").click()
    assert narrow.api("GET", f"/api/projects/{project_id}")["look"] == "lego"
    wait_images_loaded(page.locator(".look-card img"), count=6, timeout=90)
    no_horizontal_overflow(narrow)
    narrow.shot("narrow-04-project")
    no_junk_text(narrow)

    # Every control has a name a screen reader can say, and keyboard focus is always visible.
    assert page.evaluate(UNLABELLED) == []
    page.locator("#main").focus()
    rings = []
    for _ in range(60):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring["tag"] == "BODY":  # past the last control on the page
            break
        rings.append(ring)
    missing = [(i, rings[i - 1]["text"] if i else "", r["tag"]) for i, r in enumerate(rings) if not r["ring"]]
    assert not missing, missing
    assert len({r["text"] for r in rings}) >= 15, rings
    assert not narrow.errors, narrow.errors


def _project_with_plan(tab: Tab, *, photos: list[Path], name: str, look: str, seconds: float) -> str:
    """A square project with its storyboard, made through the API (with the browser's session)."""
    base = tab.server.url
    project = tab.api("POST", "/api/projects", {"name": name, "look": look, "aspect": "1:1", "duration": seconds})
    for photo in photos:
        r = tab.page.request.post(f"{base}/api/projects/{project['id']}/assets",
                                  multipart={"file": {"name": photo.name, "mimeType": "application/octet-stream",
                                                      "buffer": photo.read_bytes()}})
        assert r.status == 201, r.text()
    job = tab.api("POST", f"/api/projects/{project['id']}/plan")
    deadline = time.monotonic() + 90
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the storyboard took too long"
        time.sleep(0.25)
        job = tab.api("GET", f"/api/jobs/{job['id']}")
    assert job["status"] == "done", job
    return str(project["id"])


def test_page_follows_a_render_through_a_server_crash(good_photos: list[Path], wide: Tab) -> None:
    page = wide.page
    sign_in(wide)
    project_id = _project_with_plan(wide, photos=[p for p in good_photos if p.name in PICKS[:3]], name="Crash test",
                                    look="comic", seconds=4)
    streams: list[tuple[float, Any]] = []
    page.on("request", lambda r: streams.append((time.monotonic(), r)) if "/events" in r.url else None)
    page.goto(f"{wide.server.url}/#/p/{project_id}")
    scenes = len(wide.api("GET", f"/api/projects/{project_id}/plan")["scenes"])

    page.get_by_role("button", name="Render video").click()
    bar = page.get_by_role("progressbar", name="Render progress")
    expect(page.locator(".stage-chip.is-running", has_text="Clips")).to_be_visible(timeout=60_000)
    before = int(bar.get_attribute("aria-valuenow") or 0)
    assert before < 100
    wide.server.kill()
    killed_at = time.monotonic()
    try:
        # The page says it lost the server, and keeps the progress it had.
        expect(page.locator(".pill")).to_have_text(re.compile("Reconnecting|unreachable"), timeout=10_000)
        expect(page.locator("#connection")).to_be_visible(timeout=10_000)
        expect(page.locator("#connection")).to_contain_text("Lost contact")
        wide.shot("wide-11-server-down", part="#step-render")
        held = int(bar.get_attribute("aria-valuenow") or 0)
        assert before <= held < 100  # what it had is kept, not reset
    finally:
        wide.server.start()

    seen = [held]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and seen[-1] < 100:
        assert not page.locator(".render-panel.is-failed").count(), page.locator(".render-panel").inner_text()
        value = int(bar.get_attribute("aria-valuenow") or 0)
        if value != seen[-1]:
            seen.append(value)
        time.sleep(0.15)
    assert seen[-1] == 100, f"stalled at {seen}\n{wide.server.log_tail()}"
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    expect(page.locator("#connection")).to_be_hidden()
    expect(page.locator('.render-scene[data-state="done"]')).to_have_count(scenes)

    # It came back by asking for what it missed: a reconnect carried the last event id it had.
    resumed = []
    for at, request in streams:
        if at <= killed_at:
            continue
        headers = request.all_headers()
        last = headers.get("last-event-id") or (re.search(r"last_event_id=(\d+)", request.url) or [None, None])[1]
        if last:
            resumed.append(int(last))
    assert resumed and min(resumed) > 0, [r.url for _, r in streams]
    # Each event shows once, in order: the log's sequence numbers only go up, and the server's own
    # "resuming" note is there exactly one time.
    log = page.locator(".log-list li").evaluate_all("els => els.map(e => [Number(e.dataset.seq), e.textContent])")
    seqs = [seq for seq, _ in log]
    assert seqs == sorted(set(seqs)), log
    assert sum("resum" in text for _, text in log) == 1, log

    video = page.locator("#result-video")
    expect(video).to_be_visible(timeout=30_000)
    duration = video.evaluate("""v => new Promise(ok => v.readyState >= 1 ? ok(v.duration)
        : v.addEventListener('loadedmetadata', () => ok(v.duration), {once: true}))""")
    assert duration == pytest.approx(4.0, abs=0.1)
    wide.shot("wide-12-after-restart", part="#step-render")
    assert not wide.errors, wide.errors
