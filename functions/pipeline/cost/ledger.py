"""A job's ledger: the budget checked before every paid stage, and what was really spent, item by item.

The pipeline calls `before_stage` with the items it is about to run (cache hits excluded: a cached result
is never paid again) and `after_stage` with their results. A stage whose worst case (every item on the
dearest link of its chain) would pass the budget is refused before anything of it is spent; once the plan
is known, the rest of the job (style + clips) is checked as a whole, so a job never styles photos it
cannot afford to animate. Spend comes from the results themselves (`cost_usd`, failed links included)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from functions.pipeline.cost.estimate import estimate_render, estimate_request
from shared.models.base import Frozen
from shared.models.plan import ScenePlan
from shared.providers.errors import BudgetExceededError
from shared.settings import Settings
from shared.store import ArtifactStore

PAID_STAGES = ("music", "plan", "style", "clips")
_EPS = 1e-9


class SpendLine(Frozen):
    """What one item really cost, as recorded on the job."""

    stage: str
    item: str
    provider: str
    usd: float = Field(ge=0)


def usd(value: float) -> str:
    """Dollars for people: cents, or more digits below a cent so a tiny spend does not read as $0.00."""
    if value == 0:
        return "$0.00"
    if value < 0.01:
        return f"${value:.4f}"
    return f"${value:.2f}"


@dataclass(frozen=True)
class LedgerNote:
    """A line for the job's event log."""

    item: str
    status: str
    message: str


class JobLedger:
    def __init__(self, *, settings: Settings, budget_usd: float | None = None,
                 store: ArtifactStore | None = None, seed: int = 0) -> None:
        self.settings = settings
        self.store = store
        self.seed = seed
        self.budget = budget_usd if budget_usd is not None else settings.budget_usd
        self.spent = 0.0
        self.lines: list[SpendLine] = []
        self._lock = threading.Lock()

    def _check(self, *, stage: str, needed: float) -> None:
        if self.budget is None or needed <= 0:
            return
        if self.spent + needed > self.budget + _EPS:
            raise BudgetExceededError(stage=stage, needed=needed, spent=self.spent, budget=self.budget)

    def before_stage(self, *, stage: str, requests: Sequence[BaseModel]) -> None:
        """Refuse the stage when running `requests` (the uncached ones) could pass the budget."""
        if stage not in PAID_STAGES or self.budget is None:
            return
        worst = sum(estimate_request(stage=stage, request=r).worst for r in requests)
        self._check(stage=stage, needed=worst)

    def after_stage(self, *, stage: str, outcomes: Sequence[tuple[str, BaseModel | None, bool]]) -> list[LedgerNote]:
        """Record what the items (label, result, came from the cache) cost; return lines for the job log."""
        notes: list[LedgerNote] = []
        for label, result, cached in outcomes:
            if result is None or cached:
                continue
            cost = float(getattr(result, "cost_usd", 0.0) or 0.0)
            provider = str(getattr(result, "provider", "") or "")
            for attempt in getattr(result, "attempts", None) or []:
                status = "note" if attempt.kind in ("repaired", "corrected") else "fallback"
                notes.append(LedgerNote(item=label, status=status,
                                        message=f"{label}: {attempt.provider} {attempt.kind}: {attempt.reason}"))
            if cost > 0:
                with self._lock:
                    self.spent = round(self.spent + cost, 6)
                    self.lines.append(SpendLine(stage=stage, item=label, provider=provider, usd=cost))
                notes.append(LedgerNote(item=label, status="spend",
                                        message=f"{label}: {usd(cost)} with {provider} ({usd(self.spent)} so far)"))
        if stage == "plan":
            plans = [r for _, r, _ in outcomes if isinstance(r, ScenePlan)]
            if plans:
                self.check_render(plan=plans[0])
        return notes

    def check_render(self, *, plan: ScenePlan) -> None:
        """Refuse the job now if styling and animating `plan` (what of it is not cached) could pass the budget."""
        if self.budget is None:
            return
        lines = estimate_render(plan=plan, settings=self.settings, seed=self.seed, store=self.store)
        worst = sum(line.worst for line in lines)
        self._check(stage="style and clips", needed=worst)

    def by_stage(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.stage] = round(out.get(line.stage, 0.0) + line.usd, 6)
        return out
