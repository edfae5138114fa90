"""Issue 11 in a real browser (Debian Chromium through Playwright, a real `momentloop serve`): the web editor
keeps what the user did. A scene edit survives a change of length and a reload and is carried into the
new storyboard; undo and redo work across reloads; the user's own photo order survives "Make storyboard";
every step's state follows the project (and an out-of-date video says so); a longer scene says where its
beat came from; the animation prompt says it is unused by the offline renderer. Screenshots at 1280×900
and 380×800 go to test-artifacts/ui/ (issue11-*)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Server, Tab, expect, no_horizontal_overflow, no_junk_text, open_tab, sign_in

WIDE_900 = {"width": 1280, "height": 900}
DATED = ["chelsea_cat.png", "kimono_portrait.jpg", "fox_parade.jpg"]  # kimono 2020-01-26, fox 2020-01-29


@pytest.fixture()
def wide(browser: Any, server: Server) -> Iterator[Tab]:
    yield from open_tab(browser, server, WIDE_900)


def _photos(good_photos: list[Path], names: list[str]) -> list[Path]:
    by_name = {p.name: p for p in good_photos}
    return [by_name[n] for n in names]


def _project(tab: Tab, *, name: str, photos: list[Path], **fields: Any) -> str:
    """A project with these photos, made through the API with the browser's own session."""
    project = tab.api("POST", "/api/projects", {"name": name, "aspect": "1:1", **fields})
    for photo in photos:
        r = tab.page.request.post(f"{tab.server.url}/api/projects/{project['id']}/assets",
                                  multipart={"file": {"name": photo.name, "mimeType": "application/octet-stream",
                                                      "buffer": photo.read_bytes()}})
        assert r.status == 201, r.text()
    return str(project["id"])


def _open(tab: Tab, project_id: str) -> None:
    tab.page.goto(f"{tab.server.url}/#/p/{project_id}")
    expect(tab.page.locator("#step-storyboard")).to_be_visible()


def _step(tab: Tab, step: str) -> Any:
    return tab.page.locator(f'.stepnav a[data-step="step-{step}"]')


def _make_storyboard(tab: Tab, *, button: str) -> None:
    page = tab.page
    with page.expect_response(lambda r: r.url.endswith("/plan") and r.request.method == "POST"):
        page.locator("#make-storyboard").filter(has_text=button).click()
    # Done when the button says what it does next ("Make again") and the job card is gone.
    expect(page.locator("#make-storyboard")).to_have_text("Make again", timeout=120_000)
    expect(page.locator(".story-job .job-card")).to_have_count(0)


def _plan(tab: Tab, project_id: str) -> dict[str, Any]:
    return dict(tab.api("GET", f"/api/projects/{project_id}/plan"))


def _set_length(tab: Tab, seconds: str) -> None:
    page = tab.page
    with page.expect_response(lambda r: r.request.method == "PATCH" and "/api/projects/" in r.url):
        page.locator("#project-duration").fill(seconds)
        page.locator("#project-duration").press("Enter")


def test_an_edit_survives_a_length_change_and_a_reload(good_photos: list[Path], wide: Tab) -> None:
    page = wide.page
    sign_in(wide)
    pid = _project(wide, name="Length change", photos=_photos(good_photos, ["chelsea_cat.png", "coffee.png",
                                                                           "astronaut.png"]), duration=6)
    _open(wide, pid)
    _make_storyboard(wide, button="Make storyboard")
    plan = _plan(wide, pid)
    n = len(plan["scenes"])
    assert n >= 3
    scene = plan["scenes"][1]

    # Scene 2: crossfade, one beat longer, a prompt of its own. Before saving, the page says where the
    # beat will come from (the video's length is fixed).
    page.get_by_role("button", name="Edit scene 2").click()
    page.locator("#scene-editor").get_by_role("radio", name="Crossfade").check()
    page.get_by_role("button", name="One beat longer").click()
    last = plan["scenes"][-1]["beats"]
    expect(page.locator("#scene-beats-effect")).to_have_text(
        f"On saving: scene 2: {scene['beats']} → {scene['beats'] + 1} beats; scene {n} gave 1 beat "
        f"({last} → {last - 1}), so the video stays 6 s.")
    # The offline renderer never reads the prompt: the field says so, folded away.
    unused = page.locator("details.prompt-unused")
    expect(unused).to_contain_text("not used by this server")
    unused.locator("summary").click()
    expect(unused).to_contain_text("renders clips offline from the camera move")
    page.get_by_label("Animation prompt").fill("The cat stretches and yawns")
    with page.expect_response(lambda r: "/plan/scenes/1" in r.url and r.request.method == "PATCH") as saved:
        page.get_by_role("button", name="Save scene").click()
    assert saved.value.ok, saved.value.text()
    expect(page.locator("#story-note")).to_contain_text(f"scene {n} gave 1 beat ({last} → {last - 1})")
    card = page.locator(".scene-card").nth(1)
    expect(card).to_contain_text("Crossfade")
    expect(card).to_contain_text(f"{scene['beats'] + 1} beats")
    expect(card).to_contain_text("The cat stretches and yawns")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "done")
    wide.shot("issue11-wide-01-scene-edited", part="#step-storyboard")

    # A new length: the storyboard stays as edited, says it is out of date and why; nothing is deleted.
    _set_length(wide, "8")
    stale = page.locator(".story-stale")
    expect(stale).to_be_visible()
    expect(stale).to_contain_text("Length: 6 s → 8 s")
    expect(page.locator("#make-storyboard")).to_have_text("Update storyboard")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "stale")
    expect(page.locator("#render-button")).to_be_disabled()
    expect(page.locator(".render-hint")).to_contain_text("out of date (length: 6 s → 8 s)")
    expect(card).to_contain_text("The cat stretches and yawns")
    server = _plan(wide, pid)
    assert not server["current"] and server["scenes"][1]["transition_in"] == "crossfade"
    wide.shot("issue11-wide-02-out-of-date", part="#step-storyboard")

    # A reload shows what the server holds: the same edited, out-of-date storyboard.
    page.reload()
    expect(page.locator(".story-stale")).to_contain_text("Length: 6 s → 8 s")
    expect(page.locator(".scene-card").nth(1)).to_contain_text("The cat stretches and yawns")
    expect(page.get_by_text("No storyboard yet")).to_have_count(0)

    # The new storyboard takes every edit over (by photo) and says so.
    _make_storyboard(wide, button="Update storyboard")
    expect(page.locator(".story-carried")).to_contain_text("All 3 of your edits were carried over")
    expect(page.locator(".story-stale")).to_be_hidden()
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "done")
    remade = _plan(wide, pid)
    assert remade["current"] and remade["duration"] == pytest.approx(8.0)
    again = next(s for s in remade["scenes"] if s["asset_id"] == scene["asset_id"])
    assert (again["transition_in"], again["beats"], again["prompt"]) == (
        "crossfade", scene["beats"] + 1, "The cat stretches and yawns")
    shown = page.locator(".scene-card").nth(again["index"])
    expect(shown).to_contain_text("The cat stretches and yawns")
    expect(shown).to_contain_text("Crossfade")
    wide.shot("issue11-wide-03-carried-over", part="#step-storyboard")
    no_junk_text(wide)
    assert not wide.errors, wide.errors


def test_undo_and_redo_across_a_reload(good_photos: list[Path], wide: Tab) -> None:
    page = wide.page
    sign_in(wide)
    pid = _project(wide, name="Undo", photos=_photos(good_photos, ["coffee.png", "astronaut.png", "camera.png"]),
                   duration=6)
    _open(wide, pid)
    _make_storyboard(wide, button="Make storyboard")
    made = _plan(wide, pid)
    expect(page.locator("#plan-undo")).to_be_disabled()
    expect(page.locator("#plan-redo")).to_be_disabled()
    new_move = "pan_up" if made["scenes"][0]["move"] != "pan_up" else "pan_down"
    page.get_by_role("button", name="Edit scene 1").click()
    page.get_by_label("Camera move").select_option(new_move)
    with page.expect_response(lambda r: "/plan/scenes/0" in r.url and r.request.method == "PATCH"):
        page.get_by_role("button", name="Save scene").click()
    words = new_move.replace("_", " ")
    expect(page.locator("#plan-undo")).to_have_attribute("aria-label", f"Undo: scene 1: camera: {words}")

    page.reload()
    expect(page.locator("#plan-undo")).to_be_enabled()
    with page.expect_response(lambda r: r.url.endswith("/plan/undo")):
        page.locator("#plan-undo").click()
    expect(page.locator("#plan-undo")).to_be_disabled()
    expect(page.locator("#plan-redo")).to_have_attribute("aria-label", f"Redo: scene 1: camera: {words}")
    assert _plan(wide, pid)["scenes"] == made["scenes"]
    wide.shot("issue11-wide-04-undone", part="#step-storyboard")

    page.reload()
    expect(page.locator("#plan-redo")).to_be_enabled()
    with page.expect_response(lambda r: r.url.endswith("/plan/redo")):
        page.locator("#plan-redo").click()
    expect(page.locator(".scene-card").first).to_contain_text(words.capitalize())
    assert _plan(wide, pid)["scenes"][0]["move"] == new_move
    expect(page.locator("#plan-redo")).to_be_disabled()
    assert not wide.errors, wide.errors


def test_the_users_order_survives_make_storyboard(good_photos: list[Path], wide: Tab) -> None:
    page = wide.page
    sign_in(wide)
    pid = _project(wide, name="My order", photos=_photos(good_photos, DATED), duration=6)
    _open(wide, pid)
    switch = page.get_by_role("switch", name="Order by capture time")
    expect(switch).to_be_checked()
    expect(page.locator("#order-help")).to_contain_text("in the order they were taken")

    # The parade photo moved to first place by hand: the switch turns off, the page says the order is theirs.
    for _ in range(2):
        with page.expect_response(lambda r: r.url.endswith("/assets/order") and r.request.method == "PUT"):
            page.get_by_role("button", name="Move fox_parade.jpg earlier").click()
    expect(switch).not_to_be_checked()
    expect(page.locator("#order-help")).to_contain_text("exactly in the order shown here")
    assert wide.api("GET", f"/api/projects/{pid}")["order"] == "manual"
    wide.shot("issue11-wide-05-order-switch", part="#step-photos")

    _make_storyboard(wide, button="Make storyboard")
    plan = _plan(wide, pid)
    assert [s["photo"] for s in plan["scenes"][:3]] == ["fox_parade.jpg", "chelsea_cat.png", "kimono_portrait.jpg"]
    expect(page.locator(".scene-card").first.locator(".scene-thumb")).to_have_attribute(
        "src", re.compile(plan["scenes"][0]["asset_id"]))

    # The switch back on: the storyboard is out of date for that reason, and the dates win again.
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        page.locator("label.switch").click()  # where a person clicks: the switch's track or its words
    expect(switch).to_be_checked()
    expect(page.locator(".story-stale")).to_contain_text("Photo order: your order → by capture time")
    _make_storyboard(wide, button="Update storyboard")
    order = list(dict.fromkeys(s["photo"] for s in _plan(wide, pid)["scenes"]))
    assert order.index("kimono_portrait.jpg") < order.index("fox_parade.jpg")
    assert not wide.errors, wide.errors


def _render(tab: Tab) -> None:
    page = tab.page
    page.locator("#render-button").click()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if page.locator("#result-video").count() and page.locator(".render-panel.is-done").count():
            return
        assert not page.locator(".render-panel.is-failed").count(), page.locator(".render-panel").inner_text()
        time.sleep(0.3)
    raise AssertionError(f"the render did not finish\n{tab.server.log_tail()}")


def test_step_states_follow_the_project(good_photos: list[Path], wide: Tab, narrow: Tab) -> None:
    page = wide.page
    sign_in(wide)
    # A blank project: nothing is done, not even the look (there is nothing to paint yet).
    blank = _project(wide, name="Blank", photos=[], duration=4, fps=12)
    _open(wide, blank)
    for step in ("photos", "look", "storyboard", "render"):
        expect(_step(wide, step)).to_have_attribute("data-state", "todo")
    expect(page.locator("#render-button")).to_be_disabled()
    wide.shot("issue11-wide-06-blank-project")

    pid = _project(wide, name="Steps", photos=_photos(good_photos, ["chelsea_cat.png", "coffee.png",
                                                                   "astronaut.png", "camera.png",
                                                                   "rocket_launch.jpg"]), duration=4, fps=12)
    _open(wide, pid)
    expect(_step(wide, "photos")).to_have_attribute("data-state", "done")
    expect(_step(wide, "look")).to_have_attribute("data-state", "done")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "todo")
    _make_storyboard(wide, button="Make storyboard")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "done")
    expect(page.locator("#render-button")).to_be_enabled()
    expect(page.locator("#render-button")).to_have_class(re.compile(r"\bbtn-primary\b"))

    _render(wide)
    expect(_step(wide, "render")).to_have_attribute("data-state", "done")
    expect(page.locator("#step-render .step-status")).to_have_text("Video ready")
    expect(page.locator("#result-outdated")).to_have_count(0)
    expect(page.locator("#render-button")).to_have_class(re.compile(r"\bbtn-secondary\b"))

    # A new look: the storyboard still fits, the video no longer shows the project.
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith(pid)):
        page.locator(".look-card", has_text="Sketch").click()
    expect(_step(wide, "render")).to_have_attribute("data-state", "stale")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "done")
    outdated = page.locator("#result-outdated")
    expect(outdated).to_contain_text("Out of date")
    expect(outdated).to_contain_text("Look: ghibli → sketch")
    expect(page.locator(".stale-badge")).to_be_visible()
    expect(page.locator("#step-render .step-status")).to_have_text("Out of date")
    expect(page.locator("#render-button")).to_be_enabled()
    expect(page.locator("#render-button")).to_have_class(re.compile(r"\bbtn-primary\b"))
    wide.shot("issue11-wide-07-video-out-of-date", part="#step-render")

    # A new length: both out of date, and rendering waits for the storyboard.
    _set_length(wide, "5")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "stale")
    expect(_step(wide, "render")).to_have_attribute("data-state", "stale")
    expect(page.locator("#render-button")).to_be_disabled()
    expect(outdated).to_contain_text("Length: 4 s → 5 s")
    wide.shot("issue11-wide-08-whole-project-out-of-date")

    # Back to the old length and look: the video shows the project again (the server compares, not the page).
    _set_length(wide, "4")
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith(pid)):
        page.locator(".look-card", has_text="Ghibli").click()
    expect(_step(wide, "render")).to_have_attribute("data-state", "done")
    expect(_step(wide, "storyboard")).to_have_attribute("data-state", "done")
    expect(page.locator("#result-outdated")).to_have_count(0)
    no_junk_text(wide)
    assert not wide.errors, wide.errors

    # The same project at a phone's width, out of date again: every state fits and reads the same.
    sign_in(narrow)
    phone = narrow.page
    _open(narrow, pid)
    _set_length(narrow, "5")
    expect(_step(narrow, "storyboard")).to_have_attribute("data-state", "stale")
    expect(phone.locator("#result-outdated")).to_contain_text("Length: 4 s → 5 s")
    no_horizontal_overflow(narrow)
    for step in ("photos", "storyboard", "render"):
        narrow.shot(f"issue11-narrow-{step}", part=f"#step-{step}")
    narrow.shot("issue11-narrow-whole-project")
    assert not narrow.errors, narrow.errors
