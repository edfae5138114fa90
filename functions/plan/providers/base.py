"""What every planner provides."""

from __future__ import annotations

from typing import Protocol

from shared.models.plan import PlanRequest, ScenePlan
from shared.store import ArtifactStore


class PlanProvider(Protocol):
    name: str

    def propose(self, *, request: PlanRequest, store: ArtifactStore | None = None) -> ScenePlan:
        """The edit of `request`. Cloud planners read the photos' thumbnails from `store` when given one."""
        ...
