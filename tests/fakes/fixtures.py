"""Fixtures that start a fake provider and point its official SDK at it through the environment, exactly
as a user points the product at a proxy: GEMINI_BASE_URL / OPENAI_BASE_URL / REPLICATE_BASE_URL and the
keys. Retry waits and polls are made tiny; no test reaches the internet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.env import FAST, PROVIDER_VARIABLES, set_env
from fakes.gemini_server import GeminiServer
from fakes.openai_server import OpenAIServer
from fakes.replicate_server import ReplicateServer

from shared.settings import get_settings


@pytest.fixture()
def provider_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No real key can leak in (a developer's .env is not read: the test runs in an empty folder), and
    retries wait milliseconds."""
    monkeypatch.chdir(tmp_path)
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture()
def gemini(provider_env: pytest.MonkeyPatch) -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        set_env(provider_env, GEMINI_API_KEY=server.key, GEMINI_BASE_URL=server.url)
        yield server


@pytest.fixture()
def openai_fake(provider_env: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        set_env(provider_env, OPENAI_API_KEY=server.key, OPENAI_BASE_URL=server.url + "/v1")
        yield server


@pytest.fixture()
def replicate_fake(provider_env: pytest.MonkeyPatch) -> Iterator[ReplicateServer]:
    with ReplicateServer() as server:
        set_env(provider_env, REPLICATE_API_TOKEN=server.key, REPLICATE_BASE_URL=server.url)
        yield server
