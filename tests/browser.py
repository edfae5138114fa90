"""The browser harness of the web UI tests: `momentloop serve` in a subprocess and Debian Chromium driven
by Playwright (never a downloaded browser). Test modules import the fixtures and helpers they use."""


from __future__ import annotations

import json
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
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHOTS = PROJECT_ROOT / "test-artifacts" / "ui"
# Small, quick-to-decode real photos: people, an animal, a still life, a landscape-ish street.
PICKS = ["chelsea_cat.png", "coffee.png", "kimono_portrait.jpg", "fox_parade.jpg", "rocket_launch.jpg"]
WIDE = {"width": 1280, "height": 860}
NARROW = {"width": 380, "height": 800}
# For a screenshot: every sticky element (the top bar, the step bar, the scene editor) held in its own
# place and the toasts hidden, so a picture of the page or of a part of it does not depend on where the
# page was scrolled. Set on the elements through CSSOM, which the page's Content-Security-Policy allows
# (`page.screenshot(style=...)` injects a <style> element, which it refuses: the bars then painted over
# part-page shots), and put back as they were afterwards.
PIN_FOR_SHOT = """() => {
    const saved = [];
    const set = (el, property, value) => {
        saved.push([el, property, el.style.getPropertyValue(property), el.style.getPropertyPriority(property)]);
        el.style.setProperty(property, value, 'important');
    };
    for (const el of document.querySelectorAll('body *')) {
        if (getComputedStyle(el).position === 'sticky') set(el, 'position', 'static');
    }
    for (const el of document.querySelectorAll('.toasts')) set(el, 'display', 'none');
    window.__shotSaved = saved;
    return saved.length;
}"""
UNPIN_AFTER_SHOT = """() => {
    for (const [el, property, value, priority] of window.__shotSaved || []) {
        if (value) el.style.setProperty(property, value, priority);
        else el.style.removeProperty(property);
    }
    delete window.__shotSaved;
}"""



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
                [*momentloop_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--data", str(self.data)],
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def momentloop_command() -> list[str]:
    exe = shutil.which("momentloop", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "api.cli"]


# ---------------------------------------------------------------------------------------------- browser

@dataclass
class Tab:
    page: Any
    errors: list[str]
    server: Server

    def shot(self, name: str, *, part: str | None = None) -> Path:
        """Save a screenshot: the whole page, or one part of it (a CSS selector) at its full height, with
        sticky elements in their own place and no toast over it (PIN_FOR_SHOT)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.evaluate(PIN_FOR_SHOT)
        try:
            clip = None
            if part is not None:
                box = self.page.locator(part).first.bounding_box()
                assert box is not None, f"{part} is not on the page"
                scroll = self.page.evaluate("[scrollX, scrollY]")
                clip = {"x": box["x"] + scroll[0], "y": box["y"] + scroll[1],
                        "width": box["width"], "height": box["height"]}
            self.page.screenshot(path=str(path), full_page=True, clip=clip, animations="disabled")
        finally:
            self.page.evaluate(UNPIN_AFTER_SHOT)
        return path

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Ask the API with the page's own session cookie: what the server really holds."""
        r = self.page.request.fetch(f"{self.server.url}{path}", method=method,
                                    data=json.dumps(body) if body is not None else None,
                                    headers={"Content-Type": "application/json"} if body is not None else None)
        assert r.ok, f"{method} {path}: {r.status} {r.text()}"
        return r.json() if r.status != 204 else None


def open_tab(browser: Any, server: Server, viewport: dict[str, int]) -> Iterator[Tab]:
    context = browser.new_context(viewport=viewport, accept_downloads=True, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Whatever the Content-Security-Policy blocks in the page (an inline style, a script from elsewhere) is a
    # bug too. Reports without a source file are Playwright's own style for screenshots (it hides the caret).
    page.on("console", lambda msg: errors.append(f"{msg.text} ({msg.location['url']})")
            if "Content Security Policy" in msg.text and msg.location.get("url") else None)
    yield Tab(page=page, errors=errors, server=server)
    context.close()


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
