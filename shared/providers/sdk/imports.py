"""The cloud SDKs imported once per process, one at a time, before any stage fans out to threads.

Python's per-module import locks do not make a concurrent first import safe: two threads importing
packages that import each other's dependencies (google-genai, openai and replicate all import httpx)
can deadlock on those locks, and Python breaks the deadlock by handing one thread a *partially
initialised* module (`AttributeError: partially initialized module 'httpx' ...`). So the first import of
an SDK goes through `import_sdk`, under one process-wide lock, when a provider (or a chain of them) is
built; by the time a pool runs the calls, every module the call needs is whole in `sys.modules`."""

from __future__ import annotations

import importlib
import logging
import threading

from shared.providers.errors import ProviderInputError

log = logging.getLogger(__name__)

SDK_MODULES: dict[str, tuple[str, ...]] = {
    "gemini": ("httpx", "google.genai", "google.genai.types", "google.genai.errors"),
    "openai": ("httpx", "openai"),
    "replicate": ("httpx", "replicate", "replicate.exceptions"),
}
"""Every module our code imports lazily from each vendor's SDK (httpx too: shared/providers/downloads.py uses it)."""

SDK_PACKAGES: dict[str, str] = {"gemini": "google-genai", "openai": "openai", "replicate": "replicate"}

_IMPORT_LOCK = threading.RLock()


class MissingSDKError(ProviderInputError):
    """A cloud provider was chosen but its SDK is not installed."""


def import_modules(*names: str) -> None:
    """Import `names` in order, never while another thread is inside this function."""
    with _IMPORT_LOCK:
        for name in names:
            importlib.import_module(name)


def import_sdk(vendor: str, *, provider: str | None = None) -> None:
    """Import `vendor`'s SDK whole (a no-op once done). Raises MissingSDKError when it is not installed."""
    try:
        import_modules(*SDK_MODULES[vendor])
    except ModuleNotFoundError as exc:
        raise MissingSDKError(
            f"the {SDK_PACKAGES[vendor]} package is not installed ({exc.name} not found)",
            provider=provider or vendor,
            hint="pip install 'momentloop[cloud]', or choose the 'local' provider",
        ) from exc


def preload_sdk(vendor: str) -> None:
    """`import_sdk` when a provider is built: a missing SDK is not an error yet, only when the provider
    is called (`import_sdk` again, where the chain records the reason and goes on)."""
    try:
        import_sdk(vendor)
    except MissingSDKError as exc:
        log.debug("%s", exc)
