"""A project's product turntable as a web job (kind `product`): the photos → the product stage
(functions/product/job.py: its pieces run by the job's executor, here or on Modal as MOMENTLOOP_EXECUTOR
says, every phase's progress and each training step's loss on the job's event log) → a turntable recorded
on the project. The job itself stays on this replica, under its lease: claimed, renewed, resumed like every
other job."""

from __future__ import annotations

from pydantic import BaseModel

from api.files import stored_size
from api.leases import HeldLease
from functions.pipeline.runner import Pipeline
from functions.product.job import turntable, turntable_summary
from shared.models.product import ProductRequest, ProductResult
from shared.projects import ProductRecord, ProjectStore


class ProductJobParams(BaseModel):
    """A product job's whole input, snapshotted when it was asked for (a resumed job redoes exactly it)."""

    project_id: str
    user_id: str
    asset_ids: list[str]
    request: ProductRequest
    use: bool = True


def run_product_job(*, pipeline: Pipeline, params: ProductJobParams, lease: HeldLease,
                    projects: ProjectStore) -> tuple[ProductResult, ProductRecord]:
    """The turntable, and its record on the project (chosen for the video unless `params.use` is off)."""
    result = turntable(pipeline=pipeline, request=params.request)
    lease.check()  # the project's records, too, are written only by the job's holder
    product = projects.product_for_job(job_id=pipeline.job_id)
    if product is None or product.turntable_key != result.turntable_key:
        product = projects.add_product(
            project_id=params.project_id, job_id=pipeline.job_id, turntable_key=result.turntable_key,
            poster_key=result.poster_key, frames=result.frames, fps=result.fps, width=result.width,
            height=result.height, duration=result.duration, renderer=result.renderer,
            size_bytes=stored_size(store=pipeline.store, key=result.turntable_key))
    if params.use:
        # The storyboard, laid out without this product shot, is kept: out of date until the next one
        # plans it in, with the user's edits carried over (api/storyboard.py: stale_reasons, carry_over).
        projects.use_product(project_id=params.project_id, product_id=product.id)
    return result, product


def product_summary(value: tuple[ProductResult, ProductRecord]) -> tuple[dict[str, object], str]:
    result, product = value
    recorded, message = turntable_summary(result)
    return {"product_id": product.id, **recorded}, message
