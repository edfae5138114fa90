"""MomentLoop on Modal: every stage a serverless function on the hardware it needs.

Wiring only: each function forwards to the same stage entry the CLI runs (functions.pipeline.cache.
run_stage_item), with artifacts on a shared Volume. Resources are declared in a fixed order: app,
images, volumes, secrets, functions, entrypoint.

    modal deploy modal_app.py        # put the stages online
    modal run modal_app.py::smoke    # one stage round trip on real hardware

The product stage (COLMAP + NeRF on a GPU) joins when its issue lands; there is no GPU placeholder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import modal

# ---------------------------------------------------------------- app

app = modal.App("momentloop")

# ---------------------------------------------------------------- images

PYTHON_PACKAGES = [
    "numpy>=1.26",
    "pillow>=11.2",
    "pillow-heif>=0.20",
    "opencv-python-headless>=4.9,<5",  # 5.x dropped the bundled Haar face cascades
    "imagehash>=4.3",
    "librosa>=0.10.2",
    "soundfile>=0.12",
    "ffmpeg-python>=0.2",
    "imageio-ffmpeg>=0.5",
    "av>=12",
    "pydantic>=2.7",
    "pydantic-settings>=2.3",
    "rich>=13",
    "tenacity>=8.2",
]

cpu_image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("ffmpeg")
    .uv_pip_install(*PYTHON_PACKAGES)
    .env({"MOMENTLOOP_DATA_DIR": "/artifacts-data", "NUMBA_CACHE_DIR": "/root/.numba"})
    .add_local_python_source("functions", "shared")
)

# ---------------------------------------------------------------- volumes

ARTIFACTS_PATH = "/artifacts"
artifacts = modal.Volume.from_name("momentloop-artifacts", create_if_missing=True)

# ---------------------------------------------------------------- functions

CPU_STAGE: dict[str, Any] = {"image": cpu_image, "volumes": {ARTIFACTS_PATH: artifacts}}

# Hardware and limits per stage. Clips and styles fan out wide; compose is one big encode.
STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "analyze_photo": {"cpu": 1.0, "memory": 2048, "timeout": 300, "retries": 2, "max_containers": 20},
    "analyze_music": {"cpu": 1.0, "memory": 2048, "timeout": 300, "retries": 2},
    "music": {"cpu": 1.0, "memory": 1024, "timeout": 300, "retries": 2},
    "plan": {"cpu": 0.5, "memory": 512, "timeout": 120, "retries": 2},
    "style": {"cpu": 2.0, "memory": 2048, "timeout": 300, "retries": 2, "max_containers": 20},
    "clips": {"cpu": 2.0, "memory": 2048, "timeout": 600, "retries": 2, "max_containers": 40},
    "compose": {"cpu": 4.0, "memory": 4096, "timeout": 1200, "retries": 1},
}


def _store() -> Any:
    """The Volume inside a container; this machine's artifact folder when run with `.local()`."""
    from shared.settings import get_settings
    from shared.store import LocalStore

    root = get_settings().artifacts_dir if modal.is_local() else Path(ARTIFACTS_PATH)
    return LocalStore(root)


def _run(stage: str, request: dict[str, Any]) -> dict[str, Any]:
    from functions.pipeline.cache import run_stage_item
    from functions.pipeline.stages import get_stage

    remote = not modal.is_local()
    if remote:
        artifacts.reload()  # see what the previous stage committed
    spec = get_stage(stage)
    result = run_stage_item(stage_name=stage, request=spec.request.model_validate(request), store=_store())
    if remote:
        artifacts.commit()  # make this stage's artifacts visible to the next one
    return result.model_dump(mode="json")


@app.function(**CPU_STAGE, **STAGE_OPTIONS["analyze_photo"])
def analyze_photo(request: dict[str, Any]) -> dict[str, Any]:
    return _run("analyze_photo", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["analyze_music"])
def analyze_music(request: dict[str, Any]) -> dict[str, Any]:
    return _run("analyze_music", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["music"])
def music(request: dict[str, Any]) -> dict[str, Any]:
    return _run("music", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["plan"])
def plan(request: dict[str, Any]) -> dict[str, Any]:
    return _run("plan", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["style"])
def style(request: dict[str, Any]) -> dict[str, Any]:
    return _run("style", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["clips"])
def clips(request: dict[str, Any]) -> dict[str, Any]:
    return _run("clips", request)


@app.function(**CPU_STAGE, **STAGE_OPTIONS["compose"])
def compose(request: dict[str, Any]) -> dict[str, Any]:
    return _run("compose", request)


STAGE_FUNCTIONS = {
    "analyze_photo": analyze_photo,
    "analyze_music": analyze_music,
    "music": music,
    "plan": plan,
    "style": style,
    "clips": clips,
    "compose": compose,
}

# ---------------------------------------------------------------- entrypoint


@app.local_entrypoint()
def smoke(seconds: float = 8.0) -> None:
    """Generate a soundtrack remotely and analyse it: a round trip through two stages and the Volume."""
    track = music.remote({"duration": seconds})
    info = analyze_music.remote({"track": track})
    print(f"{info['tempo']:.1f} BPM, {len(info['beats'])} beats, {len(info['sections'])} sections")  # noqa: T201
