"""Environment for the fake providers: the variables a test must clear, and the quick retry settings."""

from __future__ import annotations

import pytest

from shared.settings import get_settings

PROVIDER_VARIABLES = ["GEMINI_API_KEY", "GEMINI_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL",
                      "REPLICATE_API_TOKEN", "REPLICATE_BASE_URL", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL",
                      "MOMENTLOOP_BUDGET_USD", "MOMENTLOOP_STYLE_PROVIDER", "MOMENTLOOP_PLAN_PROVIDER",
                      "MOMENTLOOP_CLIP_PROVIDER", "MOMENTLOOP_MUSIC_PROVIDER", "MOMENTLOOP_STYLE_CONCURRENCY",
                      "MOMENTLOOP_CLIP_CONCURRENCY", "MOMENTLOOP_PLAN_CONCURRENCY", "MOMENTLOOP_MUSIC_CONCURRENCY"]
"""Cleared for every test: a developer's own keys or provider choices never reach a test."""

FAST = {
    "MOMENTLOOP_PROVIDER_TIMEOUT": "8",
    "MOMENTLOOP_PROVIDER_ATTEMPTS": "3",
    "MOMENTLOOP_RETRY_INITIAL_WAIT": "0.01",
    "MOMENTLOOP_RETRY_MAX_WAIT": "0.05",
    "MOMENTLOOP_POLL_INTERVAL": "0.01",
    "MOMENTLOOP_GENERATION_TIMEOUT": "60",
}


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
