"""One real call per style provider (marked `live`; skipped without the key and MOMENTLOOP_LIVE_TESTS=1)."""

from __future__ import annotations

import numpy as np
import pytest
from fakes.live import require_live

from functions.style.providers import get_provider

pytestmark = pytest.mark.live


@pytest.mark.parametrize("vendor", ["gemini", "openai", "replicate"])
def test_one_real_restyle(vendor: str) -> None:
    require_live(vendor, cost="$0.04-0.07")
    rng = np.random.default_rng(0)
    photo = np.full((512, 768, 3), (90, 140, 200), np.uint8)
    photo[128:384, 256:512] = rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)
    provider = get_provider(vendor)
    out = provider.stylize(image=photo, look="ghibli", seed=1)
    assert out.shape == photo.shape
    assert float(np.abs(out.astype(int) - photo.astype(int)).mean()) > 5  # the model really redrew it
    assert provider.usage.cost_usd > 0
