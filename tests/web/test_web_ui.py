"""The web UI in a real browser: Playwright drives Debian Chromium against a real `momentloop serve`.

The whole flow a person goes through (sign in, create a project, upload real photos, reorder them, pick a
look, make and edit the storyboard, render with live progress, play, download), a rejected upload showing
its reason, and the page at a phone's width. Screenshots of each step go to test-artifacts/ui/."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser import (
    FOCUS_RING,
    NARROW,
    PICKS,
    UNLABELLED,
    Tab,
    as_shown,
    create_project,
    expect,
    no_horizontal_overflow,
    no_junk_text,
    sign_in,
    upload,
    wait_images_loaded,
)

from shared.media.probe import probe


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
    # This server renders offline, which never reads prompts: the field is folded away with that reason.
    page.locator("details.prompt-unused summary").click()
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
