"""The product stage's two GPU pieces faked at their entries, where nerfstudio would run (there is no GPU
here): everything around them is real (the Modal functions' bodies, the reply, the progress channel, the
executor and the job). Training reports its steps as nerf.train does; rendering fills each chunk's frames
with the CPU renderer."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import pytest

from functions.pipeline import stages as stages_module
from functions.pipeline.modal_executor import InProcessChannel, InProcessFunction, ModalExecutor
from functions.product import pieces
from functions.product.nerf_store import StoredRun
from functions.product.phases import phase_reporter
from shared.progress import Reporter
from shared.store import ArtifactStore


@dataclasses.dataclass
class FakeGpu:
    trained: list[str] = dataclasses.field(default_factory=list)
    """The render plans trained for."""
    chunks: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    """The frame ranges rendered, in the order they were asked for."""


def fake_gpu_pieces(monkeypatch: pytest.MonkeyPatch, *, steps: Sequence[int] = (500,),
                    pause: float = 0.0) -> FakeGpu:
    """`product_train` reports `steps` (of 1000, with their loss), `pause` seconds apart, and stores no
    weights; `product_render` renders its chunk with the preview renderer."""
    fake = FakeGpu()
    table = stages_module.stages()

    def train(*, request: pieces.TrainRequest, store: ArtifactStore, report: Reporter) -> pieces.Trained:
        assert request.plan.renderer == "nerf"
        for step in steps:
            phase_reporter(report, "train")(percent=step / 10, message=f"step {step}/1000 loss {0.1 - step / 1e4:.4f}")
            time.sleep(pause)
        fake.trained.append(request.plan.key)
        return pieces.Trained(run=StoredRun(key=f"{request.plan.key}/nerf", method="splatfacto", files=[], step=999))

    def render(*, request: pieces.FramesRequest, store: ArtifactStore, report: Reporter) -> pieces.Frames:
        assert request.run is not None and request.run.step == 999, "the trained run comes with every chunk"
        fake.chunks.append((request.start, request.stop))
        return pieces.preview(request=request, store=store, report=report)

    monkeypatch.setitem(table, "product_train", dataclasses.replace(table["product_train"], entry=train))
    monkeypatch.setitem(table, "product_render", dataclasses.replace(table["product_render"], entry=render))
    return fake


def in_process_executor(modal_app: Any, *, stop: Any = None) -> ModalExecutor:
    """A ModalExecutor over modal_app's stage functions run with `.local()` in this process (they read and
    write this machine's artifact folder, as containers share the Volume)."""
    functions = {name: InProcessFunction(fn.local) for name, fn in modal_app.STAGE_FUNCTIONS.items()}
    return ModalExecutor(functions=functions, progress_channel=InProcessChannel.open, stop=stop)
