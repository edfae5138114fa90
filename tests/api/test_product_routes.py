"""Product turntables over HTTP (issue 6 in the web app): real fox frames uploaded to a project as its
capture (`role=capture`, apart from the video's photos), the
`product` job followed over SSE phase by phase, the WebM with alpha downloaded (Range, decoded with
libvpx-vp9), another user's 404s, a poor capture failing the job with the reshoot hint, a render of the
project placing the product shot in its plan; and on the Modal path (the two GPU pieces faked at the
edge, as tests/test_modal_product.py fakes them), training steps with their loss on the SSE stream."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from functions.product.turntable import read_turntable_rgba
from shared.settings import get_settings
from tests.api.conftest import Api, LiveServer, serving
from tests.api.conftest import test_settings as server_settings
from tests.fakes.product_gpu import fake_gpu_pieces, in_process_executor

PHASE_ORDER = ["frames", "poses", "dataset", "render", "encode"]
SMALL = {"preview": True, "frames": 8, "fps": 12, "size": 96}
UNRELATED = ["astronaut.png", "camera.png", "chelsea_cat.png", "coffee.png", "hato_pigeon.jpg"]


@pytest.fixture(scope="module")
def fox_small(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """12 frames of the fox walk-around (every other of the first 24), long side 480: what COLMAP sees anyway."""
    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 24:
        pytest.skip("the fox capture is absent")
    out = tmp_path_factory.mktemp("fox-small")
    small = []
    for src in frames[:24:2]:
        with Image.open(src) as im:
            im.thumbnail((480, 480))
            dest = out / src.name
            im.convert("RGB").save(dest, quality=92)
        small.append(dest)
    return small


def upload_all(api: Api, project_id: str, paths: list[Path], *, role: str = "capture") -> list[str]:
    ids = []
    for p in paths:
        r = api.upload(project_id, p, role=role)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def phases_in_order(events: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for e in events:
        if e["event"] == "progress" and (not seen or seen[-1] != e["data"]["item"]):
            seen.append(e["data"]["item"])
    return seen


@pytest.fixture(scope="module")
def made(live: LiveServer, fox_small: list[Path], small_photos: list[Path]) -> Iterator[dict[str, Any]]:
    """One user's project with three photos for its video, the fox frames as its capture and a finished
    preview turntable made of them, its job's whole SSE stream."""
    api = Api(live, live.add_user(f"seller-{uuid.uuid4().hex[:6]}"))
    project = api.project(name="fox")
    photo_ids = upload_all(api, project["id"], small_photos, role="photo")
    ids = upload_all(api, project["id"], fox_small)
    started = time.monotonic()
    r = api.http.post(f"/api/projects/{project['id']}/product", json={"asset_ids": ids, **SMALL})
    assert r.status_code == 202, r.text
    job = r.json()
    events = api.events(job["id"])  # the stream ends after the terminal event
    seconds = time.monotonic() - started
    finished = api.wait(job["id"])
    yield {"api": api, "project": project, "job": job, "finished": finished, "events": events,
           "asset_ids": ids, "photo_ids": photo_ids, "seconds": seconds}
    api.http.close()


def test_a_turntable_job_streams_its_phases_in_order_and_finishes(made: dict[str, Any]) -> None:
    job, finished, events = made["job"], made["finished"], made["events"]
    assert job["kind"] == "product" and job["status"] in ("queued", "running")
    assert finished["status"] == "done", finished
    assert finished["product_id"], "the finished job names the turntable it made"
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1)), "gap-free, in order"
    assert events[-1]["event"] == "done" and "turntable: 8 frames 96x96" in events[-1]["data"]["message"]
    assert phases_in_order(events) == PHASE_ORDER, phases_in_order(events)
    percents = [e["data"]["percent"] for e in events if e["event"] == "progress"]
    assert percents == sorted(percents), "the bar never goes back"
    assert percents[-1] == pytest.approx(100.0) and percents[0] < 10.0
    stages = [(e["data"]["stage"], e["data"]["status"]) for e in events if e["event"] == "stage"]
    assert stages == [("product", "running"), ("product", "done")]
    assert made["seconds"] < 45, f"{made['seconds']:.1f} s for 12 small photos"


def test_the_turntable_downloads_as_webm_with_alpha_and_a_poster(made: dict[str, Any]) -> None:
    api, product_id = made["api"], made["finished"]["product_id"]
    product = api.http.get(f"/api/products/{product_id}").json()
    assert (product["frames"], product["width"], product["height"], product["fps"]) == (8, 96, 96, 12)
    assert product["preview"] is True and product["renderer"] == "preview" and product["in_use"] is True
    r = api.http.get(product["video_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "video/webm"
    assert r.content[:4] == b"\x1a\x45\xdf\xa3", "an EBML (WebM) header"
    assert int(r.headers["content-length"]) == product["size_bytes"] == len(r.content)
    part = api.http.get(product["video_url"], headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == r.content[10:100]
    assert part.headers["content-range"] == f"bytes 10-99/{len(r.content)}"

    clip = Path(api.server.settings.data_dir) / "downloaded.webm"
    clip.write_bytes(r.content)
    frames = list(read_turntable_rgba(clip))  # libvpx-vp9 named before the input: the alpha plane kept
    assert len(frames) == 8 and frames[0].shape == (96, 96, 4)
    alpha = np.stack([f[..., 3] for f in frames])
    assert (alpha < 16).mean() > 0.2, "the background is transparent"
    assert (alpha > 240).mean() > 0.02, "the fox is opaque"

    poster = api.http.get(product["poster_url"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(poster.content)) as im:
        assert im.mode == "RGBA" and im.size == (96, 96)

    project = api.http.get(f"/api/projects/{made['project']['id']}").json()
    assert project["product"]["id"] == product_id, "the project remembers its product"


def test_another_user_gets_404_on_every_product_route(made: dict[str, Any], live: LiveServer) -> None:
    other = live.client(live.add_user())
    pid, product_id, job_id = made["project"]["id"], made["finished"]["product_id"], made["job"]["id"]
    tries = [
        ("POST", f"/api/projects/{pid}/product", {"asset_ids": made["asset_ids"], **SMALL}),
        ("GET", f"/api/projects/{pid}/product", None),
        ("PUT", f"/api/projects/{pid}/product", {"product_id": product_id}),
        ("DELETE", f"/api/projects/{pid}/product", None),
        ("GET", f"/api/projects/{pid}/products", None),
        ("GET", f"/api/products/{product_id}", None),
        ("GET", f"/api/products/{product_id}/video", None),
        ("GET", f"/api/products/{product_id}/poster", None),
        ("GET", f"/api/jobs/{job_id}", None),
        ("GET", f"/api/jobs/{job_id}/events", None),
    ]
    for method, path, body in tries:
        r = other.request(method, path, json=body)
        assert r.status_code == 404, f"{method} {path}: {r.status_code} {r.text}"
    # and the owner's product is untouched by those attempts
    owner = made["api"]
    assert owner.http.get(f"/api/projects/{pid}/product").json()["id"] == product_id
    other.close()


def test_photos_that_cannot_work_fail_the_job_with_the_reshoot_hint(api: Api, good_photos: list[Path]) -> None:
    project = api.project(name="junk")
    # Ordinary photos of the project (not a capture) may still be picked: the same job, the same refusal.
    ids = upload_all(api, project["id"], [p for p in good_photos if p.name in UNRELATED], role="photo")
    assert len(ids) == 5
    r = api.http.post(f"/api/projects/{project['id']}/product", json={"asset_ids": ids, **SMALL})
    assert r.status_code == 202, r.text
    events = api.events(r.json()["id"])
    job = api.wait(r.json()["id"])
    assert job["status"] == "failed" and "placed in 3D" in job["error"], job
    assert "\n" not in job["error"] and "overlap" in job["hint"], "one line and how to reshoot"
    assert events[-1]["event"] == "failed" and "overlap" in events[-1]["data"]["hint"]
    assert api.http.get(f"/api/projects/{project['id']}/products").json() == []
    assert api.http.get(f"/api/projects/{project['id']}").json()["product"] is None


def test_bad_product_requests_are_4xx(made: dict[str, Any], api: Api) -> None:
    owner, pid = made["api"], made["project"]["id"]
    ids = made["asset_ids"]
    for body, status in [({"asset_ids": ids[:2]}, 422), ({"asset_ids": [ids[0], ids[0], ids[1]]}, 422),
                         ({"asset_ids": [*ids[:3], "nope"]}, 404), ({"asset_ids": ids, "size": 99}, 422),
                         ({"asset_ids": ids, "colour": "red"}, 422)]:
        r = owner.http.post(f"/api/projects/{pid}/product", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["detail"]
    mine = api.project(name="mine")
    r = api.http.put(f"/api/projects/{mine['id']}/product", json={"product_id": made["finished"]["product_id"]})
    assert r.status_code == 404, "another project's turntable cannot be used here"


def test_a_render_afterwards_has_the_product_shot_and_it_can_be_removed(made: dict[str, Any]) -> None:
    api, pid, product_id = made["api"], made["project"]["id"], made["finished"]["product_id"]
    job = api.http.post(f"/api/projects/{pid}/render").json()
    done = api.wait(job["id"], timeout=180)
    assert done["status"] == "done", done
    plan = api.http.get(f"/api/projects/{pid}/plan").json()
    product_scenes = [s for s in plan["scenes"] if s["kind"] == "product"]
    assert len(product_scenes) == 1, [s["kind"] for s in plan["scenes"]]
    # The twelve capture photos made the turntable; only the video's three photos are its scenes (the
    # product shot stands over one of them): a 4 s video, no room for twelve more.
    shown = {s["asset_id"] for s in plan["scenes"]}
    assert shown <= set(made["photo_ids"]) and not shown & set(made["asset_ids"]), plan["scenes"]
    assert any(s["kind"] == "photo" for s in plan["scenes"]) and len(plan["scenes"]) <= 4
    assert product_scenes[0]["start"] in plan["beats"] or product_scenes[0]["start"] == 0
    clip_items = {e["data"]["item"] for e in api.events(job["id"]) if e["event"] == "item"
                  and e["data"]["stage"] == "clips"}
    assert any("product over" in item for item in clip_items), clip_items
    assert api.http.get(f"/api/projects/{pid}/exports").json()[0]["job_id"] == job["id"]

    assert api.http.delete(f"/api/projects/{pid}/product").status_code == 204
    assert api.http.get(f"/api/projects/{pid}/product").status_code == 404
    # The storyboard had the product shot: it is kept, out of date, like after a change of photos.
    kept = api.http.get(f"/api/projects/{pid}/plan").json()
    assert kept["scenes"] == plan["scenes"] and kept["version"] == plan["version"], "the storyboard is kept"
    assert kept["current"] is False
    assert kept["stale"] == [{"what": "product", "detail": "the product shot was removed"}]
    assert api.http.get(f"/api/products/{product_id}").json()["in_use"] is False, "the turntable itself stays"
    r = api.http.put(f"/api/projects/{pid}/product", json={"product_id": product_id})
    assert r.status_code == 200 and r.json()["in_use"] is True
    back = api.http.get(f"/api/projects/{pid}/plan").json()
    assert back["current"] is True and back["stale"] == [] and back["scenes"] == plan["scenes"], \
        "the product shot it was made for is back: current again"


def test_a_new_turntable_leaves_the_storyboard_out_of_date_with_its_edits(made: dict[str, Any]) -> None:
    """A finished `product` job with `use` (and choosing a turntable) used to delete the storyboard and
    every edit in it; it is kept and marked out of date, and the next storyboard carries the edits over."""
    api, pid, ids = made["api"], made["project"]["id"], made["asset_ids"]
    r = api.http.post(f"/api/projects/{pid}/plan")
    assert api.wait(r.json()["id"], timeout=180)["status"] == "done"
    plan = api.http.get(f"/api/projects/{pid}/plan").json()
    photo = next(k for k, s in enumerate(plan["scenes"]) if s["kind"] == "photo")
    edited = api.http.patch(f"/api/projects/{pid}/plan/scenes/{photo}", json={"prompt": "a slow push in"}).json()
    assert edited["current"] is True and edited["scenes"][photo]["prompt"] == "a slow push in"

    r = api.http.post(f"/api/projects/{pid}/product", json={"asset_ids": ids[:10], **SMALL})
    assert r.status_code == 202, r.text
    finished = api.wait(r.json()["id"], timeout=180)
    assert finished["status"] == "done", finished
    assert api.http.get(f"/api/projects/{pid}/product").json()["id"] == finished["product_id"]
    kept = api.http.get(f"/api/projects/{pid}/plan").json()
    assert kept["scenes"] == edited["scenes"] and kept["version"] == edited["version"], "the edited storyboard"
    assert kept["current"] is False
    assert kept["stale"] == [{"what": "product", "detail": "the product shot changed"}]
    assert kept["can_undo"] is True, "its history too"

    r = api.http.post(f"/api/projects/{pid}/plan")
    assert api.wait(r.json()["id"], timeout=180)["status"] == "done"
    new = api.http.get(f"/api/projects/{pid}/plan").json()
    assert new["current"] is True and new["version"] > kept["version"]
    product_scene = next(s for s in new["scenes"] if s["kind"] == "product")
    assert product_scene["asset_id"] in made["photo_ids"]
    assert any(c["kept"] and "prompt" in c["what"] for c in new["carried"]), new["carried"]


# ---------------------------------------------------------------------------------- the Modal path


def _clear_settings() -> None:
    get_settings.cache_clear()


@pytest.fixture()
def modal_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[LiveServer, Any]]:
    """A server whose executor is `modal`, its product pieces those of modal_app.py under `.local()` (they
    read and write this server's artifact folder, as containers share the Volume)."""
    data = tmp_path / "data"
    monkeypatch.setenv("MOMENTLOOP_DATA_DIR", str(data))
    for name in ("MOMENTLOOP_MODAL_SECRETS", "MOMENTLOOP_STORE", "MOMENTLOOP_MODAL_GPU", "MOMENTLOOP_EXECUTOR",
                 "MOMENTLOOP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    _clear_settings()
    import modal_app
    from shared.settings import ScaleSettings

    settings = server_settings(data).model_copy(update={"executor": "modal"})
    with serving(settings, scale=ScaleSettings(store="local", database_url=None)) as server:
        yield server, modal_app
    _clear_settings()


@pytest.mark.filterwarnings("ignore:The product_.* function is executing locally")
def test_training_steps_and_loss_reach_the_sse_stream_on_the_modal_path(
    modal_server: tuple[LiveServer, Any], fox_small: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job's executor a ModalExecutor over modal_app's functions, the GPU pieces faked at their entries
    exactly as tests/test_modal_product.py fakes them: training reports through the real progress wiring (the
    function's queue reporter, the executor's drain), rendering fills each chunk with the CPU renderer; poses
    and encode are modal_app's real functions."""
    server, modal_app = modal_server
    gpu = fake_gpu_pieces(monkeypatch, steps=(250, 500, 750), pause=0.55)  # a function sends 2 updates a second
    server.state.runner.executor_factory = lambda **options: in_process_executor(modal_app, stop=options["stop"])

    api = Api(server, server.add_user())
    project = api.project(name="fox on modal")
    ids = upload_all(api, project["id"], fox_small)
    r = api.http.post(f"/api/projects/{project['id']}/product",
                      json={"asset_ids": ids, "frames": 8, "fps": 12, "size": 96})
    assert r.status_code == 202, r.text
    events = api.events(r.json()["id"])
    assert events[-1]["event"] == "done", events[-1]
    assert len(gpu.trained) == 1
    steps = [e["data"] for e in events if e["event"] == "progress" and e["data"]["item"] == "train"]
    messages = [s["message"] for s in steps]
    assert "train: step 250/1000 loss 0.0750" in messages and "train: step 750/1000 loss 0.0250" in messages, messages
    assert all(45.0 < s["percent"] < 65.0 for s in steps), "training sits in its span of the bar"
    # A Modal piece sends at most two updates a second, so a phase as short as `dataset` may not show.
    seen = phases_in_order(events)
    assert seen == [p for p in ["frames", "poses", "dataset", "train", "render", "encode"] if p in seen], seen
    assert {"poses", "train", "render", "encode"} <= set(seen), seen
    percents = [e["data"]["percent"] for e in events if e["event"] == "progress"]
    assert percents == sorted(percents)
    product = api.http.get(f"/api/products/{api.wait(r.json()['id'])['product_id']}").json()
    assert product["renderer"] == "nerf" and product["preview"] is False and product["frames"] == 8
    assert api.http.get(product["video_url"]).content[:4] == b"\x1a\x45\xdf\xa3"
    api.http.close()


def test_a_job_whose_executor_cannot_be_made_fails_saying_why(
    modal_server: tuple[LiveServer, Any], fox_small: list[Path], small_photos: list[Path]
) -> None:
    """MOMENTLOOP_EXECUTOR=modal over a folder on this machine, which the Modal workers could not read: every
    job fails at once with that reason and the way out, a turntable's as a storyboard's (which used to stay
    queued, its failure only in the server's log)."""
    server, _ = modal_server
    api = Api(server, server.add_user())
    project = api.project(name="nowhere to share")
    upload_all(api, project["id"], small_photos, role="photo")
    ids = upload_all(api, project["id"], fox_small)
    for r in (api.http.post(f"/api/projects/{project['id']}/product", json={"asset_ids": ids, **SMALL}),
              api.http.post(f"/api/projects/{project['id']}/plan")):
        assert r.status_code == 202, r.text
        job = api.wait(r.json()["id"], timeout=30)
        assert job["status"] == "failed" and "store the Modal workers share" in job["error"], job
        assert "MOMENTLOOP_STORE=s3" in job["hint"]
        assert api.events(job["id"])[-1]["event"] == "failed"
    api.http.close()


def test_a_cancelled_turntable_resumes_and_finishes(api: Api, fox_small: list[Path]) -> None:
    """Cancelled while COLMAP places the cameras (the job stops at its next report), then resumed on the same
    job: its stream goes on after the `failed`/`cancelled` event to `done`, like a render's."""
    project = api.project(name="fox, interrupted")
    ids = upload_all(api, project["id"], fox_small[1::2])  # a capture of its own: nothing cached
    job = api.http.post(f"/api/projects/{project['id']}/product", json={"asset_ids": ids, **SMALL}).json()
    deadline = time.monotonic() + 30
    while not any(e.type == "progress" for e in api.server.state.jobs.events(job["id"])):
        assert time.monotonic() < deadline, "the job never reported"
        time.sleep(0.02)
    assert api.http.post(f"/api/jobs/{job['id']}/cancel").status_code == 200
    stopped = api.wait(job["id"])
    assert stopped["status"] == "cancelled", stopped
    assert api.http.get(f"/api/projects/{project['id']}/products").json() == []

    resumed = api.http.post(f"/api/jobs/{job['id']}/resume")
    assert resumed.status_code == 202 and resumed.json()["kind"] == "product"
    finished = api.wait(job["id"])
    assert finished["status"] == "done" and finished["product_id"], finished
    events = api.events(job["id"])
    kinds = [e["event"] for e in events]
    assert kinds.count("failed") == 1 and kinds[-1] == "done"
    assert events[kinds.index("failed")]["data"]["status"] == "cancelled"
    after = events[kinds.index("failed") + 1:]
    assert after[0]["data"]["status"] == "resumed"
    assert phases_in_order(after) == PHASE_ORDER
