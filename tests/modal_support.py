"""Importing modal_app.py in tests: with the settings read afresh, and anew under other variables the way
`modal deploy` would import it on another machine."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from shared.settings import get_settings

MODAL_APP = Path(__file__).resolve().parents[1] / "modal_app.py"
DEPLOY_VARIABLES = ("MOMENTLOOP_MODAL_SECRETS", "MOMENTLOOP_STORE", "MOMENTLOOP_MODAL_GPU", "MOMENTLOOP_EXECUTOR",
                    "MOMENTLOOP_DATABASE_URL")


def clear_settings() -> None:
    get_settings.cache_clear()


def imported_modal_app(*, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """modal_app as this machine imports it: no deploy variables, data under `tmp_path`, quick encodes."""
    monkeypatch.setenv("MOMENTLOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MOMENTLOOP_OUTPUT_PRESET", "veryfast")
    for name in DEPLOY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    clear_settings()
    import modal_app as app_module

    yield app_module
    clear_settings()


def fresh_import(monkeypatch: pytest.MonkeyPatch, *, name: str, **env: str) -> ModuleType:
    """modal_app.py imported anew (as module `name`) under `env`, as `modal deploy` would import it on
    that machine."""
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    clear_settings()
    spec = importlib.util.spec_from_file_location(name, MODAL_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    clear_settings()
    return module
