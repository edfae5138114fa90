"""A chain of planners. The local planner always ends it: a plan never fails because a model did."""

from __future__ import annotations

from functions.plan.providers.base import PlanProvider
from shared.models import PlanRequest, ScenePlan
from shared.providers.fallback import run_chain
from shared.providers.prices import ItemEstimate
from shared.store import ArtifactStore


class FallbackPlanProvider:
    def __init__(self, links: list[PlanProvider]) -> None:
        self.links = links
        self.name = ",".join(link.name for link in links)

    def estimate(self, *, request: PlanRequest) -> ItemEstimate:
        costs = [link_estimate(link, request=request) for link in self.links]
        return ItemEstimate(expected=costs[0], worst=max(costs) * 2, provider=self.name,
                            detail="worst case: a repair attempt")

    def propose(self, *, request: PlanRequest, store: ArtifactStore | None = None) -> ScenePlan:
        plan, _, attempts = run_chain(
            links=self.links,
            label=lambda p: p.name,
            call=lambda p: p.propose(request=request, store=store),
            stage="plan",
        )
        failed_cost = sum(a.cost_usd for a in attempts)
        return plan.model_copy(update={
            "attempts": [*attempts, *plan.attempts],
            "cost_usd": round(plan.cost_usd + failed_cost, 6),
        })


def link_estimate(provider: object, *, request: PlanRequest) -> float:
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(request=request)) if estimate is not None else 0.0
