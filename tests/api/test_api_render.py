"""Rendering over HTTP: the video and its poster as a player and a download see them (Range requests
included; on a folder + SQLite and on S3 + PostgreSQL), re-rendering one edited scene, cancelling and
resuming, and a failure a person can act on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from videocheck import decode_gray_frames

from shared.media.probe import probe
from tests.api.conftest import Api, LiveServer, parse_sse


def _stage_counts(events: list[dict[str, Any]], *, after_seq: int = 0) -> dict[str, tuple[int, int]]:
    """(items, cached) of each stage, from its `running` event: "N item(s), K cached"."""
    counts = {}
    for e in events:
        d = e["data"]
        if d["seq"] > after_seq and d["type"] == "stage" and d["status"] == "running":
            total, cached = d["message"].split(" item(s), ")
            counts[d["stage"]] = (int(total), int(cached.split()[0]))
    return counts


def _where_it_lives(rendered: dict[str, Any]) -> bytes:
    """The video's bytes as the configured store holds them, checking that store is the one in use."""
    server: LiveServer = rendered["server"]
    state = server.state
    export = state.projects.export_for_job(job_id=rendered["job"]["id"])
    assert export is not None
    video_key = export.video_key
    local_db = server.settings.database_path
    if state.scale.store == "s3":
        from shared.s3store import S3Store

        assert isinstance(state.artifacts, S3Store)
        assert state.projects.db.dialect == state.jobs.db.dialect == "postgresql"
        assert video_key in state.artifacts.list_keys(), "the video is an object in the bucket"
        assert not server.settings.artifacts_dir.exists() or not any(server.settings.artifacts_dir.rglob("*.mp4"))
        assert not local_db.exists(), "no SQLite file: jobs and projects live in PostgreSQL"
        assert state.jobs.get_job(rendered["job"]["id"]).status == "done"
    else:
        assert local_db.is_file()
    return state.artifacts.get_bytes(video_key)


def test_the_video_plays_seeks_and_downloads(rendered_on: dict[str, Any], tmp_path: Path) -> None:
    rendered = rendered_on
    owner: Api = rendered["owner"]
    pid, eid = rendered["project"]["id"], rendered["export_id"]
    exports = owner.http.get(f"/api/projects/{pid}/exports").json()
    assert [e["id"] for e in exports] == [eid]
    export = exports[0]
    assert export["job_id"] == rendered["job"]["id"]
    assert (export["width"], export["height"], export["duration"]) == (1080, 1080, pytest.approx(4.0, abs=1 / 12))

    r = owner.http.get(export["video_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
    assert r.headers["accept-ranges"] == "bytes" and "content-disposition" not in r.headers
    full = r.content
    assert len(full) == export["size_bytes"]
    assert full == _where_it_lives(rendered)
    video = tmp_path / "v.mp4"
    video.write_bytes(full)
    info = probe(video)
    assert (info.width, info.height, info.fps, info.video_codec, info.audio_codec) == (1080, 1080, 12.0, "h264", "aac")
    assert info.duration == pytest.approx(4.0, abs=1 / 12)

    part = owner.http.get(export["video_url"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == full[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(full)}"
    tail = owner.http.get(export["video_url"], headers={"Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == full[-64:]
    assert owner.http.get(export["video_url"], headers={"Range": f"bytes={len(full) + 10}-"}).status_code == 416

    download = owner.http.get(export["video_url"], params={"download": 1})
    assert download.headers["content-disposition"] == 'attachment; filename="trip.mp4"'
    assert download.content == full

    poster = owner.http.get(export["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    still = Image.open(io.BytesIO(poster.content))
    assert still.size == (1080, 1080) and float(np.asarray(still.convert("L")).std()) > 10

    for asset in rendered["assets"]:
        thumb = owner.http.get(asset["thumbnail_url"])
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        assert max(Image.open(io.BytesIO(thumb.content)).size) <= 384

    events = owner.events(rendered["job"]["id"])
    assert events[-1]["event"] == "done" and "1080x1080" in events[-1]["data"]["message"]
    assert [e["data"]["seq"] for e in events] == list(range(1, len(events) + 1))


def test_re_rendering_one_scene_redoes_only_that_scene(api: Api, small_photos: list[Path], tmp_path: Path) -> None:
    project = api.planned(small_photos)
    pid = project["id"]
    first = api.wait(api.http.post(f"/api/projects/{pid}/render").json()["id"])
    assert first["status"] == "done", first
    plan = api.http.get(f"/api/projects/{pid}/plan").json()
    assert len(plan["scenes"]) >= 2
    scene = plan["scenes"][1]
    new_move = "pan_up" if scene["move"] != "pan_up" else "pan_down"
    assert api.http.patch(f"/api/projects/{pid}/plan/scenes/1", json={"move": new_move}).status_code == 200

    r = api.http.post(f"/api/projects/{pid}/scenes/1/render")
    assert r.status_code == 202 and r.json()["kind"] == "render_scene"
    second = api.wait(r.json()["id"])
    assert second["status"] == "done", second
    counts = _stage_counts(api.events(second["id"]))
    scenes = len(plan["scenes"])
    assert counts["clips"] == (scenes, scenes - 1), "only the edited scene's clip is made again"
    assert counts["style"][0] == counts["style"][1], "no photo is restyled"
    assert counts["compose"] == (1, 0)
    assert counts["analyze_photo"][0] == counts["analyze_photo"][1]

    # Measured in the two videos: the first scene's frames are the same, the edited scene's are not.
    videos = []
    for job in (first, second):
        path = tmp_path / f"{job['id']}.mp4"
        path.write_bytes(api.http.get(f"/api/exports/{job['export_id']}/video").content)
        videos.append(decode_gray_frames(path, size=(96, 96)).astype(np.float32))
    fps = 12
    s0 = slice(1, int(plan["scenes"][0]["end"] * fps) - 2)
    s1 = slice(int(scene["start"] * fps) + 2, int(scene["end"] * fps) - 2)
    assert np.abs(videos[0][s0] - videos[1][s0]).mean() < 2.0
    assert np.abs(videos[0][s1] - videos[1][s1]).mean() > 2.0

    assert api.http.post(f"/api/projects/{pid}/scenes/{scenes}/render").status_code == 404
    assert len(api.http.get(f"/api/projects/{pid}/exports").json()) == 2


def test_cancel_stops_between_items_and_resume_finishes_from_the_cache(api: Api, small_photos: list[Path]) -> None:
    project = api.project(look="comic", duration=8)
    pid = project["id"]
    for p in small_photos:
        api.upload(pid, p)
    job = api.http.post(f"/api/projects/{pid}/render").json()  # no storyboard yet: the job plans first
    events: list[dict[str, Any]] = []
    asked = False
    with api.http.stream("GET", f"/api/jobs/{job['id']}/events") as stream:
        for event in parse_sse(stream.iter_lines()):
            if "id" not in event:
                continue
            events.append(event)
            if event["event"] == "item" and event["data"]["stage"] == "clips" and not asked:
                r = api.http.post(f"/api/jobs/{job['id']}/cancel")  # while the other scenes render
                assert r.status_code == 200 and r.json()["status"] in ("running", "cancelled")
                events.append({"event": "-cancel-", "data": {"stage": None}})
                asked = True
    assert api.http.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"
    assert events[-1]["event"] == "failed" and events[-1]["data"]["status"] == "cancelled"
    at = next(i for i, e in enumerate(events) if e["event"] == "-cancel-")
    started_after = [e for e in events[at:] if e["event"] == "stage" and e["data"]["status"] == "running"]
    assert not started_after, "no stage starts after the cancel"
    assert not any(e["event"] == "item" and e["data"]["status"] == "failed" for e in events), \
        "a cancel lets running items finish; none is reported broken"
    clips_done = sum(1 for e in events if e["event"] == "item" and e["data"]["stage"] == "clips")
    plan_scenes = next(e["data"]["total"] for e in events if e["event"] == "stage" and e["data"]["stage"] == "clips")
    assert clips_done >= 1 and not any(e["data"]["stage"] == "compose" for e in events), "it stopped mid-job"
    before = events[-1]["data"]["seq"]

    again = api.http.post(f"/api/jobs/{job['id']}/cancel")  # a cancelled job stays as it is
    assert again.json()["status"] == "cancelled"
    r = api.http.post(f"/api/jobs/{job['id']}/resume")
    # A free worker may pick the job up before the answer is built: queued or already running.
    assert r.status_code == 202 and r.json()["status"] in ("queued", "running")
    done = api.wait(job["id"])
    assert done["status"] == "done" and done["export_id"], done

    whole = api.events(job["id"])
    assert [e["data"]["seq"] for e in whole] == list(range(1, len(whole) + 1))
    assert whole[-1]["event"] == "done", "the stream does not stop at the old `failed` of a resumed job"
    counts = _stage_counts(whole, after_seq=before)
    assert counts["analyze_photo"][1] == counts["analyze_photo"][0]
    assert counts["clips"] == (plan_scenes, clips_done), "the clips the cancelled run finished are reused"
    assert api.http.get(f"/api/projects/{pid}/plan").status_code == 200, "the render left its storyboard"
    assert api.http.post(f"/api/jobs/{job['id']}/resume").status_code == 409


def test_a_failing_job_says_why_and_what_to_do(api: Api, small_photos: list[Path], media_dir: Path) -> None:
    pid = api.project()["id"]
    api.upload(pid, small_photos[0])
    song = api.upload(pid, media_dir / "videos" / "cockatoo.mp4")  # a real video whose sound track is silent
    assert song.status_code == 201
    job = api.http.post(f"/api/projects/{pid}/plan").json()
    failed = api.wait(job["id"])
    assert failed["status"] == "failed"
    assert "silent" in failed["error"] and "\n" not in failed["error"]
    assert failed["hint"] and "MP3" in failed["hint"]
    last = api.events(job["id"])[-1]
    assert last["event"] == "failed"
    assert last["data"]["error"] == failed["error"] and last["data"]["hint"] == failed["hint"]
