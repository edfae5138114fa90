"""What every planner provides."""

from __future__ import annotations

from typing import Protocol

from shared.models import PlanRequest, ScenePlan


class PlanProvider(Protocol):
    name: str

    def propose(self, *, request: PlanRequest) -> ScenePlan: ...
