"""Live provider tests spend real money: they run only with the provider's key AND MOMENTLOOP_LIVE_TESTS=1."""

from __future__ import annotations

import os

import pytest

from shared.providers.keys import KEY_VARIABLES
from shared.settings import get_settings


def require_live(vendor: str, *, cost: str) -> None:
    variable = KEY_VARIABLES[vendor]
    if not os.environ.get(variable):
        pytest.skip(f"{variable} is not set")
    if os.environ.get("MOMENTLOOP_LIVE_TESTS") != "1":
        pytest.skip(f"live call to {vendor} costs about {cost}: set MOMENTLOOP_LIVE_TESTS=1 to run it")
    get_settings.cache_clear()
