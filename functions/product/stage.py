"""The product stage: photos (or a walk-around video) of a product → a 360° turntable clip with alpha.

Its pieces (functions/product/pieces.py) run through an Executor like every other stage's items: on this
machine's threads (LocalExecutor), or fanned out to the Modal functions of the same names (ModalExecutor),
each on the hardware it needs:

    product_poses → (product_train → product_render × chunks) or product_preview × chunks → product_encode

Every artifact lives under `product/<content key>/`: the capture's key hashes its inputs only, the render's
key the capture plus the turntable settings, so a rerun reuses the poses when only the turntable changes,
and everything when nothing does.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence

from pydantic import BaseModel

from functions.pipeline.executor import Executor, ItemOutcome, JobStoppedError, LocalExecutor, failure_error
from functions.pipeline.modal_executor import ModalExecutor
from functions.product.nerf_command import frame_chunks
from functions.product.nerf_store import StoredRun
from functions.product.phases import phase_reporter
from functions.product.pieces import (
    EncodeRequest,
    FramesRequest,
    Posed,
    PosesRequest,
    Trained,
    TrainRequest,
)
from functions.product.render import choose_renderer, nerf_work_dir
from shared.models.product import ProductRequest, ProductResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore, get_model

RENDER_CHUNK = 30
"""Frames per render item where the pieces fan out (120 frames → 4 GPUs; one container loads the model once
per chunk). On one machine the frames are one item: one model load, one GPU."""


def make_turntable(*, request: ProductRequest, executor: Executor, store: ArtifactStore, report: Reporter = silent,
                   stop: threading.Event | None = None) -> ProductResult:
    """The turntable for `request`, its pieces run by `executor`, their progress into `report` (one overall
    percent, messages "<phase>: <what>"). Reuses the result, or the capture, made before from the same inputs
    and settings. A poor capture raises InputError with the reshoot hint; a stop raises JobStoppedError."""
    fan_out = isinstance(executor, ModalExecutor)
    renderer = choose_renderer(request=request, gpu_elsewhere=fan_out)

    def run(stage: str, requests: Sequence[BaseModel], on_progress: Callable[[int, float | None, str], None],
            on_done: Callable[[ItemOutcome], None] | None = None) -> list[BaseModel]:
        outcomes = executor.map(stage=stage, requests=requests, on_progress=on_progress, on_done=on_done)
        if stop is not None and stop.is_set():
            raise JobStoppedError()
        for outcome in outcomes:
            if outcome.result is None:
                raise failure_error(error=outcome.error, hint=outcome.hint, bad_input=outcome.bad_input)
        return [o.result for o in outcomes if o.result is not None]

    def forward(_index: int, percent: float | None, message: str) -> None:
        report(percent=percent, message=message)

    (posed,) = run("product_poses", [PosesRequest(request=request, renderer=renderer)], forward)
    assert isinstance(posed, Posed)
    capture, plan = posed.capture, posed.plan
    if store.exists(f"{plan.key}/result.json"):
        report(percent=100.0, message="encode: reused the turntable made before")
        return get_model(store, f"{plan.key}/result.json", ProductResult)
    seconds: dict[str, float] = {}
    started = time.monotonic()
    try:
        stored: StoredRun | None = None
        if plan.renderer == "nerf":
            (trained,) = run("product_train", [TrainRequest(request=request, capture=capture, plan=plan)], forward)
            assert isinstance(trained, Trained)
            stored = trained.run
            seconds["train"] = round(time.monotonic() - started, 3)
            started = time.monotonic()
        chunks = frame_chunks(total=len(plan.frame_keys), chunk=RENDER_CHUNK if fan_out else len(plan.frame_keys))
        frames = _ChunkProgress(report=report, chunks=len(chunks))
        run("product_render" if stored is not None else "product_preview",
            [FramesRequest(capture=capture, plan=plan, start=a, stop=b, run=stored) for a, b in chunks],
            frames.progress, frames.done)
        seconds["render"] = round(time.monotonic() - started, 3)
    finally:
        if plan.renderer == "nerf" and not fan_out:  # this machine's copy of the dataset and the run
            shutil.rmtree(nerf_work_dir(plan=plan), ignore_errors=True)
    (result,) = run("product_encode", [EncodeRequest(request=request, capture=capture, plan=plan,
                                                     phase_seconds=seconds)], forward)
    assert isinstance(result, ProductResult)
    return result


class _ChunkProgress:
    """The render phase's progress: the mean of its chunks' own percents, whichever machine renders each."""

    def __init__(self, *, report: Reporter, chunks: int) -> None:
        self.report = phase_reporter(report, "render")
        self.percents = [0.0] * chunks
        self.finished = 0
        self._lock = threading.Lock()

    def progress(self, index: int, percent: float | None, message: str) -> None:
        with self._lock:
            if percent is not None:
                self.percents[index] = max(self.percents[index], percent)
            overall = sum(self.percents) / len(self.percents)
        self.report(percent=overall, message=message)

    def done(self, outcome: ItemOutcome) -> None:
        if len(self.percents) == 1 or not outcome.ok:
            return
        with self._lock:
            self.percents[outcome.index] = 100.0
            self.finished += 1
            overall, finished = sum(self.percents) / len(self.percents), self.finished
        self.report(percent=overall, message=f"{finished}/{len(self.percents)} chunks of frames")


def run_product(*, request: ProductRequest, store: ArtifactStore, report: Reporter = silent) -> ProductResult:
    """The whole stage on this machine: capture → frames (preview on CPU, or nerf on a GPU) → turntable."""
    return make_turntable(request=request, executor=LocalExecutor(store=store, workers=1), store=store,
                          report=report)
