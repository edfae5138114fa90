"""What every style provider offers: one picture in, the same picture in a look out."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class StyleProvider(Protocol):
    name: str

    def stylize(self, *, image: np.ndarray, look: str, seed: int) -> np.ndarray:
        """Return `image` (BGR uint8, H × W × 3) painted in `look`, as BGR uint8.

        Raises OptionError for a look the provider does not know."""
        ...
