"""Fixtures of the web UI tests: a real `momentloop serve` and Debian Chromium (skipped when absent)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    NARROW,
    PROJECT_ROOT,
    WIDE,
    Server,
    Tab,
    free_port,
    momentloop_command,
    open_tab,
)
from playwright.sync_api import sync_playwright


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Environment variables of the module's server beyond the usual (a module overrides this fixture)."""
    return {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_env: dict[str, str]) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("serve-data")
    env = {**os.environ, "MOMENTLOOP_DATA_DIR": str(data), "MOMENTLOOP_OUTPUT_PRESET": "ultrafast", **server_env}
    added = subprocess.run([*momentloop_command(), "--data-dir", str(data), "users", "add", "ui-tester"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=PROJECT_ROOT, check=False)
    assert added.returncode == 0, added.stderr[-2000:]
    port = free_port()
    srv = Server(url=f"http://127.0.0.1:{port}", port=port, token=added.stdout.strip().splitlines()[-1].strip(),
                 data=data, log=data / "server.log", env=env)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def wide(browser: Any, server: Server) -> Iterator[Tab]:
    yield from open_tab(browser, server, WIDE)


@pytest.fixture()
def narrow(browser: Any, server: Server) -> Iterator[Tab]:
    yield from open_tab(browser, server, NARROW)
