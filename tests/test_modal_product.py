"""modal_app.py's product functions: they ask Modal for the right hardware (COLMAP on CPU, nerfstudio on the
GPU from the settings, one render call per chunk of frames), run with `.local()` on a real capture (the fox
frames: poses, dataset and orbit on CPU, then the preview path through the job's event log to a turntable
with alpha), the GPU pieces refuse clearly on a machine without a GPU, and the stage's orchestration fans
the pieces out to them through the ModalExecutor like any other stage's items."""

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
from tests.fakes.product_gpu import fake_gpu_pieces, in_process_executor
from tests.modal_support import imported_modal_app

PRODUCT = ("product_poses", "product_train", "product_render", "product_preview", "product_encode")


@pytest.fixture()
def modal_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    yield from imported_modal_app(tmp_path=tmp_path, monkeypatch=monkeypatch)


def fresh_import(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    return modal_support.fresh_import(monkeypatch, name="modal_app_product_variant", **env)


def test_product_functions_ask_for_their_hardware(modal_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(PRODUCT) <= set(modal_app.STAGE_FUNCTIONS), "the product's pieces are stage functions too"
    cpu_stage_image = id(modal_app.analyze_photo._spec_.image)
    for name in ("product_poses", "product_preview", "product_encode"):
        fn, options = modal_app.STAGE_FUNCTIONS[name], modal_app.STAGE_OPTIONS[name]
        info = fn.info()
        assert info.gpus == [], f"{name} runs on CPU"
        assert id(fn._spec_.image) == cpu_stage_image, "the CPU image (pycolmap is in its packages)"
        assert (info.cpu, info.memory_mib, info.timeout) == (options["cpu"], options["memory"], options["timeout"])
        assert info.max_retries == options["retries"] >= 1
        assert list(info.volumes) == [modal_app.ARTIFACTS_PATH]
    assert any(p.startswith("pycolmap") for p in modal_app.PYTHON_PACKAGES)
    assert modal_app.STAGE_OPTIONS["product_poses"]["cpu"] >= 2, "COLMAP uses every core it gets"

    gpu_images = set()
    for name in ("product_train", "product_render"):
        fn = modal_app.STAGE_FUNCTIONS[name]
        info = fn.info()
        assert info.gpus == [("T4", 1)], f"{name}: the dev GPU by default"
        assert info.timeout == modal_app.STAGE_OPTIONS[name]["timeout"]
        assert info.max_retries == modal_app.STAGE_OPTIONS[name]["retries"] >= 1
        assert list(info.volumes) == [modal_app.ARTIFACTS_PATH]
        gpu_images.add(id(fn._spec_.image))
    assert len(gpu_images) == 1 and cpu_stage_image not in gpu_images, "nerfstudio lives only in the GPU image"
    assert modal_app.product_train.info().timeout >= 1800 > modal_app.product_render.info().timeout >= 600
    assert modal_app.STAGE_OPTIONS["product_render"]["max_containers"] >= 4, "renders fan out"
    job = modal_app.make_product.info()
    assert job.gpus == [] and job.max_retries is None, "the job is CPU wiring, never re-run blind"

    prod = fresh_import(monkeypatch, MOMENTLOOP_MODAL_GPU="A10G")
    assert prod.product_train.info().gpus == [("A10G", 1)] and prod.product_render.info().gpus == [("A10G", 1)]
    assert prod.product_poses.info().gpus == []


@pytest.fixture(scope="module")
def fox_frames(media_dir: Path) -> list[Path]:
    frames = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))
    if len(frames) < 24:
        pytest.skip("the fox capture is absent")
    return frames[:24:2]  # 12 frames of the walk, every other one


def test_product_pieces_run_locally_on_a_real_capture(modal_app: Any, fox_frames: list[Path]) -> None:
    from functions.pipeline.ingest import ingest_photos
    from functions.product.nerf_store import StoredRun
    from functions.product.pieces import FramesRequest, Posed, PosesRequest, TrainRequest
    from shared.models.product import ProductRequest, ProductResult

    settings = get_settings()
    store = LocalStore(settings.artifacts_dir)
    sources = ingest_photos(store=store, paths=fox_frames)
    request = ProductRequest(photos=sources, frames=8, fps=12, width=96, height=96, renderer="preview")
    payload = request.model_dump(mode="json")

    posed = Posed.model_validate(unwrap(modal_app.product_poses.local(
        PosesRequest(request=request, renderer="preview").model_dump(mode="json"))))
    capture, plan = posed.capture, posed.plan
    assert capture.registration.registered_images == 12, "every fox frame is placed"
    assert {c.file_path for c in capture.cameras} == {p.name for p in fox_frames}
    assert store.exists(f"{capture.dataset_key}/transforms.json") and store.exists(capture.points_key)
    assert plan.renderer == "preview" and len(plan.frame_keys) == 8

    # The GPU pieces on a machine without a GPU: a clear reason and the way out, not an exception to retry.
    run = StoredRun(key=f"{plan.key}/nerf", method="splatfacto", files=[], step=1)
    for reply in (modal_app.product_train.local(TrainRequest(request=request, capture=capture, plan=plan)
                                                .model_dump(mode="json")),
                  modal_app.product_render.local(FramesRequest(capture=capture, plan=plan, start=0, stop=4, run=run)
                                                 .model_dump(mode="json"))):
        assert reply["result"] is None and "needs a GPU" in reply["error"] and reply["bad_input"] is False
        assert "--preview" in reply["hint"]
        with pytest.raises(MomentLoopError, match="needs a GPU"):
            unwrap(reply)

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
    modal_app: Any, fox_frames: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product stage's orchestration on the nerf path, its pieces fanned out through the ModalExecutor to
    modal_app's functions (under `.local()`), the two GPU pieces faked at their entries: training reports
    through the real progress wiring, rendering fills each chunk's frame keys (with the CPU renderer); poses
    and encode are the real pieces."""
    from functions.pipeline.ingest import ingest_photos
    from functions.product.stage import make_turntable
    from shared.models.product import ProductRequest

    store = LocalStore(get_settings().artifacts_dir)
    request = ProductRequest(photos=ingest_photos(store=store, paths=fox_frames), frames=65, fps=12, width=64,
                             height=64, renderer="nerf")
    gpu = fake_gpu_pieces(monkeypatch, steps=[500])
    seen: list[tuple[float | None, str]] = []
    result = make_turntable(request=request, executor=in_process_executor(modal_app), store=store,
                            report=lambda *, percent=None, message="": seen.append((percent, message)))
    assert len(gpu.trained) == 1
    assert sorted(gpu.chunks) == [(0, 30), (30, 60), (60, 65)], "65 frames in chunks of 30"
    assert "train: step 500/1000 loss 0.0500" in [m for _, m in seen], seen
    train_pct = next(p for p, m in seen if m.startswith("train: step"))
    assert train_pct is not None and 45.0 < train_pct < 65.0, "training sits in its span of the stage's percent"
    assert "render: 3/3 chunks of frames" in [m for _, m in seen], "each chunk's completion is reported"
    assert result.frames == 65 and result.renderer == "nerf" and store.exists(result.turntable_key)
