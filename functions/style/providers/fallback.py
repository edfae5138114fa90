"""A chain of style providers ("gemini,local"): the first that paints the picture wins; the others'
failures are kept on the result."""

from __future__ import annotations

import numpy as np

from functions.style.providers.base import StyleProvider
from shared.providers.fallback import Chain, Usage


class FallbackStyleProvider(Chain[StyleProvider]):
    stage = "style"

    def __init__(self, links: list[StyleProvider]) -> None:
        super().__init__(links)
        self.usage: Usage | None = None

    def stylize(self, *, image: np.ndarray, look: str, seed: int) -> np.ndarray:
        out, link, attempts = self.run(lambda p: p.stylize(image=image, look=look, seed=seed))
        used = getattr(link, "usage", None) or Usage(provider=link.name)
        self.usage = Usage(provider=used.provider, cost_usd=used.cost_usd, attempts=attempts)
        return out
