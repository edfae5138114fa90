"""A chain of style providers ("gemini,local"): the first that paints the picture wins; the others'
failures are kept on the result."""

from __future__ import annotations

import numpy as np

from functions.style.providers.base import StyleProvider
from shared.providers.fallback import Usage, run_chain
from shared.providers.prices import ItemEstimate


class FallbackStyleProvider:
    def __init__(self, links: list[StyleProvider]) -> None:
        self.links = links
        self.name = ",".join(link.name for link in links)
        self.usage: Usage | None = None

    def estimate(self, *, width: int, height: int) -> ItemEstimate:
        costs = [link_estimate(link, width=width, height=height) for link in self.links]
        return ItemEstimate(expected=costs[0], worst=max(costs), provider=self.name)

    def stylize(self, *, image: np.ndarray, look: str, seed: int) -> np.ndarray:
        out, link, attempts = run_chain(
            links=self.links,
            label=lambda p: p.name,
            call=lambda p: p.stylize(image=image, look=look, seed=seed),
            stage="style",
        )
        used = getattr(link, "usage", None) or Usage(provider=link.name)
        self.usage = Usage(provider=used.provider, cost_usd=used.cost_usd, attempts=attempts)
        return out


def link_estimate(provider: object, *, width: int, height: int) -> float:
    estimate = getattr(provider, "estimate_usd", None)
    return float(estimate(width=width, height=height)) if estimate is not None else 0.0
