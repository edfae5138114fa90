"""The offline planner: deterministic, free, and the fallback of every cloud planner."""

from __future__ import annotations

from functions.plan.planner import plan_locally
from shared.models.plan import PlanRequest, ScenePlan
from shared.providers.prices import FREE, Price
from shared.store import ArtifactStore


class LocalPlanProvider:
    name = "local"
    price: Price = FREE

    def estimate_usd(self, *, request: PlanRequest) -> float:
        return 0.0

    def propose(self, *, request: PlanRequest, store: ArtifactStore | None = None) -> ScenePlan:
        return plan_locally(request=request)
