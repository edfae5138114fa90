"""Planners, chosen by name: "local", "gemini", "openai", "NAME:MODEL", or a chain ("gemini,openai").
Every chain ends with the local planner (added when not named): planning never fails a job."""

from __future__ import annotations

from functions.plan.providers.base import PlanProvider
from functions.plan.providers.fallback import FallbackPlanProvider
from functions.plan.providers.gemini import GeminiPlanProvider
from functions.plan.providers.local import LocalPlanProvider
from functions.plan.providers.openai import OpenAIPlanProvider
from shared.providers.registry import Registry

REGISTRY = Registry[PlanProvider].of_stage(
    what="plan provider", local=LocalPlanProvider, cloud=[GeminiPlanProvider, OpenAIPlanProvider],
    chain=FallbackPlanProvider, ends_with="local", worst_factor=2.0, worst_detail="worst case: a repair attempt",
)
get_provider = REGISTRY.build

__all__ = ["REGISTRY", "LocalPlanProvider", "PlanProvider", "get_provider"]
