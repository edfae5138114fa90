"""The offline provider: looks painted with OpenCV and NumPy. Free, keyless and deterministic (the same
picture, look and seed always give the same bytes)."""

from __future__ import annotations

import numpy as np

from functions.style.looks import get_look
from shared.providers.prices import FREE, Price


class LocalStyleProvider:
    name = "local"
    price: Price = FREE

    def estimate_usd(self, *, width: int, height: int) -> float:
        return 0.0

    def stylize(self, *, image: np.ndarray, look: str, seed: int) -> np.ndarray:
        render = get_look(look).render
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected a BGR uint8 picture, got {image.dtype} {image.shape}")
        # NumPy generators take non-negative seeds; any int the request carries maps onto one.
        out = render(image=np.ascontiguousarray(image), seed=seed % (1 << 32))
        if out.shape != image.shape or out.dtype != np.uint8:
            raise AssertionError(f"look {look!r} returned {out.dtype} {out.shape} for {image.shape}")
        return out
