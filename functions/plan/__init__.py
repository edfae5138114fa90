"""The plan stage: photos + music → a ScenePlan whose every boundary is a beat."""

from __future__ import annotations

from functions.plan.providers.base import PlanProvider
from functions.plan.providers.local import LocalPlanProvider
from shared.errors import OptionError
from shared.models import PlanRequest, ScenePlan
from shared.progress import Reporter, silent

PLAN_VERSION = "1"

_PROVIDERS: dict[str, type[PlanProvider]] = {"local": LocalPlanProvider}


def plan_provider(name: str) -> PlanProvider:
    try:
        return _PROVIDERS[name]()
    except KeyError:
        raise OptionError(f"unknown plan provider {name!r} (choose from: {', '.join(_PROVIDERS)})") from None


def run_plan(*, request: PlanRequest, provider: str = "local", report: Reporter = silent) -> ScenePlan:
    report(percent=0, message="planning scenes on the beat grid")
    plan = plan_provider(provider).propose(request=request)
    report(percent=100, message=f"{len(plan.scenes)} scenes")
    return plan


__all__ = ["PLAN_VERSION", "run_plan"]
