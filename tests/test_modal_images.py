"""The Modal images install what pyproject.toml pins, read from it at deploy time: no list of our own that
can drift (it once asked for google-genai>=1.0, and 3.x has no Veo)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import modal
import pytest

from tests import modal_support

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TORCH_INDEX = "https://download.pytorch.org/whl/cu124"


def test_the_images_install_exactly_what_pyproject_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    installs: list[tuple[list[str], dict[str, Any]]] = []
    real = modal.Image.uv_pip_install

    def recording(self: modal.Image, *packages: str, **options: Any) -> modal.Image:
        installs.append((list(packages), options))
        return real(self, *packages, **options)

    monkeypatch.setattr(modal.Image, "uv_pip_install", recording)
    modal_support.fresh_import(monkeypatch, name="modal_app_images")

    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = project["optional-dependencies"]
    served = [req for name, reqs in extras.items() if name not in ("dev", "gpu") for req in reqs]
    cpu, gpu_base, torch, gpu_stack = installs
    assert sorted(cpu[0]) == sorted(project["dependencies"] + served)
    assert gpu_base == cpu, "the GPU image runs the same code on the same packages"
    assert torch[1]["extra_index_url"] == TORCH_INDEX  # the CUDA build of torch, then nerfstudio over it
    assert gpu_stack[0] == extras["gpu"]
    # What drifted before: the cloud SDKs as the project pins them, google-genai below 3 (3.x has no Veo).
    assert set(extras["cloud"]) <= set(cpu[0])
    assert any(req.replace(" ", "").startswith("google-genai") and "<3" in req for req in cpu[0])
