"""A chain of planners. The local planner always ends it: a plan never fails because a model did."""

from __future__ import annotations

from functions.plan.providers.base import PlanProvider
from shared.models.plan import PlanRequest, ScenePlan
from shared.providers.fallback import Chain
from shared.store import ArtifactStore


class FallbackPlanProvider(Chain[PlanProvider]):
    stage = "plan"

    def propose(self, *, request: PlanRequest, store: ArtifactStore | None = None) -> ScenePlan:
        plan, _, attempts = self.run(lambda p: p.propose(request=request, store=store))
        failed_cost = sum(a.cost_usd for a in attempts)
        return plan.model_copy(update={
            "attempts": [*attempts, *plan.attempts],
            "cost_usd": round(plan.cost_usd + failed_cost, 6),
        })
