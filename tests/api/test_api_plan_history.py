"""Edits are never silently destroyed (issue 11): a change of length, shape or photos keeps the storyboard
and marks it out of date (saying what changed); a re-plan takes over every edit that still applies, by
photo, and says which could not be kept and why; every state is kept with undo and redo; the user's own
photo order wins over capture times; an edit says what it changed elsewhere; a video says when it no
longer shows the project. On a real server with real photos, SQLite and ffmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from api.schemas import SceneUpdate
from api.storyboard import _fit_beats, carry_over, edit_record, prompt_readers, scene_keys
from functions.plan.prompts import restyle_plan, style_sentence
from shared.models.media import MusicTrack
from shared.models.plan import CameraMove, Transition
from shared.projects import PlanRecord, SceneEdit, Waveform
from tests.api.conftest import BACKENDS, Api, LiveServer
from tests.api.test_api_storyboard import _check_grid, _plan

# Real photos: two carry a capture time (kimono_portrait 2020-01-26, fox_parade 2020-01-29), one none.
DATED = ["chelsea_cat.png", "kimono_portrait.jpg", "fox_parade.jpg"]


@pytest.fixture(params=BACKENDS)
def api_on(request: pytest.FixtureRequest) -> Iterator[Api]:
    """A user of the server on each pair of backends: folder + SQLite, and S3 + PostgreSQL."""
    server: LiveServer = request.getfixturevalue("live" if request.param == "local+sqlite" else "live_s3")
    client = Api(server, server.add_user())
    yield client
    client.http.close()


def _get(api: Api, path: str) -> Any:
    r = api.http.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def _replan(api: Api, pid: str) -> dict[str, Any]:
    job = api.http.post(f"/api/projects/{pid}/plan").json()
    assert api.wait(job["id"])["status"] == "done"
    return dict(_get(api, f"/api/projects/{pid}/plan"))


def _by_asset(plan: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return next(s for s in plan["scenes"] if s["asset_id"] == asset_id)


def test_a_length_change_keeps_the_edits_and_a_re_plan_carries_them_over(api: Api,
                                                                         small_photos: list[Path]) -> None:
    pid = api.planned(small_photos, duration=6)["id"]
    base = f"/api/projects/{pid}/plan"
    plan = _get(api, base)
    assert plan["current"] and plan["stale"] == [] and plan["version"] == 1 and not plan["can_undo"]
    assert plan["note"] == "storyboard made" and plan["prompt_readers"] == []
    scene = plan["scenes"][1]
    move = "pan_left" if scene["move"] != "pan_left" else "pull_out"
    r = api.http.patch(f"{base}/scenes/1", json={"transition_in": "crossfade", "beats": scene["beats"] + 1,
                                                 "prompt": "the cat yawns", "move": move})
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["version"] == 2 and edited["can_undo"] and edited["undo"] == edited["note"]

    # A new length: the edited storyboard stays, marked out of date, and says why.
    assert api.http.patch(f"/api/projects/{pid}", json={"duration": 8}).status_code == 200
    kept = _get(api, base)
    assert kept["scenes"] == edited["scenes"] and kept["duration"] == pytest.approx(6.0)
    assert not kept["current"] and kept["stale"] == [{"what": "length", "detail": "length: 6 s → 8 s"}]

    remade = _replan(api, pid)
    _check_grid(remade)
    assert remade["current"] and remade["duration"] == pytest.approx(8.0) and remade["version"] == 3
    again = _by_asset(remade, scene["asset_id"])
    assert (again["transition_in"], again["beats"], again["prompt"], again["move"]) == (
        "crossfade", scene["beats"] + 1, "the cat yawns", move)
    assert {(c["photo"], c["what"], c["kept"]) for c in remade["carried"]} == {
        (scene["photo"], w, True) for w in ("crossfade in", f"{scene['beats'] + 1} beats", "new prompt",
                                            f"camera: {move.replace('_', ' ')}")}
    assert remade["note"].startswith("new storyboard (length: 6 s → 8 s)") and "4 of 4 edits kept" in remade["note"]

    # The carried edits are edits still: a second re-plan (the shape now) keeps them again.
    api.http.patch(f"/api/projects/{pid}", json={"aspect": "9:16"})
    assert [s["detail"] for s in _get(api, base)["stale"]] == ["shape: 1:1 → 9:16"]
    third = _replan(api, pid)
    again = _by_asset(third, scene["asset_id"])
    assert (again["transition_in"], again["beats"], again["prompt"]) == ("crossfade", scene["beats"] + 1,
                                                                         "the cat yawns")


def test_a_re_plan_says_which_edits_could_not_be_kept(api: Api, small_photos: list[Path]) -> None:
    pid = api.planned(small_photos, duration=6)["id"]
    base = f"/api/projects/{pid}/plan"
    plan = _get(api, base)
    n = len(plan["scenes"])
    first, last = plan["scenes"][0], plan["scenes"][-1]
    assert first["asset_id"] != last["asset_id"]
    # Scene 1 as long as it can be (the last scene, which gives the beats, keeps one); the last one with
    # its own prompt.
    longest = sum(s["beats"] for s in plan["scenes"]) - sum(s["beats"] for s in plan["scenes"][1:-1]) - 1
    assert api.http.patch(f"{base}/scenes/0", json={"beats": longest}).status_code == 200
    assert api.http.patch(f"{base}/scenes/{n - 1}", json={"prompt": "lights flicker"}).status_code == 200
    # Its photo goes, and the video gets shorter.
    assert api.http.delete(f"/api/projects/{pid}/assets/{last['asset_id']}").status_code == 204
    assert api.http.patch(f"/api/projects/{pid}", json={"duration": 3}).status_code == 200
    stale = _get(api, base)
    assert [s["what"] for s in stale["stale"]] == ["photos", "length"]
    assert stale["stale"][0]["detail"] == "1 photo removed"
    assert _get(api, base)["scenes"][-1]["asset_id"] is None, "the deleted photo's scene shows it is gone"

    remade = _replan(api, pid)
    lost = {(c["photo"], c["what"]): c["reason"] for c in remade["carried"] if not c["kept"]}
    assert lost == {
        (last["photo"], "new prompt"): "the photo was removed",
        (first["photo"], f"{longest} beats"): lost[(first["photo"], f"{longest} beats")],
    }
    assert lost[(first["photo"], f"{longest} beats")].startswith("no room at this length")
    assert all(s["prompt"] != "lights flicker" for s in remade["scenes"])
    assert "0 of 2 edits kept" in remade["note"]
    _check_grid(remade)


def test_every_state_is_kept_with_undo_and_redo(api_on: Api, small_photos: list[Path]) -> None:
    api = api_on
    pid = api.planned(small_photos, duration=6)["id"]
    base = f"/api/projects/{pid}/plan"
    made = _get(api, base)
    r = api.http.post(f"{base}/undo")
    assert r.status_code == 409 and "nothing to undo" in r.json()["detail"]
    moved = api.http.patch(f"{base}/scenes/0", json={"move": "pan_up" if made["scenes"][0]["move"] != "pan_up"
                                                      else "pan_down"}).json()
    faded = api.http.patch(f"{base}/scenes/1", json={"transition_in": "crossfade"}).json()
    assert faded["version"] == 3 and faded["undo"] == "scene 2: crossfade in"

    undone = api.http.post(f"{base}/undo").json()
    assert undone["scenes"] == moved["scenes"] and undone["version"] == 2
    assert undone["can_redo"] and undone["redo"] == "scene 2: crossfade in"
    assert _get(api, base) == undone, "the server shows what undo answered (a reload sees it too)"
    assert api.http.post(f"{base}/undo").json()["scenes"] == made["scenes"]
    assert api.http.post(f"{base}/undo").status_code == 409
    assert api.http.post(f"{base}/redo").json()["scenes"] == moved["scenes"]
    assert api.http.post(f"{base}/redo").json()["scenes"] == faded["scenes"]
    assert api.http.post(f"{base}/redo").status_code == 409

    # A re-plan is a state too: undo brings the storyboard before it back, out of date as it was.
    api.http.patch(f"/api/projects/{pid}", json={"duration": 8})
    remade = _replan(api, pid)
    assert remade["current"] and remade["version"] == 4
    before = api.http.post(f"{base}/undo").json()
    assert before["scenes"] == faded["scenes"] and not before["current"]
    assert before["stale"] == [{"what": "length", "detail": "length: 6 s → 8 s"}]
    assert api.http.post(f"{base}/redo").json()["scenes"] == remade["scenes"]

    # Something new after an undo lets the undone state go.
    api.http.post(f"{base}/undo")
    fresh = api.http.patch(f"{base}/scenes/0", json={"prompt": "a new take"}).json()
    assert fresh["version"] == 4 and not fresh["can_redo"] and fresh["redo"] is None
    assert api.http.post(f"{base}/redo").status_code == 409


def test_an_edit_says_where_its_beat_came_from(api: Api, small_photos: list[Path]) -> None:
    pid = api.planned(small_photos, duration=6)["id"]
    base = f"/api/projects/{pid}/plan"
    plan = _get(api, base)
    n = len(plan["scenes"])
    b0, bl = plan["scenes"][0]["beats"], plan["scenes"][-1]["beats"]
    r = api.http.patch(f"{base}/scenes/0?preview=true", json={"beats": b0 + 1})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["note"] == (f"scene 1: {b0} → {b0 + 1} beats; scene {n} gave 1 beat ({bl} → {bl - 1}), "
                               f"so the video stays 6 s")
    assert [s["beats"] for s in preview["scenes"]] == [b0 + 1, *[s["beats"] for s in plan["scenes"][1:-1]], bl - 1]
    assert _get(api, base) == plan, "a preview stores nothing"
    saved = api.http.patch(f"{base}/scenes/0", json={"beats": b0 + 1}).json()
    assert saved["note"] == preview["note"] and saved["scenes"] == preview["scenes"]
    back = api.http.patch(f"{base}/scenes/0", json={"beats": b0}).json()
    assert back["note"] == f"scene 1: {b0 + 1} → {b0} beats; scene {n} took 1 beat ({bl - 1} → {bl}), so the video " \
                           "stays 6 s"


def test_the_users_photo_order_wins(api: Api, good_photos: list[Path]) -> None:
    photos = {p.name: p for p in good_photos}
    pid = api.project(duration=6)["id"]
    ids = {name: api.upload(pid, photos[name]).json()["id"] for name in DATED}
    assert _get(api, f"/api/projects/{pid}")["order"] == "capture_time"
    # Capture times: the kimono portrait (Jan 26) comes before the parade (Jan 29) wherever it was put.
    planned = _replan(api, pid)
    first_seen = list(dict.fromkeys(s["photo"] for s in planned["scenes"]))
    assert first_seen.index("kimono_portrait.jpg") < first_seen.index("fox_parade.jpg")

    # The parade put first by hand: the order becomes the user's, and the storyboard follows it.
    hand = [ids["fox_parade.jpg"], ids["chelsea_cat.png"], ids["kimono_portrait.jpg"]]
    assert api.http.put(f"/api/projects/{pid}/assets/order", json={"asset_ids": hand}).status_code == 200
    assert _get(api, f"/api/projects/{pid}")["order"] == "manual"
    assert [s["what"] for s in _get(api, f"/api/projects/{pid}/plan")["stale"]] == ["photos", "order"]
    mine = _replan(api, pid)
    assert [s["asset_id"] for s in mine["scenes"][:3]] == hand

    # Switched back to capture time: out of date for that reason alone, and the dates win again.
    api.http.patch(f"/api/projects/{pid}", json={"order": "capture_time"})
    assert _get(api, f"/api/projects/{pid}/plan")["stale"] == [
        {"what": "order", "detail": "photo order: your order → by capture time"}]
    dated = _replan(api, pid)
    first_seen = list(dict.fromkeys(s["photo"] for s in dated["scenes"]))
    assert first_seen.index("kimono_portrait.jpg") < first_seen.index("fox_parade.jpg")
    assert api.http.patch(f"/api/projects/{pid}", json={"order": "by_date"}).status_code == 422


def test_a_video_says_when_it_no_longer_shows_the_project(api_on: Api, small_photos: list[Path]) -> None:
    api = api_on
    pid = api.planned(small_photos)["id"]
    job = api.http.post(f"/api/projects/{pid}/render").json()
    assert api.wait(job["id"])["status"] == "done"
    exports = f"/api/projects/{pid}/exports"

    def shown() -> tuple[bool, list[str]]:
        latest = _get(api, exports)[0]
        return latest["current"], latest["stale"]

    assert shown() == (True, [])
    api.http.patch(f"/api/projects/{pid}", json={"look": "comic"})
    assert shown() == (False, ["look: ghibli → comic"])
    api.http.patch(f"/api/projects/{pid}", json={"look": "ghibli"})
    assert shown() == (True, [])
    plan = _get(api, f"/api/projects/{pid}/plan")
    api.http.patch(f"/api/projects/{pid}/plan/scenes/0", json={"move": "pan_up" if plan["scenes"][0]["move"]
                                                                != "pan_up" else "pan_down"})
    assert shown() == (False, ["the storyboard changed since it was rendered"])
    api.http.post(f"/api/projects/{pid}/plan/undo")
    assert shown() == (True, []), "undo brings back exactly the storyboard the video shows"
    api.http.patch(f"/api/projects/{pid}", json={"duration": 5})
    assert shown() == (False, ["length: 4 s → 5 s"])


# ---------------------------------------------------------------- the carrying rules on their own


def _record(plan_beats: list[int], *, ids: list[str] | None = None) -> PlanRecord:
    return PlanRecord(project_id="p", plan=_plan(plan_beats),
                      asset_ids=ids or [f"a{k}" for k in range(len(plan_beats))],
                      track=MusicTrack(audio_key="m", name="m.wav", origin="generated", duration=8.0),
                      waveform=Waveform(duration=8.0, peaks=[0.5]), fingerprint="f",
                      updated_at=datetime(2025, 1, 1, tzinfo=UTC))


def test_fitting_carried_lengths() -> None:
    # Asked lengths kept; the last free scene takes up the difference.
    assert _fit_beats(planned=[4, 4, 4, 4], asked={1: 6}, slots=16).wanted == [4, 6, 4, 2]
    # More than one free scene gives, from the last back, each keeping a beat.
    assert _fit_beats(planned=[4, 4, 4, 4], asked={0: 11}, slots=16).wanted == [11, 3, 1, 1]
    # No room: the longest asked length goes, and the scene keeps the planned one.
    fit = _fit_beats(planned=[4, 4, 4, 4], asked={0: 14, 1: 5}, slots=16)
    assert (fit.wanted, fit.lost) == ([4, 5, 4, 3], [0])
    # Every scene asked for and the video longer: one asked length gives way.
    fit = _fit_beats(planned=[8, 8], asked={0: 4, 1: 4}, slots=16)
    assert sum(fit.wanted) == 16 and len(fit.lost) == 1


def test_carrying_edits_by_photo_not_by_place() -> None:
    before = _record([4, 4, 4, 4])
    before = edit_record(record=before, index=2, update=_update(beats=5, transition_in=Transition.crossfade),
                         look="ghibli")
    before = edit_record(record=before, index=0, update=_update(move=CameraMove.pan_left), look="ghibli")
    # The new storyboard has the photos in another order (a2 first now) and one photo fewer.
    new = _record([2, 6, 8], ids=["a2", "a0", "a3"]).model_copy(
        update={"plan": _plan([2, 6, 8]).model_copy(update={"scenes": [
            s.model_copy(update={"photo_index": k}) for k, s in enumerate(_plan([2, 6, 8]).scenes)]})})
    carried = carry_over(previous=before, record=new, live_assets={"a0", "a2", "a3"})
    scenes = carried.plan.scenes
    # a2's crossfade cannot open the video; its 5 beats can; a0 (now second) keeps its pan.
    assert (scenes[0].beats, scenes[0].transition_in) == (5, Transition.cut)
    assert scenes[1].move == CameraMove.pan_left
    assert [s.beats for s in scenes] == [5, 6, 5] and scenes[-1].end == 8.0
    lost = [(c.photo, c.what, c.reason) for c in carried.carried if not c.kept]
    assert lost == [("p2.jpg", "crossfade in", "its scene now opens the video, which always begins with a cut")]
    assert scene_keys(plan=carried.plan, asset_ids=carried.asset_ids)[0] in carried.edits
    assert carried.note == "new storyboard; 2 of 3 edits kept"


def test_a_written_prompt_is_kept_as_written_in_any_look() -> None:
    record = edit_record(record=_record([4, 4, 4, 4]), index=1, update=_update(prompt="the cat yawns"), look="lego")
    assert restyle_plan(record.plan, look="comic").scenes[1].prompt == "the cat yawns"
    # A planner's prompt (ending in its look's sentence) follows the look, in a carried edit too.
    styled = f"Slow pan. {style_sentence('lego')}"
    record = record.model_copy(update={"edits": {**record.edits, "photo:a1:0": SceneEdit(
        photo="p1.jpg", prompt=styled, look="lego")}})
    new = _record([4, 4, 4, 4]).model_copy(update={"plan": _plan([4, 4, 4, 4]).model_copy(update={"look": "ink"})})
    assert carry_over(previous=record, record=new, live_assets={"a1"}).plan.scenes[1].prompt == \
        f"Slow pan. {style_sentence('ink')}"


def test_who_reads_the_prompts() -> None:
    assert prompt_readers("local") == []
    assert prompt_readers("kling,local") == ["Kling"]
    assert prompt_readers("veo, sora ,local") == ["Veo 3.1", "Sora 2"]
    assert prompt_readers("replicate:bytedance/seedance-1-pro-fast,replicate") == ["Seedance", "Kling"]
    assert prompt_readers("gemini") == ["Veo 3.1"]


def _update(**fields: Any) -> SceneUpdate:
    return SceneUpdate(**fields)
