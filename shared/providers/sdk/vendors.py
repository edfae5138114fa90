"""Each cloud vendor's SDK client and error translation, by the vendor's name: what a provider of any
stage (clips, style, plan) backed by that vendor asks for, in one place."""

from __future__ import annotations

import importlib
from typing import Any

from shared.providers.errors import ProviderError

_FUNCTIONS: dict[str, tuple[str, str]] = {
    "gemini": ("gemini_client", "translate_gemini_error"),
    "openai": ("openai_client", "translate_openai_error"),
    "replicate": ("replicate_client", "translate_replicate_error"),
}
"""The functions of shared/providers/sdk/<vendor>.py that build its client and translate its errors; the
module is imported when one is first called (it imports nothing of the SDK until then either)."""


def _function(vendor: str, which: int) -> Any:
    return getattr(importlib.import_module(f"shared.providers.sdk.{vendor}"), _FUNCTIONS[vendor][which])


def vendor_client(vendor: str, *, chosen_for: str) -> Any:
    """The SDK client of `vendor` ("gemini", "openai", "replicate"), its key resolved now; `chosen_for` (the
    stage) is what a missing key's message says it was needed for."""
    return _function(vendor, 0)(chosen_for=chosen_for)


def translate_vendor_error(vendor: str, exc: Exception, *, provider: str) -> ProviderError | None:
    """`exc`, raised by `vendor`'s SDK, as one of our failure families (None: not a provider failure)."""
    translated: ProviderError | None = _function(vendor, 1)(exc, provider=provider)
    return translated


class VendorCalls:
    """What a provider backed by one vendor's SDK does the same whatever its stage: builds the client when it
    is called (the key resolved then, never at import) and translates the SDK's errors."""

    vendor: str = ""
    stage: str = ""
    """The stage the provider serves, as a missing key's message names it."""
    name: str

    def _client(self) -> Any:
        return vendor_client(self.vendor, chosen_for=self.stage)

    def _translate(self, exc: Exception) -> ProviderError | None:
        return translate_vendor_error(self.vendor, exc, provider=self.name)
