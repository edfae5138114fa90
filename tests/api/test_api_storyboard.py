"""The storyboard: made by a plan job from the project's photos, shown on the music's beat grid, edited
scene by scene and re-laid so every boundary stays on a beat and the video still ends on its last one."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from api.schemas import SceneUpdate
from api.storyboard import edit_scene, relay, reorder_scenes
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Scene, ScenePlan, Transition
from shared.projects import ConflictError
from tests.api.conftest import Api

EPS = 1e-6


def _check_grid(plan: dict[str, Any]) -> None:
    """Every boundary a beat, scenes back to back from 0, the last ending on the final downbeat, and
    each scene's `beats` equal to the beats it spans."""
    scenes, beats = plan["scenes"], plan["beats"]
    assert scenes[0]["start"] == 0 and scenes[0]["transition_in"] == "cut"
    for a, b in itertools.pairwise(scenes):
        assert a["end"] == b["start"]
        assert min(abs(a["end"] - t) for t in beats) < EPS, f"cut at {a['end']} is off the beat"
    assert scenes[-1]["end"] == pytest.approx(plan["duration"])
    assert plan["downbeats"][-1] == pytest.approx(plan["duration"]), "the video ends on a downbeat"
    for s in scenes:
        assert s["beats"] == sum(1 for t in beats if s["start"] + EPS < t <= s["end"] + EPS), s
    assert [s["index"] for s in scenes] == list(range(len(scenes)))


@pytest.fixture()
def planned(api: Api, small_photos: list[Path]) -> tuple[Api, dict[str, Any]]:
    return api, api.planned(small_photos, duration=6)


def test_plan_job_makes_a_storyboard_on_the_beat_grid(api: Api, small_photos: list[Path]) -> None:
    project = api.project(duration=6)
    pid = project["id"]
    r = api.http.get(f"/api/projects/{pid}/plan")  # before the first one: an empty storyboard, not a 404
    assert r.status_code == 200 and (r.json()["scenes"], r.json()["version"]) == ([], 0)
    r = api.http.post(f"/api/projects/{pid}/plan")
    assert r.status_code == 409 and "no photos" in r.json()["detail"]

    ids = [api.upload(pid, p).json()["id"] for p in small_photos]
    r = api.http.post(f"/api/projects/{pid}/plan")
    assert r.status_code == 202
    job = r.json()
    assert (job["kind"], job["project_id"], job["export_id"]) == ("plan", pid, None)
    assert job["status"] in ("queued", "running")
    assert api.wait(job["id"])["status"] == "done"

    plan = api.http.get(f"/api/projects/{pid}/plan").json()
    assert plan["duration"] == pytest.approx(6.0) and plan["tempo"] > 0
    _check_grid(plan)
    assert len(plan["scenes"]) >= 2
    assert len(plan["waveform"]["peaks"]) == 800 and max(plan["waveform"]["peaks"]) == 1.0
    assert plan["waveform"]["duration"] == pytest.approx(6.0)
    for s in plan["scenes"]:
        assert s["asset_id"] in ids and s["thumbnail_url"] == f"/api/assets/{s['asset_id']}/thumbnail"
        assert s["photo"] in {p.name for p in small_photos} and "style" in s["prompt"]
        assert api.http.get(s["thumbnail_url"]).status_code == 200
    assert [j["id"] for j in api.http.get(f"/api/projects/{pid}/jobs").json()] == [job["id"]]


def test_editing_a_scene_re_lays_the_storyboard(planned: tuple[Api, dict[str, Any]]) -> None:
    api, project = planned
    base = f"/api/projects/{project['id']}/plan"
    plan = api.http.get(base).json()
    n = len(plan["scenes"])
    total = sum(s["beats"] for s in plan["scenes"])

    r = api.http.patch(f"{base}/scenes/0", json={"beats": 2, "move": "pan_left", "prompt": "  the cat yawns  "})
    assert r.status_code == 200, r.text
    edited = r.json()
    _check_grid(edited)
    first, last = edited["scenes"][0], edited["scenes"][-1]
    assert (first["beats"], first["move"], first["prompt"]) == (2, "pan_left", "the cat yawns")
    assert sum(s["beats"] for s in edited["scenes"]) == total, "the last scene took up the difference"
    assert [s["beats"] for s in edited["scenes"][1:-1]] == [s["beats"] for s in plan["scenes"][1:-1]]
    assert last["beats"] == plan["scenes"][-1]["beats"] + plan["scenes"][0]["beats"] - 2
    assert api.http.get(base).json() == edited, "the edit is stored"

    r = api.http.patch(f"{base}/scenes/{n - 1}", json={"transition_in": "crossfade"})
    crossfaded = r.json()["scenes"][-1]
    assert crossfaded["transition_in"] == "crossfade" and 0 < crossfaded["transition_seconds"] <= 1.0

    order = list(reversed(range(n)))
    r = api.http.put(f"{base}/order", json={"order": order})
    assert r.status_code == 200, r.text
    reordered = r.json()
    _check_grid(reordered)
    assert [s["asset_id"] for s in reordered["scenes"]] == [s["asset_id"] for s in reversed(edited["scenes"])]
    assert [s["beats"] for s in reordered["scenes"]] == [s["beats"] for s in reversed(edited["scenes"])]
    assert reordered["scenes"][0]["transition_in"] == "cut", "the first scene always opens on a cut"

    for path, body, status, words in [
        (f"{base}/scenes/0", {"transition_in": "crossfade"}, 409, "only begin with a cut"),
        (f"{base}/scenes/0", {"beats": 10_000 // 40}, 409, "no room"),
        (f"{base}/scenes/{n}", {"move": "drift"}, 404, f"no scene {n}"),
        (f"{base}/scenes/0", {"move": "barrel_roll"}, 422, "move"),
        (f"{base}/scenes/0", {"beats": 0}, 422, "beats"),
        (f"{base}/scenes/0", {"prompt": ""}, 422, "prompt"),
        (f"{base}/scenes/-1", {"move": "drift"}, 422, "index"),
        (f"{base}/order", {"order": [0] * n}, 409, "each of the"),
        (f"{base}/order", {"order": "0,1"}, 422, "order"),
    ]:
        method = "PUT" if path.endswith("/order") else "PATCH"
        r = api.http.request(method, path, json=body)
        assert r.status_code == status, (path, body, r.text)
        assert words in r.json()["detail"], r.json()
    assert api.http.get(base).json() == reordered, "refused edits change nothing"


def test_the_storyboard_follows_the_project(planned: tuple[Api, dict[str, Any]], good_photos: list[Path]) -> None:
    api, project = planned
    pid = project["id"]
    base = f"/api/projects/{pid}/plan"
    before = api.http.get(base).json()
    # A new look keeps the edit and rewords the prompts; a new length needs a new storyboard.
    api.http.patch(f"/api/projects/{pid}", json={"look": "minecraft"})
    restyled = api.http.get(base).json()
    assert [s["start"] for s in restyled["scenes"]] == [s["start"] for s in before["scenes"]]
    assert all("Minecraft" in s["prompt"] for s in restyled["scenes"])
    # A new length keeps it (with its edits) but marks it out of date until a new one is made.
    api.http.patch(f"/api/projects/{pid}", json={"duration": 8})
    kept = api.http.get(base).json()
    assert kept["scenes"] == restyled["scenes"] and not kept["current"]
    assert [s["detail"] for s in kept["stale"]] == ["length: 6 s → 8 s"]
    job = api.http.post(base).json()
    assert api.wait(job["id"])["status"] == "done"
    remade = api.http.get(base).json()
    assert remade["duration"] == pytest.approx(8.0) and remade["current"] and remade["stale"] == []
    # New photos too.
    api.upload(pid, good_photos[-1])
    assert [s["what"] for s in api.http.get(base).json()["stale"]] == ["photos"]


# ---------------------------------------------------------------- the re-laying rules on their own


def _plan(beats_per_scene: list[int]) -> ScenePlan:
    beats = [round(0.5 * k, 6) for k in range(1, 17)]  # 120 BPM, 8 s
    scenes, start, used = [], 0.0, 0
    for k, n in enumerate(beats_per_scene):
        used += n
        end = beats[used - 1]
        scenes.append(Scene(index=k, photo=f"p{k}.jpg", photo_index=k, image_key=f"k{k}", start=start, end=end,
                            beats=n, move=CameraMove.drift, focus=Box(x=0.25, y=0.25, w=0.5, h=0.5),
                            transition_in=Transition.cut, prompt=f"scene {k}"))
        start = end
    return ScenePlan(output=OutputSpec.for_aspect(aspect="1:1", fps=12, duration=8.0), look="ghibli", tempo=120,
                     music_offset=0.0, fade_out=1.0, beats=beats, downbeats=beats[3::4], scenes=scenes)


def test_relay_rules() -> None:
    plan = _plan([4, 4, 4, 4])
    longer = edit_scene(plan=plan, index=1, update=SceneUpdate(beats=6))
    assert [s.beats for s in longer.scenes] == [4, 6, 4, 2]
    assert [s.start for s in longer.scenes] == [0.0, 2.0, 5.0, 7.0] and longer.scenes[-1].end == 8.0
    last = edit_scene(plan=plan, index=3, update=SceneUpdate(beats=2))
    assert [s.beats for s in last.scenes] == [4, 4, 6, 2], "the scene before the last takes it up"
    with pytest.raises(ConflictError):
        edit_scene(plan=plan, index=0, update=SceneUpdate(beats=14))
    assert [s.beats for s in edit_scene(plan=plan, index=0, update=SceneUpdate(beats=7)).scenes] == [7, 4, 4, 1]
    swapped = reorder_scenes(plan=_plan([2, 6, 4, 4]), order=[1, 0, 3, 2])
    assert [(s.photo, s.beats, s.start) for s in swapped.scenes] == [
        ("p1.jpg", 6, 0.0), ("p0.jpg", 2, 3.0), ("p3.jpg", 4, 4.0), ("p2.jpg", 4, 6.0)]
    faded = relay(plan=plan, scenes=[s.model_copy(update={"transition_in": Transition.crossfade})
                                     for s in plan.scenes])
    assert faded.scenes[0].transition_in == Transition.cut
    assert [s.transition_seconds for s in faded.scenes[1:]] == [0.5, 0.5, 0.5], "a beat, at most"
    single = relay(plan=plan, scenes=[plan.scenes[0]])
    assert (single.scenes[0].beats, single.scenes[0].end) == (16, 8.0)
