"""The product stage's pieces, each a stage of the registry (functions/pipeline/stages.py) with a request and
a result model, so an executor runs them like any other stage: on this machine's threads, or as the Modal
functions of the same names on the hardware each needs.

    product_poses    CPU   photos → COLMAP poses, dataset, orbit, and the turntable's render plan
    product_train    GPU   the dataset → a trained nerfstudio run, put in the store
    product_render   GPU   frames [start, stop) with the stored run
    product_preview  CPU   frames [start, stop) with the point-splat preview
    product_encode   CPU   the frames → the VP9 WebM with alpha and its poster

Each piece keeps its own artifacts and reuses them (the capture, the stored run, the frames already there,
the turntable), so the registry's result cache is not kept for them. Pieces report progress in the stage's
overall percent ("<phase>: <what>"), except the frames, which report their own range's."""

from __future__ import annotations

from pydantic import Field

from functions.product.capture import CAPTURE_VERSION, prepare_capture
from functions.product.encode import encode_product
from functions.product.nerf_store import StoredRun
from functions.product.phases import phase_reporter
from functions.product.render import (
    RENDER_VERSION,
    Renderer,
    plan_render,
    render_preview_frames,
    render_stored_run,
    train_stored_run,
)
from shared.models.base import Frozen
from shared.models.product import ProductCapture, ProductRenderPlan, ProductRequest, ProductResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

PIECE_VERSIONS = {"product_poses": CAPTURE_VERSION, "product_train": RENDER_VERSION,
                  "product_render": RENDER_VERSION, "product_preview": RENDER_VERSION,
                  "product_encode": RENDER_VERSION}


class PosesRequest(Frozen):
    request: ProductRequest
    renderer: Renderer = Field(description="Chosen by the caller, who knows where the frames will be rendered.")


class Posed(Frozen):
    capture: ProductCapture
    plan: ProductRenderPlan


class TrainRequest(Frozen):
    request: ProductRequest
    capture: ProductCapture
    plan: ProductRenderPlan


class Trained(Frozen):
    run: StoredRun


class FramesRequest(Frozen):
    capture: ProductCapture
    plan: ProductRenderPlan
    start: int = Field(ge=0)
    stop: int = Field(gt=0)
    run: StoredRun | None = Field(default=None, description="The trained run (the nerf renderer only).")


class Frames(Frozen):
    frame_keys: list[str]


class EncodeRequest(Frozen):
    request: ProductRequest
    capture: ProductCapture
    plan: ProductRenderPlan
    phase_seconds: dict[str, float] = Field(default_factory=dict, description="Train and render, as timed.")


def poses(*, request: PosesRequest, store: ArtifactStore, report: Reporter = silent) -> Posed:
    capture = prepare_capture(request=request.request, store=store, report=report)
    return Posed(capture=capture, plan=plan_render(request=request.request, capture=capture, renderer=request.renderer))


def train(*, request: TrainRequest, store: ArtifactStore, report: Reporter = silent) -> Trained:
    """Progress: "train: step 3000/10000 loss 0.021, 1 m, 2 s left"."""
    return Trained(run=train_stored_run(capture=request.capture, request=request.request, plan=request.plan,
                                        store=store, report=phase_reporter(report, "train")))


def render(*, request: FramesRequest, store: ArtifactStore, report: Reporter = silent) -> Frames:
    if request.run is None:
        raise ValueError("product_render needs the trained run")
    return Frames(frame_keys=render_stored_run(capture=request.capture, plan=request.plan, store=store,
                                               run=request.run, start=request.start, stop=request.stop,
                                               report=report))


def preview(*, request: FramesRequest, store: ArtifactStore, report: Reporter = silent) -> Frames:
    return Frames(frame_keys=render_preview_frames(capture=request.capture, plan=request.plan, store=store,
                                                   start=request.start, stop=request.stop, report=report))


def encode(*, request: EncodeRequest, store: ArtifactStore, report: Reporter = silent) -> ProductResult:
    return encode_product(request=request.request, capture=request.capture, plan=request.plan, store=store,
                          phase_seconds=request.phase_seconds, report=phase_reporter(report, "encode"))
