"""MomentLoop on Modal, wiring only: app, images, volumes, secrets, one function per stage (rows of
functions/pipeline/modal_options.py) forwarding to the unit of work the CLI runs, the job functions and the
`modal run` entrypoint forwarding to api/remote.py, the web endpoint. Settings are read where you deploy from
(MOMENTLOOP_*, docs/deploy.md) and travel to every container. Our packages are imported inside functions (or
guarded): an image build step imports this file before they are in the image.

    modal deploy modal_app.py                                          # put the product online
    modal run modal_app.py --photos DIR --style ghibli --out movie.mp4  # one video, made on Modal"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import modal

# ---------------------------------------------------------------- app

APP_NAME = "momentloop"
app = modal.App(APP_NAME)


def _deploy() -> dict[str, Any]:
    """What the deploying machine's settings and pyproject.toml ask for (functions/pipeline/modal_options.py).
    Empty inside an image build step, where our packages are not in the image yet and none of them runs."""
    try:
        from functions.pipeline.modal_options import modal_deploy
        from shared.settings import Settings
    except ModuleNotFoundError:
        return {}
    family: type[Settings] = Settings
    with contextlib.suppress(ModuleNotFoundError):  # the GPU image carries no api/ (and serves no web request)
        from api.settings import ServerSettings

        family = ServerSettings
    pyproject = Path(__file__).with_name("pyproject.toml") if modal.is_local() else None
    return modal_deploy(family=family, environ=os.environ, pyproject=pyproject).model_dump()


DEPLOY = _deploy()

# ---------------------------------------------------------------- images

DATA_PATH = "/data"  # MOMENTLOOP_DATA_DIR in every container: artifacts at /data/artifacts (the Volume)
IMAGE_ENV = {"MOMENTLOOP_DATA_DIR": DATA_PATH, "NUMBA_CACHE_DIR": "/root/.numba-cache"}
PYTHON_PACKAGES: list[str] = DEPLOY.get("packages", [])
GPU_PACKAGES: list[str] = DEPLOY.get("gpu_packages", [])


def warm_librosa() -> None:
    """Image build step: compile librosa's numba kernels (what functions/analyze/audio.py and beats.py call) once, into
    the image's NUMBA_CACHE_DIR, so no container pays the compile on its first song."""
    import librosa
    import numpy as np

    sr = 22050
    y = (0.3 * np.sin(2 * np.pi * 220.0 * np.arange(int(sr * 6.0)) / sr)).astype(np.float32)
    y[(np.arange(y.size) % (sr // 2)) < 200] += 0.8  # a click every half second: 120 BPM
    spectrum = np.abs(librosa.stft(y)) ** 2
    librosa.power_to_db(librosa.feature.melspectrogram(S=spectrum, sr=sr))
    librosa.feature.chroma_stft(S=spectrum, sr=sr)
    envelope = librosa.onset.onset_strength(y=y, sr=sr)
    librosa.feature.tempogram(onset_envelope=envelope, sr=sr)
    librosa.feature.fourier_tempogram(onset_envelope=envelope, sr=sr)
    librosa.beat.beat_track(onset_envelope=envelope, sr=sr)
    librosa.resample(y, orig_sr=sr, target_sr=16000)


cpu_image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("ffmpeg")
    .uv_pip_install(*PYTHON_PACKAGES)
    .env(IMAGE_ENV)
    .run_function(warm_librosa)
    .add_local_python_source("functions", "shared", "api")
    .add_local_dir("web", remote_path="/root/web")
)

# The GPU stages: nerfstudio (the `gpu` extra; functions/product/nerf*.py follow its 1.1) over CUDA's torch.
GPU_IMAGE_ENV = {**IMAGE_ENV, "TORCH_CUDA_ARCH_LIST": "7.5;8.0;8.6;8.9;9.0"}  # T4, A100, A10G, L4/L40S, H100
gpu_stack = (
    modal.Image.from_registry("nvidia/cuda:12.4.1-devel-ubuntu22.04", add_python="3.11")
    .apt_install("ffmpeg", "git", "build-essential", "libgl1", "libglib2.0-0")
    .uv_pip_install(*PYTHON_PACKAGES)
    .uv_pip_install("torch==2.5.1", "torchvision==0.20.1", extra_index_url="https://download.pytorch.org/whl/cu124")
    .uv_pip_install(*GPU_PACKAGES)
    .env(GPU_IMAGE_ENV)
)
with gpu_stack.imports():
    import torch
    from gsplat import rasterization
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity


def warm_nerfstudio() -> None:
    """Image build step (on a GPU): what nerfstudio would otherwise fetch or build when a container first
    trains: torchvision's AlexNet weights for LPIPS (into TORCH_HOME) and gsplat's CUDA kernels (into
    ~/.cache/torch_extensions, for every TORCH_CUDA_ARCH_LIST architecture)."""
    LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)  # what the models build
    cuda, n = torch.device("cuda"), 16
    rasterization(means=torch.randn(n, 3, device=cuda) * 0.1 + torch.tensor([0.0, 0.0, 2.0], device=cuda),
                  quats=torch.nn.functional.normalize(torch.randn(n, 4, device=cuda), dim=-1),
                  scales=torch.full((n, 3), 0.05, device=cuda), opacities=torch.full((n,), 0.8, device=cuda),
                  colors=torch.rand(n, 3, device=cuda), viewmats=torch.eye(4, device=cuda)[None], width=32,
                  Ks=torch.tensor([[[32.0, 0.0, 16.0], [0.0, 32.0, 16.0], [0.0, 0.0, 1.0]]], device=cuda), height=32)
    torch.cuda.synchronize()


gpu_image = gpu_stack.run_function(warm_nerfstudio, gpu="T4").add_local_python_source("functions", "shared")
GPU_TYPE = DEPLOY.get("gpu", "T4")

# ---------------------------------------------------------------- volumes

ARTIFACTS_PATH = f"{DATA_PATH}/artifacts"
artifacts = modal.Volume.from_name(DEPLOY.get("volume", "momentloop-artifacts"), create_if_missing=True)
VOLUMES: dict[str | PurePosixPath, modal.Volume | modal.CloudBucketMount] = {ARTIFACTS_PATH: artifacts}

# ---------------------------------------------------------------- secrets

secrets = {kind: modal.Secret.from_name(name, required_keys=keys)
           for kind, (name, keys) in DEPLOY.get("secrets", {}).items()}
STAGE_SECRETS = [secrets[k] for k in ("s3",) if k in secrets]
PROVIDER_STAGE_SECRETS = [secrets[k] for k in ("s3", "gemini", "openai", "replicate") if k in secrets]
JOB_SECRETS = [secrets[k] for k in ("s3", "postgres") if k in secrets]

# ---------------------------------------------------------------- functions

CONTAINER_ENV: dict[str, str | None] = DEPLOY.get("env", {})  # the deploying machine's settings
JOB_ENV: dict[str, str | None] = {**CONTAINER_ENV, "MOMENTLOOP_EXECUTOR": "modal"}  # jobs fan out to the stages
STAGE_OPTIONS: dict[str, dict[str, Any]] = DEPLOY.get("stages", {})
JOB_OPTIONS: dict[str, Any] = {"image": cpu_image, "volumes": VOLUMES, "secrets": JOB_SECRETS, "env": JOB_ENV,
                               "cpu": 0.5, "memory": 1024, "timeout": 3600, "retries": None, "max_containers": 20}
"""The job functions: a job is resumed from the cache, never re-run blind."""
WEB_OPTIONS: dict[str, Any] = {"cpu": 2.0, "memory": 4096, "timeout": 3600, "scaledown_window": 900,
                               "max_containers": DEPLOY.get("web_containers", 1)}


def _stage(name: str) -> dict[str, Any]:
    """The Modal options of stage function `name`, from its row of STAGE_OPTIONS (none in an image build step)."""
    row = dict(STAGE_OPTIONS.get(name, {"retries": 0}))
    gpu, providers = row.pop("gpu", False), row.pop("providers", False)
    return {"image": gpu_image if gpu else cpu_image, "gpu": GPU_TYPE if gpu else None, "volumes": VOLUMES,
            "secrets": PROVIDER_STAGE_SECRETS if providers else STAGE_SECRETS, "env": CONTAINER_ENV,
            **{k: v for k, v in row.items() if v is not None},
            # what a retry can fix (a lost container, a network fault); our own failures come back as replies
            "retries": modal.Retries(max_retries=row["retries"], initial_delay=2.0, backoff_coefficient=2.0,
                                     max_delay=30.0)}


def _uses_volume() -> bool:
    """Inside a container, with the artifacts on the Volume (not S3): hand-offs need commit / reload."""
    from shared.settings import get_settings

    return not modal.is_local() and get_settings().scale.store == "local"


@contextlib.contextmanager
def _synced() -> Iterator[None]:
    """See what the caller and earlier stages committed, and make what this call wrote visible after it."""
    sync = _uses_volume()
    if sync:
        artifacts.reload()
    try:
        yield
    finally:
        if sync:
            artifacts.commit()


def _run(stage: str, request: dict[str, Any], progress: Any, index: int) -> dict[str, Any]:
    from functions.pipeline.backends import open_store
    from functions.pipeline.modal_executor import run_remote_item
    from shared.settings import get_settings

    with _synced():  # the store: the Volume (mounted at ARTIFACTS_PATH) or S3; this machine's under `.local()`
        return run_remote_item(stage=stage, request=request, store=open_store(settings=get_settings()),
                               progress=progress, index=index)


@app.function(**_stage("analyze_photo"))
def analyze_photo(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("analyze_photo", request, progress, index)


@app.function(**_stage("analyze_music"))
def analyze_music(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("analyze_music", request, progress, index)


@app.function(**_stage("music"))
def music(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("music", request, progress, index)


@app.function(**_stage("plan"))
def plan(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("plan", request, progress, index)


@app.function(**_stage("style"))
def style(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("style", request, progress, index)


@app.function(**_stage("clips"))
def clips(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("clips", request, progress, index)


@app.function(**_stage("compose"))
def compose(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("compose", request, progress, index)


@app.function(**_stage("product_poses"))
def product_poses(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("product_poses", request, progress, index)


@app.function(**_stage("product_train"))
def product_train(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("product_train", request, progress, index)


@app.function(**_stage("product_render"))
def product_render(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("product_render", request, progress, index)


@app.function(**_stage("product_preview"))
def product_preview(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("product_preview", request, progress, index)


@app.function(**_stage("product_encode"))
def product_encode(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("product_encode", request, progress, index)


STAGE_FUNCTIONS: dict[str, modal.Function] = {name: globals()[name] for name in STAGE_OPTIONS}  # by their names


def _executor() -> Any:
    """A job's executor over this app's own stage functions (a `modal run` app is not deployed: a lookup by
    name would find another version); under `.local()`, their bodies run in this process."""
    from functions.pipeline import modal_executor as mx

    if modal.is_local():
        return mx.ModalExecutor(functions={n: mx.InProcessFunction(fn.local) for n, fn in STAGE_FUNCTIONS.items()},
                                progress_channel=mx.InProcessChannel.open)
    return mx.ModalExecutor(functions=STAGE_FUNCTIONS, volume=artifacts if _uses_volume() else None,
                            progress_channel=mx.modal_progress_channel)


@app.function(**JOB_OPTIONS)
def make_video(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One whole video job (api/remote.py: video_job): its events as they happen, then its result."""
    from api.remote import video_job

    with _synced():
        yield from video_job(request=request, executor=_executor())


@app.function(**JOB_OPTIONS)
def make_product(request: dict[str, Any], job_id: str | None = None) -> dict[str, Any]:
    """One product turntable job (api/remote.py: product_job), its progress on the job's event log."""
    from api.remote import product_job

    with _synced():
        return product_job(request=request, job_id=job_id, executor=_executor())


@app.function(image=cpu_image, volumes=VOLUMES, secrets=JOB_SECRETS, env=JOB_ENV, **WEB_OPTIONS)
@modal.concurrent(max_inputs=100)  # SSE streams mostly wait: one container serves many
@modal.asgi_app()
def web() -> Any:
    """The web app and its API (api/app.py), SSE included."""
    from api.app import create_app
    from shared.settings import get_settings

    return create_app(settings=get_settings())


# ---------------------------------------------------------------- entrypoint


@app.local_entrypoint()
def main(photos: str, out: str = "movie.mp4", style: str = "ghibli", music: str = "", aspect: str = "9:16",
         duration: float = 0.0, fps: int = 30, seed: int = 0) -> None:
    """Upload the photos (and song), make the video on Modal with a progress bar, download it."""
    import sys

    from api.remote import run_remote_make

    sys.exit(run_remote_make(job=make_video.remote_gen, volume=artifacts, volume_root=ARTIFACTS_PATH,
                             photos=Path(photos), out=Path(out), style=style, music=Path(music) if music else None,
                             aspect=aspect, duration=duration or None, fps=fps, seed=seed))
