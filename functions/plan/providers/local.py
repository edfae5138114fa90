"""The offline planner: deterministic, free, and the fallback of every cloud planner."""

from __future__ import annotations

from functions.plan.planner import plan_locally
from shared.models import PlanRequest, ScenePlan


class LocalPlanProvider:
    name = "local"

    def propose(self, *, request: PlanRequest) -> ScenePlan:
        return plan_locally(request=request)
