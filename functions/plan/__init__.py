"""The plan stage: photos + music → a ScenePlan whose every boundary is a beat (entry: stage.py)."""

from functions.plan.stage import PLAN_VERSION, run_plan

__all__ = ["PLAN_VERSION", "run_plan"]
