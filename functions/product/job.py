"""A product turntable as a job: the stage run inside `Pipeline.execute` (which owns the job's status and its
terminal event) with the pipeline's executor, and the stage's progress as the job's `progress` events, which
the SSE stream tails. The web app's product jobs (api/product_job.py) and the Modal app's `make_product` run
this one function."""

from __future__ import annotations

import threading
import time

from functions.pipeline.executor import JobStoppedError
from functions.pipeline.runner import Pipeline
from functions.product.stage import make_turntable
from shared.models.product import ProductRequest, ProductResult

STAGE = "product"
EVERY_SECONDS = 0.25
"""At most four progress events a second within one phase: a phase's first and last always go out."""


class ProductProgress:
    """The stage's reporter (`report(percent=, message="<phase>: <what>")`) as `progress` events of the job:
    `item` the phase, `percent` never going back (pieces and retries restart their own counts), a new
    phase always written, and a stop asked for (cancel, shutdown) raised at the next report."""

    def __init__(self, *, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.percent = 0.0
        self.phase = ""
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        stop = self.pipeline.stop
        if stop is not None and stop.is_set():
            raise JobStoppedError()
        phase, sep, _ = message.partition(":")
        phase = phase.strip() if sep else self.phase or STAGE
        with self._lock:
            now = time.monotonic()
            new_phase = phase != self.phase
            if percent is not None:
                self.percent = max(self.percent, min(100.0, float(percent)))
            if not new_phase and now - self._last < EVERY_SECONDS and (percent or 0.0) < 100.0 \
                    and "step" not in message:
                return
            self._last = now
            self.phase = phase
            self.pipeline.emit("progress", stage=STAGE, item=phase, percent=self.percent, message=message)


def turntable(*, pipeline: Pipeline, request: ProductRequest) -> ProductResult:
    """The job's work: the `product` stage's events around the turntable, made by the pipeline's executor."""
    pipeline.emit("stage", stage=STAGE, status="running", percent=0.0, total=1,
                  message=f"{len(request.photos)} photos around the product")
    result = make_turntable(request=request, executor=pipeline.executor, store=pipeline.store,
                            report=ProductProgress(pipeline=pipeline), stop=pipeline.stop)
    for r in result.rejected:
        pipeline.emit("log", stage=STAGE, item=r.name, status="skipped", message=f"skipped {r.reason}")
    pipeline.emit("stage", stage=STAGE, status="done", percent=100.0)
    return result


def turntable_summary(result: ProductResult) -> tuple[dict[str, object], str]:
    """What a finished product job records, and its last message."""
    reg = result.registration
    quality = "preview quality (CPU point splats)" if result.preview else f"{result.method} on GPU"
    return (
        {"turntable_key": result.turntable_key, "poster_key": result.poster_key,
         "registered": reg.registered_images, "photos": reg.total_images, "preview": result.preview},
        f"turntable: {result.frames} frames {result.width}x{result.height}, {quality}; "
        f"{reg.registered_images}/{reg.total_images} photos placed",
    )
