"""Planners, chosen by name: "local", "gemini", "openai", "NAME:MODEL", or a chain ("gemini,openai").
Every chain ends with the local planner (added when not named): planning never fails a job."""

from __future__ import annotations

from collections.abc import Callable

from functions.plan.providers.base import PlanProvider
from functions.plan.providers.fallback import FallbackPlanProvider, link_estimate
from functions.plan.providers.local import LocalPlanProvider
from shared.errors import OptionError
from shared.models import PlanRequest
from shared.providers.fallback import parse_chain
from shared.providers.prices import ItemEstimate


def _gemini(model: str | None = None) -> PlanProvider:
    from functions.plan.providers.gemini import GeminiPlanProvider

    return GeminiPlanProvider(model)


def _openai(model: str | None = None) -> PlanProvider:
    from functions.plan.providers.openai import OpenAIPlanProvider

    return OpenAIPlanProvider(model)


def _local(model: str | None = None) -> PlanProvider:
    if model:
        raise OptionError(f"the local planner has no models (got {model!r})")
    return LocalPlanProvider()


PROVIDERS: dict[str, Callable[..., PlanProvider]] = {
    "local": _local,
    "gemini": _gemini,
    "openai": _openai,
}
VENDORS = {"gemini", "openai"}


def get_provider(name: str) -> PlanProvider:
    links = parse_chain(name)
    providers: list[PlanProvider] = []
    for link in links:
        try:
            factory = PROVIDERS[link.name]
        except KeyError:
            raise OptionError(f"unknown plan provider {link.name!r}; choose one of: {', '.join(PROVIDERS)}") from None
        providers.append(factory(link.model) if link.model else factory())
    if providers[-1].name != "local":
        providers.append(LocalPlanProvider())
    return providers[0] if len(providers) == 1 else FallbackPlanProvider(providers)


def estimate(*, name: str, request: PlanRequest) -> ItemEstimate:
    provider = get_provider(name)
    if isinstance(provider, FallbackPlanProvider):
        return provider.estimate(request=request)
    cost = link_estimate(provider, request=request)
    return ItemEstimate(expected=cost, worst=cost, provider=provider.name)


__all__ = ["PROVIDERS", "VENDORS", "LocalPlanProvider", "PlanProvider", "estimate", "get_provider"]
