"""A running stage's own message under its bar, in a real browser against a real `momentloop serve`.

The server's numba cache is cold for librosa's beat tracker only (tests/fakes/numba_cache.py): the
storyboard job's "Finding the beat" step sends progress events whose message is the first-run one
("preparing the audio analyser (first run only, ~45 s)") while the kernels compile, and the page shows it
under the job's bar, as text, until the step moves on. Screenshot: test-artifacts/ui/progress-first-run.png."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import PICKS, Tab, expect, sign_in
from fakes.media import click_track
from fakes.numba_cache import seed_cache

from functions.analyze.kernels import BEAT_KERNELS, FIRST_RUN_MESSAGE


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("numba-cache")
    seed_cache(cache, cold=BEAT_KERNELS)  # nothing to copy on a machine that never compiled: all cold
    return {"NUMBA_CACHE_DIR": str(cache)}


@pytest.fixture()
def song(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "clicks.wav"  # a song of the user's: beat-tracked (a generated one brings its beats)
    path.write_bytes(click_track(seconds=12.0, bpm=120.0))
    yield path


def test_the_first_run_message_shows_under_the_storyboard_bar(wide: Tab, good_photos: list[Path],
                                                              song: Path) -> None:
    page = wide.page
    sign_in(wide)
    project = wide.api("POST", "/api/projects", {"name": "First run", "aspect": "1:1", "duration": 6})
    for path in [*(p for p in good_photos if p.name in PICKS[:2]), song]:
        r = page.request.post(f"{wide.server.url}/api/projects/{project['id']}/assets",
                              multipart={"file": {"name": path.name, "mimeType": "application/octet-stream",
                                                  "buffer": path.read_bytes()}})
        assert r.status == 201, r.text()
    page.goto(f"{wide.server.url}/#/p/{project['id']}")
    page.locator("#make-storyboard").click()
    note = page.locator(".job-card .stage-message")
    shown = FIRST_RUN_MESSAGE[0].upper() + FIRST_RUN_MESSAGE[1:]
    expect(note).to_have_text(shown, timeout=60_000)
    expect(page.locator(".job-card .job-line")).to_contain_text("Finding the beat")
    # Text, not markup: the element holds one text node, exactly the server's words.
    assert note.evaluate("el => [el.childNodes.length, el.firstChild.nodeType]") == [1, 3]
    wide.shot("progress-first-run", part=".job-card")
    # The storyboard arrives, and the job's card with its message goes.
    expect(page.locator(".job-card")).to_have_count(0, timeout=180_000)
    expect(page.locator(".scene-list .scene-card").first).to_be_visible()
