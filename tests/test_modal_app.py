"""modal_app.py: the app graph imports without credentials and asks Modal for the right hardware,
images, volumes, secrets, timeouts and retries; every stage function runs with `.local()` on real
inputs; and the `modal run` path (upload, job with progress, download) makes a real video locally."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import modal
import pytest

from api.remote import run_remote_make
from functions.pipeline.modal_executor import InProcessChannel, unwrap
from shared.errors import InputError
from shared.media.probe import probe
from shared.settings import get_settings
from shared.store import LocalStore
from tests import modal_support
from tests.modal_support import clear_settings, imported_modal_app

STAGES = ("analyze_photo", "analyze_music", "music", "plan", "style", "clips", "compose")
PRODUCT = ("product_poses", "product_train", "product_render", "product_preview", "product_encode")


@pytest.fixture(autouse=True)
def _settings_read_afresh() -> Iterator[None]:
    """Tests here change MOMENTLOOP_* variables; no cached settings may outlive them."""
    clear_settings()
    yield
    clear_settings()


@pytest.fixture()
def modal_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from imported_modal_app(tmp_path=tmp_path, monkeypatch=monkeypatch)


def fresh_import(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    return modal_support.fresh_import(monkeypatch, name=f"modal_app_variant_{len(env)}", **env)


def named_secrets(fn: Any) -> set[str]:
    return {s.split("'")[1] for s in fn.info().secrets if s.startswith("modal.Secret.from_name(")}


def test_every_stage_is_a_cpu_function_with_the_volume_and_its_limits(modal_app: Any) -> None:
    assert modal_app.app.name == "momentloop"
    assert set(modal_app.STAGE_FUNCTIONS) == {*STAGES, *PRODUCT}, "one function per stage, each named after it"
    cpu_functions = [*(modal_app.STAGE_FUNCTIONS[name] for name in STAGES), modal_app.make_video,
                     modal_app.make_product, modal_app.web]
    assert len({id(fn._spec_.image) for fn in cpu_functions}) == 1, "one CPU image (ffmpeg + the pipeline's packages)"
    for name in STAGES:
        fn = modal_app.STAGE_FUNCTIONS[name]
        info, options = fn.info(), modal_app.STAGE_OPTIONS[name]
        assert info.gpus == [], f"{name} must not ask for a GPU"
        assert (info.cpu, info.memory_mib) == (options["cpu"], options["memory"])
        assert info.timeout == options["timeout"] and info.timeout >= 300
        assert info.max_retries == options["retries"] >= 1
        assert list(info.volumes) == [modal_app.ARTIFACTS_PATH]
        assert info.volumes[modal_app.ARTIFACTS_PATH].name == "momentloop-artifacts"
        assert named_secrets(fn) == set(), "no secret is needed for local providers on the Volume"
    assert modal_app.STAGE_OPTIONS["clips"]["max_containers"] >= 20, "clips fan out wide"
    assert all("max_containers" in o for o in modal_app.STAGE_OPTIONS.values())

    web = modal_app.web.info()
    assert web.web_info is not None, "the FastAPI app is served as an ASGI web endpoint"
    assert web.concurrency_info is not None and web.concurrency_info.max_inputs >= 50, "SSE streams share containers"
    assert modal_app.ARTIFACTS_PATH in web.volumes
    assert modal_app.WEB_OPTIONS["max_containers"] == 1, "the Volume + SQLite: one web container, one database file"
    job = modal_app.make_video.info()
    assert job.max_retries is None and job.timeout >= 1800, "a job is resumed from the cache, never re-run blind"
    assert modal_app.GPU_TYPE == "T4" and modal_app.product_train.info().gpus == [("T4", 1)]
    assert modal_app.gpu_image is not modal_app.cpu_image


def test_secrets_gpu_and_settings_follow_the_deploying_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, list[str]]] = []
    real = modal.Secret.from_name

    def recording(name: str, **kwargs: Any) -> modal.Secret:
        asked.append((name, list(kwargs.get("required_keys", []))))
        return real(name, **kwargs)

    monkeypatch.setattr(modal.Secret, "from_name", recording)
    m = fresh_import(monkeypatch, MOMENTLOOP_MODAL_SECRETS="gemini, replicate,s3,postgres", MOMENTLOOP_STORE="s3",
                     MOMENTLOOP_S3_BUCKET="videos", MOMENTLOOP_MODAL_GPU="A10G", MOMENTLOOP_WORKERS="2",
                     MOMENTLOOP_CLIP_PROVIDER="replicate")
    assert dict(asked) == {
        "momentloop-gemini": ["GEMINI_API_KEY"],
        "momentloop-replicate": ["REPLICATE_API_TOKEN"],
        "momentloop-s3": ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
        "momentloop-postgres": ["MOMENTLOOP_DATABASE_URL"],
    }
    providers = {"momentloop-gemini", "momentloop-replicate", "momentloop-s3"}
    for name in ("music", "plan", "style", "clips"):
        assert named_secrets(m.STAGE_FUNCTIONS[name]) == providers, name
    for name in ("analyze_photo", "analyze_music", "compose"):
        assert named_secrets(m.STAGE_FUNCTIONS[name]) == {"momentloop-s3"}, "no provider key where none is used"
    for fn in (m.make_video, m.make_product, m.web):
        assert named_secrets(fn) == {"momentloop-s3", "momentloop-postgres"}
    for name in PRODUCT:
        assert named_secrets(m.STAGE_FUNCTIONS[name]) == {"momentloop-s3"}, "a turntable calls no cloud provider"
    assert m.GPU_TYPE == "A10G" and m.product_render.info().gpus == [("A10G", 1)]
    assert m.WEB_OPTIONS["max_containers"] == 10, "S3 + PostgreSQL: web replicas share jobs by their leases"
    assert m.CONTAINER_ENV["MOMENTLOOP_STORE"] == "s3" and m.CONTAINER_ENV["MOMENTLOOP_CLIP_PROVIDER"] == "replicate"
    assert "MOMENTLOOP_WORKERS" not in m.CONTAINER_ENV and "MOMENTLOOP_DATA_DIR" not in m.CONTAINER_ENV
    assert m.JOB_ENV["MOMENTLOOP_EXECUTOR"] == "modal", "jobs started in the cloud fan out to the stage functions"


def test_the_web_servers_settings_travel_too_but_not_this_machines(monkeypatch: pytest.MonkeyPatch) -> None:
    m = fresh_import(monkeypatch, MOMENTLOOP_UPLOAD_RATE='{"burst": 5, "per_minute": 1}', MOMENTLOOP_MAX_PHOTOS="12",
                     MOMENTLOOP_COOKIE_SECURE="true", MOMENTLOOP_WEB_DIR="/home/me/momentloop/web",
                     MOMENTLOOP_DATABASE_URL="postgresql://me:pw@db/momentloop", GEMINI_API_KEY="AIza-not-carried",
                     MOMENTLOOP_CLIP_PROVIDER="kling,local")
    assert m.JOB_ENV["MOMENTLOOP_UPLOAD_RATE"] == '{"burst": 5, "per_minute": 1}', "the web endpoint's rate limits"
    assert (m.CONTAINER_ENV["MOMENTLOOP_MAX_PHOTOS"], m.CONTAINER_ENV["MOMENTLOOP_COOKIE_SECURE"]) == ("12", "true")
    assert m.CONTAINER_ENV["MOMENTLOOP_CLIP_PROVIDER"] == "kling,local"
    for stays in ("MOMENTLOOP_WEB_DIR", "MOMENTLOOP_DATABASE_URL", "GEMINI_API_KEY"):
        assert stays not in m.CONTAINER_ENV and stays not in m.JOB_ENV, f"{stays} must not travel as a variable"


@pytest.mark.parametrize(("env", "containers"), [
    ({"MOMENTLOOP_STORE": "s3", "MOMENTLOOP_MODAL_SECRETS": "s3,postgres", "MOMENTLOOP_WEB_MAX_CONTAINERS": "4"}, 4),
    ({"MOMENTLOOP_STORE": "s3", "MOMENTLOOP_MODAL_SECRETS": "s3", "MOMENTLOOP_WEB_MAX_CONTAINERS": "4"}, 1),
    ({"MOMENTLOOP_MODAL_SECRETS": "postgres", "MOMENTLOOP_WEB_MAX_CONTAINERS": "4"}, 1),
])
def test_web_replicas_only_where_every_replica_shares_the_stores(monkeypatch: pytest.MonkeyPatch,
                                                                 env: dict[str, str], containers: int) -> None:
    m = fresh_import(monkeypatch, MOMENTLOOP_S3_BUCKET="videos", **env)
    assert m.WEB_OPTIONS["max_containers"] == containers


@pytest.mark.parametrize(("env", "message"), [
    ({"MOMENTLOOP_MODAL_GPU": "K80"}, "MOMENTLOOP_MODAL_GPU"),
    ({"MOMENTLOOP_MODAL_SECRETS": "gemini,aws"}, "unknown secrets"),
    ({"MOMENTLOOP_STORE": "s3", "MOMENTLOOP_S3_BUCKET": "b", "MOMENTLOOP_MODAL_SECRETS": ""}, "add s3"),
])
def test_a_wrong_deploy_setting_stops_the_deploy_with_its_name(monkeypatch: pytest.MonkeyPatch,
                                                                env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fresh_import(monkeypatch, **env)


def test_stage_functions_run_locally_end_to_end(modal_app: Any, good_photos: list[Path]) -> None:
    from functions.compose import clip_windows
    from functions.pipeline.ingest import ingest_photos
    from shared.models.base import OutputSpec
    from shared.models.media import AnalyzePhotoRequest
    from shared.models.plan import PlanRequest, ScenePlan
    from shared.models.render import ClipRequest, ComposeRequest, FinalEncoding, StyleRequest

    store = LocalStore(get_settings().artifacts_dir)
    picks = [p for p in good_photos if p.name in ("coffee.png", "chelsea_cat.png", "astronaut.png")]
    sources = ingest_photos(store=store, paths=picks)
    infos = [unwrap(modal_app.analyze_photo.local(AnalyzePhotoRequest(source=s).model_dump(mode="json")))
             for s in sources]
    assert [i["source"]["name"] for i in infos] == [p.name for p in picks]

    track = unwrap(modal_app.music.local({"duration": 6.0}))
    assert track["origin"] == "generated" and store.exists(track["audio_key"])
    music = unwrap(modal_app.analyze_music.local({"track": track}))
    assert music["beats"] and music["tempo"] > 0

    output = OutputSpec(aspect="1:1", width=320, height=320, fps=24, duration=6.0)
    plan = ScenePlan.model_validate(unwrap(modal_app.plan.local(
        PlanRequest(photos=infos, music=music, output=output, look="lego").model_dump(mode="json"))))
    assert len(plan.scenes) >= 2

    styled = {
        sc.image_key: unwrap(modal_app.style.local(
            StyleRequest(image_key=sc.image_key, look="lego").model_dump()))["image_key"]
        for sc in plan.scenes
    }
    progress = InProcessChannel()
    final = FinalEncoding(preset="veryfast", crf=23)  # scene bodies encoded in the clip containers
    clips = [
        unwrap(modal_app.clips.local(
            ClipRequest(image_key=styled[sc.image_key], scene=sc, output=plan.output, frames=w.frames,
                        lead_in=w.lead_in, lead_out=w.lead_out, head_frames=2 * w.lead_in_frames,
                        tail_frames=2 * w.lead_out_frames, final=final).model_dump(), progress, sc.index))
        for sc, w in zip(plan.scenes, clip_windows(plan=plan), strict=True)
    ]
    reported = progress.get_many(1000, block=False)
    assert {index for index, _, _ in reported} == {sc.index for sc in plan.scenes}, "each clip reports progress"
    assert all(0 <= percent <= 100 for _, percent, _ in reported)
    video = unwrap(modal_app.compose.local(
        ComposeRequest(plan=plan, clips=clips, audio_key=track["audio_key"], preset=final.preset,
                       crf=final.crf).model_dump()))
    with store.local_path(video["video_key"]) as path:
        info = probe(path)
    assert (info.width, info.height) == (320, 320)
    assert abs(info.duration - plan.output.duration) <= 1 / 24 + 1e-6
    assert video["copied_frames"] == sum(c["frames"] - c["head_frames"] - c["tail_frames"] for c in clips)


def test_a_bad_photo_comes_back_as_a_reason_not_an_exception_to_retry(modal_app: Any, bad_photos: list[Path]) -> None:
    from functions.pipeline.ingest import ingest_photos
    from shared.models.media import AnalyzePhotoRequest

    store = LocalStore(get_settings().artifacts_dir)
    broken = next(p for p in bad_photos if p.name == "truncated_400B.jpg")
    (source,) = ingest_photos(store=store, paths=[broken])
    reply = modal_app.analyze_photo.local(AnalyzePhotoRequest(source=source).model_dump(mode="json"))
    assert reply["result"] is None and reply["bad_input"] is True
    assert "truncated_400B.jpg" in reply["error"] and "\n" not in reply["error"]
    with pytest.raises(InputError, match=r"truncated_400B\.jpg"):
        unwrap(reply)


class FolderVolume:
    """Modal's Volume API (batch_upload / read_file / remove_file) over a local folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.reads: list[str] = []

    @contextmanager
    def batch_upload(self, force: bool = False) -> Iterator[Any]:
        root = self.root

        class Batch:
            def put_file(self, local_file: Path, remote_path: str) -> None:
                target = root / remote_path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(local_file, target)

        yield Batch()

    def read_file(self, path: str) -> Iterator[bytes]:
        self.reads.append(path)
        with (self.root / path).open("rb") as f:
            while chunk := f.read(64 * 1024):
                yield chunk

    def remove_file(self, path: str, recursive: bool = False) -> None:
        shutil.rmtree(self.root / path)


def test_modal_run_uploads_follows_the_job_and_downloads_the_video(
    modal_app: Any, good_photos: list[Path], bad_photos: list[Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "trip"
    folder.mkdir()
    for p in [*(p for p in good_photos if p.name in ("coffee.png", "chelsea_cat.png")),
              next(p for p in bad_photos if p.name == "zero_bytes.jpg")]:
        (folder / p.name).symlink_to(p)
    volume = FolderVolume(get_settings().artifacts_dir)
    messages: list[dict[str, Any]] = []

    def job(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for message in modal_app.make_video.local(request):
            messages.append(message)
            yield message

    out = tmp_path / "movie.mp4"
    code = run_remote_make(job=job, volume=volume, volume_root=str(volume.root), photos=folder, out=out,
                           style="comic", music=None, aspect="1:1", duration=3.0, fps=12, seed=1)
    assert code == 0, messages[-1]
    info = probe(out)
    assert (info.width, info.height) == (1080, 1080) and abs(info.duration - 3.0) <= 1 / 12 + 1e-6
    assert volume.reads, "the video came down through the Volume"
    assert not any((volume.root / "uploads").iterdir()), "the upload folder is removed after the job"
    events = [m["event"] for m in messages if "event" in m]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), "every event of the job, in order"
    done = {(e["stage"], e["item"]) for e in events if e["type"] == "item" and e["status"] == "done"}
    assert {s for s, _ in done} == {"analyze_photo", "music", "analyze_music", "plan", "style", "clips", "compose"}
    assert ("analyze_photo", "zero_bytes.jpg") not in done
    assert any(e["type"] == "log" and e["item"] == "zero_bytes.jpg" for e in events), "the skipped photo is named"
    assert any(e["type"] == "progress" and e["stage"] in ("clips", "compose") for e in events), \
        "progress inside items reaches the caller"
    assert events[-1]["type"] == "done" and messages[-1]["result"]["scenes"] >= 2
    assert "movie.mp4: " in capsys.readouterr().out


def test_modal_run_refuses_bad_input_with_exit_code_2(modal_app: Any, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    volume = FolderVolume(tmp_path / "vol")

    def job(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        raise AssertionError("no job may start for input that cannot be used")

    assert run_remote_make(job=job, volume=volume, volume_root="/data/artifacts", photos=tmp_path / "none",
                           out=tmp_path / "x.mp4", style="lego", music=None, aspect="9:16",
                           duration=None, fps=30, seed=0) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert run_remote_make(job=job, volume=volume, volume_root="/data/artifacts", photos=tmp_path,
                           out=tmp_path / "x.mov", style="lego", music=None, aspect="9:16",
                           duration=None, fps=30, seed=0) == 2


@pytest.mark.slow  # ~25 s on a shared 2-core machine: it is the compile the image build saves every container
def test_the_numba_warm_up_build_step_fills_the_cache(tmp_path: Path) -> None:
    """What the image build runs: librosa's kernels compiled into NUMBA_CACHE_DIR, where the next
    process (a container started from the image) finds them."""
    import os
    import subprocess

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    code = "import modal_app; modal_app.warm_librosa()"
    proc = subprocess.run([sys.executable, "-c", code], cwd=modal_support.MODAL_APP.parent, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cached = list((tmp_path / "numba").rglob("*.nbi"))
    assert any("librosa" in str(p) for p in cached), "librosa's numba kernels are cached for the next process"
