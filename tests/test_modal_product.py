"""modal_app.py's product functions: they ask Modal for the right hardware (COLMAP on CPU, nerfstudio on the
GPU from the settings, one render call per chunk of frames), run with `.local()` on a real capture (the fox
frames: poses, dataset and orbit on CPU, then the preview path through the job's event log to a turntable
with alpha), and the GPU pieces refuse clearly on a machine without a GPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from functions.pipeline.backends import open_job_store
from functions.pipeline.modal_executor import unwrap
from shared.errors import MomentLoopError
from shared.settings import get_settings
from shared.store import LocalStore
from tests import modal_support
from tests.modal_support import imported_modal_app

PRODUCT = ("product_poses", "product_train", "product_render", "product_preview", "product_encode")


@pytest.fixture()
def modal_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from imported_modal_app(tmp_path=tmp_path, monkeypatch=monkeypatch)


def fresh_import(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    return modal_support.fresh_import(monkeypatch, name="modal_app_product_variant", **env)


def test_product_functions_ask_for_their_hardware(modal_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(modal_app.PRODUCT_FUNCTIONS) == set(PRODUCT)
    cpu_stage_image = id(modal_app.analyze_photo._spec_.image)
    for name in ("product_poses", "product_preview", "product_encode"):
        fn, options = modal_app.PRODUCT_FUNCTIONS[name], modal_app.PRODUCT_OPTIONS[name]
        info = fn.info()
        assert info.gpus == [], f"{name} runs on CPU"
        assert id(fn._spec_.image) == cpu_stage_image, "the CPU image (pycolmap is in its packages)"
        assert (info.cpu, info.memory_mib, info.timeout) == (options["cpu"], options["memory"], options["timeout"])
        assert info.max_retries == options["retries"] >= 1
        assert list(info.volumes) == [modal_app.ARTIFACTS_PATH]
    assert any(p.startswith("pycolmap") for p in modal_app.PYTHON_PACKAGES)
    assert modal_app.PRODUCT_OPTIONS["product_poses"]["cpu"] >= 2, "COLMAP uses every core it gets"

    gpu_images = set()
    for name in ("product_train", "product_render"):
        fn = modal_app.PRODUCT_FUNCTIONS[name]
        info = fn.info()
        assert info.gpus == [("T4", 1)], f"{name}: the dev GPU by default"
        assert info.timeout == modal_app.PRODUCT_GPU_OPTIONS[name]["timeout"]
        assert info.max_retries == modal_app.PRODUCT_GPU_OPTIONS[name]["retries"] >= 1
        assert list(info.volumes) == [modal_app.ARTIFACTS_PATH]
        gpu_images.add(id(fn._spec_.image))
    assert len(gpu_images) == 1 and cpu_stage_image not in gpu_images, "nerfstudio lives only in the GPU image"
    assert modal_app.product_train.info().timeout >= 1800 > modal_app.product_render.info().timeout >= 600
    assert modal_app.PRODUCT_GPU_OPTIONS["product_render"]["max_containers"] >= 4, "renders fan out"
    job = modal_app.make_product.info()
    assert job.gpus == [] and job.max_retries is None, "the job is CPU wiring, never re-run blind"

    prod = fresh_import(monkeypatch, MOMENTLOOP_MODAL_GPU="A10G")
    assert prod.product_train.info().gpus == [("A10G", 1)] and prod.product_render.info().gpus == [("A10G", 1)]
    assert prod.product_poses.info().gpus == []


def test_gpu_pieces_refuse_clearly_without_a_gpu(modal_app: Any) -> None:
    for reply in (modal_app.product_train.local({}, {}, {}),
                  modal_app.product_render.local({}, {}, {}, {}, [0, 4])):
        assert reply["result"] is None and "needs a GPU" in reply["error"] and reply["bad_input"] is False
        assert "--preview" in reply["hint"]
        with pytest.raises(MomentLoopError, match="needs a GPU"):
            unwrap(reply)


@pytest.fixture(scope="module")
def fox_frames(media_dir: Path) -> list[Path]:
    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 24:
        pytest.skip("the fox capture is absent")
    return frames[:24:2]  # 12 frames of the walk, every other one


def test_product_pieces_run_locally_on_a_real_capture(modal_app: Any, fox_frames: list[Path]) -> None:
    from functions.pipeline.ingest import ingest_photos
    from shared.models.product import ProductCapture, ProductRenderPlan, ProductRequest, ProductResult

    settings = get_settings()
    store = LocalStore(settings.artifacts_dir)
    sources = ingest_photos(store=store, paths=fox_frames)
    request = ProductRequest(photos=sources, frames=8, fps=12, width=96, height=96, renderer="preview")
    payload = request.model_dump(mode="json")

    poses = unwrap(modal_app.product_poses.local(payload))
    capture = ProductCapture.model_validate(poses["capture"])
    plan = ProductRenderPlan.model_validate(poses["plan"])
    assert capture.registration.registered_images == 12, "every fox frame is placed"
    assert {c.file_path for c in capture.cameras} == {p.name for p in fox_frames}
    assert store.exists(f"{capture.dataset_key}/transforms.json") and store.exists(capture.points_key)
    assert plan.renderer == "preview" and len(plan.frame_keys) == 8

    jobs = open_job_store(settings=settings)
    outcome = modal_app.make_product.local(payload)
    assert "result" in outcome, outcome
    result = ProductResult.model_validate(outcome["result"])
    assert result.preview and result.frames == 8 and (result.width, result.height) == (96, 96)
    assert store.exists(result.turntable_key) and store.exists(result.poster_key)
    events = jobs.events(outcome["job_id"])
    progress = [e for e in events if e.type == "progress"]
    assert {e.item for e in progress} >= {"dataset", "render", "encode"}, "each piece's progress reaches the log"
    percents = [e.percent for e in progress]
    assert percents == sorted(percents) and percents[-1] == pytest.approx(100.0)
    assert events[-1].type == "done" and jobs.get_job(outcome["job_id"]).status == "done"


def test_a_capture_that_cannot_work_fails_the_job_with_the_reshoot_hint(
    modal_app: Any, good_photos: list[Path]
) -> None:
    from functions.pipeline.ingest import ingest_photos
    from shared.models.product import ProductRequest

    store = LocalStore(get_settings().artifacts_dir)
    unrelated = ingest_photos(store=store, paths=[p for p in good_photos if p.suffix == ".png"][:4])
    outcome = modal_app.make_product.local(ProductRequest(photos=unrelated, frames=4, width=64, height=64,
                                                          renderer="preview").model_dump(mode="json"))
    assert outcome["bad_input"] is True and "placed in 3D" in outcome["error"]
    assert "overlap" in outcome["hint"], "the reshoot hint says how to shoot again"
    jobs = open_job_store(settings=get_settings())
    assert jobs.get_job(outcome["job_id"]).status == "failed"
    assert jobs.events(outcome["job_id"])[-1].type == "failed"


def test_the_nerf_path_streams_training_progress_and_renders_every_chunk(
    modal_app: Any, fox_frames: list[Path]
) -> None:
    """`run_product_pieces` on the nerf path with the two GPU pieces faked at the edge: training reports
    through the real progress wiring as nerf.train does, rendering fills each chunk's frame keys (with the
    CPU renderer); poses and encode are the real functions."""
    from functions.pipeline.ingest import ingest_photos
    from functions.pipeline.modal_executor import InProcessChannel
    from functions.product.stage import phase_reporter
    from shared.models.product import ProductRequest, ProductResult

    store = LocalStore(get_settings().artifacts_dir)
    request = ProductRequest(photos=ingest_photos(store=store, paths=fox_frames), frames=65, fps=12, width=64,
                             height=64, renderer="nerf").model_dump(mode="json")
    trained: list[dict[str, Any]] = []
    chunks: list[list[int]] = []

    def fake_train(req: dict[str, Any], capture: dict[str, Any], plan: dict[str, Any], progress: Any,
                   index: int) -> dict[str, Any]:
        def body(store: Any, report: Any) -> dict[str, Any]:
            assert plan["renderer"] == "nerf"
            phase_reporter(report, "train")(percent=50.0, message="step 500/1000 loss 0.0333, 6 s left")
            trained.append(plan)
            return {"run": {"key": f"{plan['key']}/nerf", "method": "splatfacto", "files": [], "step": 999}}

        reply: dict[str, Any] = modal_app._product_piece(body, progress, index)
        return reply

    def fake_render_starmap(args: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        replies = []
        for req, capture, plan, run, chunk, progress, index in args:
            assert run["step"] == 999 and run["key"].endswith("/nerf")
            chunks.append(chunk)
            replies.append(modal_app.product_preview.local(req, capture, plan, chunk, progress, index))
        return replies

    calls = {
        "product_poses": modal_app.product_poses.local,
        "product_train": fake_train,
        "product_render.starmap": fake_render_starmap,
        "product_encode": modal_app.product_encode.local,
    }
    seen: list[tuple[float, str]] = []
    with InProcessChannel.open() as channel:
        result = ProductResult.model_validate(modal_app.run_product_pieces(
            request=request, calls=calls, channel=channel, on_progress=lambda p, m: seen.append((p, m))))
    assert len(trained) == 1
    assert chunks == [[0, 30], [30, 60], [60, 65]], "65 frames in chunks of 30"
    assert ("train: step 500/1000 loss 0.0333, 6 s left" in [m for _, m in seen]), seen
    train_pct = next(p for p, m in seen if m.startswith("train: step"))
    assert 45.0 < train_pct < 65.0, "training sits in its span of the stage's percent"
    assert result.frames == 65 and result.renderer == "nerf" and store.exists(result.turntable_key)
