"""The harness's screenshots under the app's Content-Security-Policy: a shot of a part of the page is the
same wherever the page was scrolled (before, the style Playwright injects to pin the sticky bars was
refused by the CSP, and the bars were painted over the part at the scroll position), no toast covers it,
and the page is left as it was."""

from __future__ import annotations

import numpy as np
from browser import Tab, expect, sign_in
from PIL import Image


def _pixels(path: object) -> np.ndarray:
    with Image.open(str(path)) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def test_a_part_shot_is_the_same_wherever_the_page_is_scrolled(narrow: Tab) -> None:
    page = narrow.page
    sign_in(narrow)
    project = narrow.api("POST", "/api/projects", {"name": "Shots", "aspect": "9:16"})
    page.goto(f"{narrow.server.url}/#/p/{project['id']}")
    expect(page.locator("#step-render")).to_be_visible()
    part = "#step-look"
    box = page.locator(part).bounding_box()
    assert box is not None
    top = page.evaluate("scrollY") + box["y"]
    room = page.evaluate("document.documentElement.scrollHeight - innerHeight")
    target = int(min(top + box["height"] / 2, room))
    assert target > top + 100, f"the page scrolls into the part (part at {top}, scrolls {room})"

    page.evaluate("() => window.scrollTo({top: 0, behavior: 'instant'})")
    at_top = _pixels(narrow.shot("harness-part-at-top", part=part))
    # Scrolled into the middle of the part: the sticky step bar stands over it on screen.
    page.evaluate("y => window.scrollTo({top: y, behavior: 'instant'})", target)
    page.wait_for_function("y => Math.abs(scrollY - y) < 2", arg=target)
    page.locator("#toasts").evaluate("el => el.append(Object.assign(document.createElement('div'), "
                                            "{className: 'toast', textContent: 'A toast over the page'}))")
    scrolled = _pixels(narrow.shot("harness-part-scrolled", part=part))
    assert at_top.shape == scrolled.shape
    differs = np.abs(at_top - scrolled).max(axis=2) > 24
    rows = np.nonzero(differs.any(axis=1))[0]
    # Before: the step bar (38 rows, 1,520 pixels here) painted over the part at the scroll position.
    assert not differs.any(), f"{differs.sum()} pixels differ, rows {rows.min()}..{rows.max()}"

    # And the page is as it was: the bars sticky again, scrolled where it was.
    assert page.evaluate("getComputedStyle(document.querySelector('.stepnav')).position") == "sticky"
    assert page.evaluate("document.querySelector('.stepnav').style.cssText") == ""
    assert abs(page.evaluate("scrollY") - target) < 2
    assert narrow.errors == [], narrow.errors
