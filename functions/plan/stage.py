"""The plan stage: photos + music → a ScenePlan whose every boundary is a beat."""

from __future__ import annotations

from functions.plan.providers import get_provider
from shared.models.plan import PlanRequest, ScenePlan
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

PLAN_VERSION = "2"


def run_plan(
    *,
    request: PlanRequest,
    provider: str | None = None,
    store: ArtifactStore | None = None,
    report: Reporter = silent,
) -> ScenePlan:
    """Plan `request` with `provider` (default: the request's own). Model planners see the photos'
    thumbnails when `store` is given; their timing is always re-snapped to the beat grid."""
    chosen = get_provider(provider or request.provider)
    report(percent=0, message=f"planning scenes on the beat grid ({chosen.name})")
    plan = chosen.propose(request=request, store=store)
    report(percent=100, message=f"{len(plan.scenes)} scenes by {plan.provider}")
    return plan

