"""MomentLoop on Modal: every stage a serverless function on the hardware it needs.

Wiring only: each stage function forwards to the same unit of work the CLI runs
(functions.pipeline.modal_executor.run_remote_item → cache.run_stage_item → the stage's entry), with
artifacts on a shared Volume (or S3), job state in PostgreSQL (or a container-local SQLite file), and
the same FastAPI app as the web endpoint. Resources are declared in a fixed order: app, images,
volumes, secrets, functions, entrypoint.

    modal deploy modal_app.py                                          # put the product online
    modal run modal_app.py --photos DIR --style ghibli --out movie.mp4  # one video, made on Modal

Settings are read where you deploy from (MOMENTLOOP_* variables, see docs/deploy.md) and travel to
every container, so what you set is what runs. Our own packages are imported inside functions (or
guarded, for the settings): an image build step imports this file before they are in the image."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import modal

# ---------------------------------------------------------------- app

APP_NAME = "momentloop"
app = modal.App(APP_NAME)


def _settings_fields() -> tuple[dict[str, Any], set[str]]:
    """(deploy-time scale settings, every variable of the settings family carried into the containers: the
    web server's too). Empty inside an image build step, where our packages are not yet installed and
    neither is needed."""
    try:
        from shared.settings import ScaleSettings, Settings, forwarded_variables
    except ModuleNotFoundError:
        return {}, set()
    family: type[Settings] = Settings
    try:
        from api.settings import ServerSettings

        family = ServerSettings
    except ModuleNotFoundError:  # the GPU image carries no api/ (and serves no web request)
        pass
    return ScaleSettings().model_dump(), forwarded_variables(family)


SCALE, _FORWARDED_VARIABLES = _settings_fields()

# ---------------------------------------------------------------- images

DATA_PATH = "/data"
"""MOMENTLOOP_DATA_DIR in every container: artifacts at /data/artifacts (the Volume), SQLite beside it."""

PYPROJECT = Path(__file__).with_name("pyproject.toml")
NOT_IN_IMAGES = ("dev", "gpu")
"""Extras no CPU container runs: our machines' tools, and the GPU stack (gpu_image only, after its torch)."""


def project_requirements() -> tuple[list[str], dict[str, list[str]]]:
    """(dependencies, optional dependencies) of pyproject.toml, so the images install exactly what the
    project pins (google-genai<3 keeps Veo; a list of our own here drifted). Read where you deploy from:
    a container runs images, never builds them, and has no pyproject.toml to read."""
    if not modal.is_local():
        return [], {}
    import tomllib

    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return list(project["dependencies"]), {k: list(v) for k, v in project.get("optional-dependencies", {}).items()}


_DEPENDENCIES, _EXTRAS = project_requirements()
PYTHON_PACKAGES = [*_DEPENDENCIES, *(r for name, reqs in _EXTRAS.items() if name not in NOT_IN_IMAGES for r in reqs)]
"""What every image installs: the project's dependencies and the extras it serves (cloud SDKs, PostgreSQL, ...)."""
GPU_PACKAGES = _EXTRAS.get("gpu", [])

IMAGE_ENV = {"MOMENTLOOP_DATA_DIR": DATA_PATH, "NUMBA_CACHE_DIR": "/root/.numba-cache"}


def warm_librosa() -> None:
    """Image build step: compile librosa's numba kernels once, into the image's NUMBA_CACHE_DIR, so no
    container pays the compile on its first song. Calls what functions/analyze/music.py calls."""
    import librosa
    import numpy as np

    sr = 22050
    t = np.arange(int(sr * 6.0)) / sr
    y = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
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


def warm_nerfstudio() -> None:
    """Image build step (on a GPU): everything nerfstudio would otherwise fetch or build when a container
    first trains. Its models build torchmetrics' LPIPS, which loads torchvision's AlexNet weights from the
    network into TORCH_HOME; splatfacto's gsplat compiles its CUDA kernels on first use into
    ~/.cache/torch_extensions (for every TORCH_CUDA_ARCH_LIST architecture). Both land in the image."""
    import torch
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    LearnedPerceptualImagePatchSimilarity(net_type="alex", normalize=True)  # what the models build
    from gsplat import rasterization

    cuda = torch.device("cuda")
    n = 16
    rasterization(
        means=torch.randn(n, 3, device=cuda) * 0.1 + torch.tensor([0.0, 0.0, 2.0], device=cuda),
        quats=torch.nn.functional.normalize(torch.randn(n, 4, device=cuda), dim=-1),
        scales=torch.full((n, 3), 0.05, device=cuda),
        opacities=torch.full((n,), 0.8, device=cuda),
        colors=torch.rand(n, 3, device=cuda),
        viewmats=torch.eye(4, device=cuda)[None],
        Ks=torch.tensor([[[32.0, 0.0, 16.0], [0.0, 32.0, 16.0], [0.0, 0.0, 1.0]]], device=cuda),
        width=32,
        height=32,
    )
    torch.cuda.synchronize()


# The GPU stages (product: nerfstudio training and rendering) build on CUDA; nerfstudio (pyproject's `gpu`
# extra, pinned: functions/product/nerf*.py follow its 1.1 command line, config and model outputs) is
# installed only here, over the CUDA build of torch.
GPU_IMAGE_ENV = {**IMAGE_ENV, "TORCH_CUDA_ARCH_LIST": "7.5;8.0;8.6;8.9;9.0"}  # T4, A100, A10G, L4/L40S, H100
gpu_image = (
    modal.Image.from_registry("nvidia/cuda:12.4.1-devel-ubuntu22.04", add_python="3.11")
    .apt_install("ffmpeg", "git", "build-essential", "libgl1", "libglib2.0-0")
    .uv_pip_install(*PYTHON_PACKAGES)
    .uv_pip_install("torch==2.5.1", "torchvision==0.20.1", extra_index_url="https://download.pytorch.org/whl/cu124")
    .uv_pip_install(*GPU_PACKAGES)
    .env(GPU_IMAGE_ENV)
    .run_function(warm_nerfstudio, gpu="T4")
    .add_local_python_source("functions", "shared")
)

GPU_TYPES = ("T4", "L4", "A10G", "A100", "L40S", "H100")
GPU_TYPE = str(SCALE.get("modal_gpu", "T4"))
if GPU_TYPE not in GPU_TYPES:
    raise ValueError(f"MOMENTLOOP_MODAL_GPU={GPU_TYPE!r}: choose one of {', '.join(GPU_TYPES)} (T4 dev, A10G prod)")

# ---------------------------------------------------------------- volumes

ARTIFACTS_PATH = f"{DATA_PATH}/artifacts"
VOLUME_NAME = str(SCALE.get("modal_volume", "momentloop-artifacts"))
artifacts = modal.Volume.from_name(VOLUME_NAME, create_if_missing=True)
VOLUMES: dict[str | PurePosixPath, modal.Volume | modal.CloudBucketMount] = {ARTIFACTS_PATH: artifacts}

# ---------------------------------------------------------------- secrets

# Created once with `modal secret create NAME KEY=value ...`; attached only where they are needed and
# only when named in MOMENTLOOP_MODAL_SECRETS, so a deployment without cloud keys needs no secret.
SECRET_KEYS: dict[str, tuple[str, list[str]]] = {
    "gemini": ("momentloop-gemini", ["GEMINI_API_KEY"]),
    "openai": ("momentloop-openai", ["OPENAI_API_KEY"]),
    "replicate": ("momentloop-replicate", ["REPLICATE_API_TOKEN"]),
    "s3": ("momentloop-s3", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
    "postgres": ("momentloop-postgres", ["MOMENTLOOP_DATABASE_URL"]),
}
PROVIDER_SECRETS = ("gemini", "openai", "replicate")

_chosen = [s.strip().lower() for s in str(SCALE.get("modal_secrets", "")).split(",") if s.strip()]
if unknown := sorted(set(_chosen) - set(SECRET_KEYS)):
    raise ValueError(f"MOMENTLOOP_MODAL_SECRETS names unknown secrets {unknown}; known: {', '.join(SECRET_KEYS)}")
if SCALE.get("store") == "s3" and "s3" not in _chosen:
    raise ValueError("MOMENTLOOP_STORE=s3 needs the S3 credentials: add s3 to MOMENTLOOP_MODAL_SECRETS")
secrets: dict[str, modal.Secret] = {
    kind: modal.Secret.from_name(SECRET_KEYS[kind][0], required_keys=SECRET_KEYS[kind][1]) for kind in _chosen
}


def _secrets(*kinds: str) -> list[modal.Secret]:
    return [secrets[k] for k in kinds if k in secrets]


STAGE_SECRETS = _secrets("s3")
PROVIDER_STAGE_SECRETS = _secrets("s3", *PROVIDER_SECRETS)
JOB_SECRETS = _secrets("s3", "postgres")

# ---------------------------------------------------------------- functions

# The deploying machine's settings, carried into every container: not the ones that describe this machine
# (its folders, its cores) nor the database URL, which travels only as a Secret (NOT_FORWARDED in their fields).
CONTAINER_ENV: dict[str, str | None] = {
    name: value for name, value in sorted(os.environ.items()) if name in _FORWARDED_VARIABLES
}
# Jobs started in the cloud fan out to the stage functions.
JOB_ENV: dict[str, str | None] = {**CONTAINER_ENV, "MOMENTLOOP_EXECUTOR": "modal"}


def _retries(n: int) -> modal.Retries:
    # Modal retries what a retry can fix: a lost container, a network fault. Our own failures (a bad
    # photo, a refused prompt) come back as replies and are never retried.
    return modal.Retries(max_retries=n, initial_delay=2.0, backoff_coefficient=2.0, max_delay=30.0)


# Hardware and limits per stage. Styles and clips fan out wide; photo analysis is cheap per item, so
# fewer containers each take several (a container start costs more than analysing one photo); clips
# carry the final encode of their scene's body (x264 on 2 cores), so compose only encodes crossfades and
# joins the rest by copying. Timeouts leave room for cloud providers (a video model may take
# minutes per clip). Modal bills a container until it scales down, so idle windows are short.
STAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "analyze_photo": {"cpu": 1.0, "memory": 2048, "timeout": 300, "retries": 2, "max_containers": 8,
                      "scaledown_window": 10},
    "analyze_music": {"cpu": 1.0, "memory": 2048, "timeout": 300, "retries": 2, "max_containers": 10,
                      "scaledown_window": 20},
    "music": {"cpu": 1.0, "memory": 1024, "timeout": 900, "retries": 2, "max_containers": 10,
              "scaledown_window": 20},
    "plan": {"cpu": 0.5, "memory": 1024, "timeout": 300, "retries": 2, "max_containers": 10,
             "scaledown_window": 20},
    "style": {"cpu": 1.0, "memory": 2048, "timeout": 600, "retries": 2, "max_containers": 50,
              "scaledown_window": 10},
    "clips": {"cpu": 2.0, "memory": 2048, "timeout": 1200, "retries": 2, "max_containers": 100,
              "scaledown_window": 10},
    "compose": {"cpu": 2.0, "memory": 2048, "timeout": 1800, "retries": 1, "max_containers": 10,
                "scaledown_window": 20},
}
JOB_OPTIONS: dict[str, Any] = {"cpu": 0.5, "memory": 1024, "timeout": 3600, "retries": 0, "max_containers": 20}


def _web_containers() -> int:
    """Several web replicas only where they share everything: artifacts in S3 and jobs and projects in
    PostgreSQL (any replica then streams any job, and each job runs on the replica holding its lease).
    On the Volume + SQLite each container would have its own database file: one container."""
    if SCALE.get("store") != "s3" or "postgres" not in _chosen:
        return 1
    from shared.settings import Settings

    return Settings().web_max_containers


WEB_OPTIONS: dict[str, Any] = {
    "cpu": 2.0, "memory": 4096, "timeout": 3600, "max_containers": _web_containers(), "scaledown_window": 900,
}
WEB_CONCURRENT_REQUESTS = 100  # SSE streams mostly wait; one container serves many
GPU_STAGE: dict[str, Any] = {
    "image": gpu_image, "gpu": GPU_TYPE, "volumes": VOLUMES, "env": CONTAINER_ENV,
    "timeout": 3600, "retries": _retries(1), "max_containers": 4,
}
"""The GPU stages' common options (product_train, product_render)."""


def _stage(name: str, secret_list: list[modal.Secret]) -> dict[str, Any]:
    options = dict(STAGE_OPTIONS[name])
    options["retries"] = _retries(options["retries"])
    return {"image": cpu_image, "volumes": VOLUMES, "secrets": secret_list, "env": CONTAINER_ENV, **options}


def _uses_volume() -> bool:
    """Inside a container, with the artifacts on the Volume (not S3): hand-offs need commit / reload."""
    from shared.settings import get_settings

    return not modal.is_local() and get_settings().scale.store == "local"


def _store() -> Any:
    """The Volume (mounted at ARTIFACTS_PATH) or S3 in a container; this machine's store under `.local()`."""
    from functions.pipeline.backends import open_store
    from shared.settings import get_settings

    return open_store(settings=get_settings())


def _run(stage: str, request: dict[str, Any], progress: Any, index: int) -> dict[str, Any]:
    from functions.pipeline.modal_executor import run_remote_item

    sync = _uses_volume()
    if sync:
        artifacts.reload()  # see what the caller and earlier stages committed
    try:
        return run_remote_item(stage=stage, request=request, store=_store(), progress=progress, index=index)
    finally:
        if sync:
            artifacts.commit()  # make this item's artifacts visible to the next stage


@app.function(**_stage("analyze_photo", STAGE_SECRETS))
def analyze_photo(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("analyze_photo", request, progress, index)


@app.function(**_stage("analyze_music", STAGE_SECRETS))
def analyze_music(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("analyze_music", request, progress, index)


@app.function(**_stage("music", PROVIDER_STAGE_SECRETS))
def music(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("music", request, progress, index)


@app.function(**_stage("plan", PROVIDER_STAGE_SECRETS))
def plan(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("plan", request, progress, index)


@app.function(**_stage("style", PROVIDER_STAGE_SECRETS))
def style(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("style", request, progress, index)


@app.function(**_stage("clips", PROVIDER_STAGE_SECRETS))
def clips(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("clips", request, progress, index)


@app.function(**_stage("compose", STAGE_SECRETS))
def compose(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    return _run("compose", request, progress, index)


STAGE_FUNCTIONS: dict[str, modal.Function] = {
    "analyze_photo": analyze_photo,
    "analyze_music": analyze_music,
    "music": music,
    "plan": plan,
    "style": style,
    "clips": clips,
    "compose": compose,
}


def _stage_handles() -> dict[str, Any]:
    """In a container: this app's own functions (a `modal run` app is not deployed, so a lookup by
    name would find another version). Under `.local()`: each stage's body, run in this process."""
    if not modal.is_local():
        return dict(STAGE_FUNCTIONS)
    from functions.pipeline.modal_executor import InProcessFunction

    return {name: InProcessFunction(fn.local) for name, fn in STAGE_FUNCTIONS.items()}


@app.function(image=cpu_image, volumes=VOLUMES, secrets=JOB_SECRETS, env=JOB_ENV,
              **{**JOB_OPTIONS, "retries": None})
def make_video(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Run one whole job here, fanning its items out to the stage functions. Yields the job's events as
    they happen ({"event": ProgressEvent}), then {"result": ...} or {"error": ..., "hint": ...}."""
    import queue

    from functions.pipeline.backends import open_job_store
    from functions.pipeline.modal_executor import InProcessChannel, ModalExecutor, modal_progress_channel
    from functions.pipeline.runner import MakeRequest, Pipeline
    from shared.errors import InputError
    from shared.settings import get_settings
    from shared.store import LocalStore

    sync = _uses_volume()
    if sync:
        artifacts.reload()  # the photos the caller just uploaded
    settings = get_settings()
    store = _store()
    events: queue.Queue[Any] = queue.Queue()
    executor = ModalExecutor(
        functions=_stage_handles(),
        volume=artifacts if sync else None,
        progress_channel=InProcessChannel.open if modal.is_local() else modal_progress_channel,
    )
    pipeline = Pipeline(store=store, jobs=open_job_store(settings=settings), executor=executor,
                        settings=settings, listener=events.put)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            made = pipeline.make(request=MakeRequest.model_validate(request))
            video = made.video
            outcome["result"] = {
                "job_id": made.job_id, "video_key": video.video_key, "poster_key": video.poster_key,
                "video_url": None if isinstance(store, LocalStore) else store.url(video.video_key),
                "width": video.width, "height": video.height, "fps": video.fps, "duration": video.duration,
                "scenes": len(made.plan.scenes), "tempo": made.plan.tempo, "look": made.plan.look,
                "rejected": [r.model_dump() for r in made.rejected],
                "stats": [s.model_dump() for s in made.stats],
            }
        except Exception as exc:
            outcome["error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            outcome["hint"] = getattr(exc, "hint", "") or ""
            outcome["bad_input"] = isinstance(exc, InputError)
        finally:
            events.put(None)

    runner = threading.Thread(target=work, name="momentloop-job")
    runner.start()
    while (event := events.get()) is not None:
        yield {"event": event.model_dump(mode="json")}
    runner.join()
    if sync:
        artifacts.commit()
    yield outcome


@app.function(image=cpu_image, volumes=VOLUMES, secrets=JOB_SECRETS, env=JOB_ENV, **WEB_OPTIONS)
@modal.concurrent(max_inputs=WEB_CONCURRENT_REQUESTS)
@modal.asgi_app()
def web() -> Any:
    """The web app and its API (api/app.py), SSE included."""
    from api.app import create_app
    from shared.settings import get_settings

    return create_app(settings=get_settings())


# ---------------------------------------------------------------- product (issue 6)
#
# A product turntable runs as pieces on the hardware each needs, each forwarding to
# functions/product/stage.py: poses + dataset + orbit on CPU (COLMAP), nerfstudio training on the GPU
# (the trained run is put in the store: functions/product/nerf_store.py), the frames rendered by GPUs in
# parallel chunks (`.starmap` over frame ranges), the VP9-alpha encode on CPU. `make_product` runs them
# in order and streams their progress (training: step and loss) into the job's event log, which SSE tails.
# Pieces reply like the stage functions (StageReply): a poor capture comes back as a reason and a reshoot
# hint, never as an exception for Modal to retry.

PRODUCT_RENDER_CHUNK = 30
"""Frames per render call: 120 frames → 4 GPUs; one container loads the model once per chunk."""
PRODUCT_OPTIONS: dict[str, dict[str, Any]] = {
    # pycolmap's feature extraction and matching use every core they get
    "product_poses": {"cpu": 4.0, "memory": 8192, "timeout": 1800, "retries": 1, "max_containers": 10,
                      "scaledown_window": 20},
    "product_preview": {"cpu": 1.0, "memory": 2048, "timeout": 900, "retries": 2, "max_containers": 20,
                        "scaledown_window": 10},
    "product_encode": {"cpu": 2.0, "memory": 4096, "timeout": 900, "retries": 2, "max_containers": 10,
                       "scaledown_window": 20},
}
PRODUCT_GPU_OPTIONS: dict[str, dict[str, Any]] = {
    "product_train": {"timeout": 3600, "retries": 1, "max_containers": 4},
    "product_render": {"timeout": 1200, "retries": 2, "max_containers": 8, "scaledown_window": 10},
}


def _product_cpu(name: str) -> dict[str, Any]:
    return _stage_options(name, STAGE_SECRETS, PRODUCT_OPTIONS)


def _product_gpu(name: str) -> dict[str, Any]:
    options = {**GPU_STAGE, "secrets": STAGE_SECRETS, **PRODUCT_GPU_OPTIONS[name]}
    options["retries"] = _retries(options["retries"])
    return options


def _stage_options(name: str, secret_list: list[modal.Secret], table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    options = dict(table[name])
    options["retries"] = _retries(options["retries"])
    return {"image": cpu_image, "volumes": VOLUMES, "secrets": secret_list, "env": CONTAINER_ENV, **options}


def _product_piece(body: Any, progress: Any, index: int) -> dict[str, Any]:
    """Run `body(store, report)` with the Volume synced and reply like a stage function."""
    from functions.pipeline.executor import describe_failure
    from functions.pipeline.modal_executor import StageReply, _queue_reporter
    from shared.errors import InputError, MomentLoopError
    from shared.progress import silent

    sync = _uses_volume()
    if sync:
        artifacts.reload()
    report = _queue_reporter(progress, index) if progress is not None else silent
    try:
        result = body(_store(), report)
    except MomentLoopError as exc:
        reason, hint = describe_failure(exc)
        return StageReply(error=reason, hint=hint, bad_input=isinstance(exc, InputError)).model_dump(mode="json")
    finally:
        if sync:
            artifacts.commit()
    return StageReply(result=result).model_dump(mode="json")


def _nerf_work_dir(plan_key: str) -> Path:
    """The same folder in every GPU container: nerfstudio records the dataset's path in the run's
    config.yml, so training and rendering containers put the dataset at one place."""
    import tempfile

    return Path(tempfile.gettempdir()) / "momentloop-nerf" / plan_key.replace("/", "_")


@app.function(**_product_cpu("product_poses"))
def product_poses(request: dict[str, Any], progress: Any = None, index: int = 0) -> dict[str, Any]:
    """COLMAP poses, the nerfstudio dataset and the orbit (CPU), and the turntable's render plan:
    {"capture": ProductCapture, "plan": ProductRenderPlan}."""

    def body(store: Any, report: Any) -> dict[str, Any]:
        from functions.product.stage import plan_render, prepare_capture
        from shared.models.product import ProductRequest

        req = ProductRequest.model_validate(request)
        capture = prepare_capture(request=req, store=store, report=report)
        # on Modal the GPU functions exist: auto means the nerfstudio renderer
        plan = plan_render(request=req, capture=capture, renderer="preview" if req.renderer == "preview" else "nerf")
        return {"capture": capture.model_dump(mode="json"), "plan": plan.model_dump(mode="json")}

    return _product_piece(body, progress, index)


@app.function(**_product_gpu("product_train"))
def product_train(request: dict[str, Any], capture: dict[str, Any], plan: dict[str, Any], progress: Any = None,
                  index: int = 0) -> dict[str, Any]:
    """Train nerfstudio on the capture's dataset (GPU) and put the run in the store: {"run": StoredRun}.
    Progress: "train: step 3000/10000 loss 0.021, 1 m, 2 s left". A run stored before is reused."""

    def body(store: Any, report: Any) -> dict[str, Any]:
        from functions.product.nerf import require_gpu
        from functions.product.nerf_store import store_run, stored_run
        from functions.product.stage import phase_reporter, train_nerf
        from shared.models.product import ProductCapture, ProductRenderPlan, ProductRequest

        require_gpu(what="training the product model")
        req = ProductRequest.model_validate(request)
        pl = ProductRenderPlan.model_validate(plan)
        run = stored_run(store=store, key=f"{pl.key}/nerf")
        if run is None:
            config = train_nerf(capture=ProductCapture.model_validate(capture), request=req, store=store,
                                work_dir=_nerf_work_dir(pl.key), report=phase_reporter(report, "train"))
            run = store_run(config=config, method=req.method, store=store, key=f"{pl.key}/nerf")
        return {"run": run.model_dump(mode="json")}

    return _product_piece(body, progress, index)


@app.function(**_product_gpu("product_render"))
def product_render(request: dict[str, Any], capture: dict[str, Any], plan: dict[str, Any], run: dict[str, Any],
                   chunk: list[int], progress: Any = None, index: int = 0) -> dict[str, Any]:
    """Render frames [chunk[0], chunk[1]) of the turntable with the trained run (GPU): {"frame_keys": [...]}."""

    def body(store: Any, report: Any) -> dict[str, Any]:
        from functions.product.nerf import require_gpu, write_downscaled, write_seed_points
        from functions.product.nerf_store import StoredRun, fetch_run
        from functions.product.stage import load_points, materialize_dataset, render_nerf_frames
        from shared.models.product import ProductCapture, ProductRenderPlan

        require_gpu(what="rendering the turntable")
        cap = ProductCapture.model_validate(capture)
        pl = ProductRenderPlan.model_validate(plan)
        work = _nerf_work_dir(pl.key)
        if not (work / "dataset" / "transforms.json").is_file():  # a warm container keeps it
            dataset = materialize_dataset(capture=cap, store=store, dest=work / "dataset")
            xyz, rgb, _ = load_points(capture=cap, store=store)
            write_seed_points(dataset_dir=dataset, points_xyz=xyz, points_rgb=rgb)
            write_downscaled(dataset_dir=dataset)  # the images_{n}/ the run was trained on, as train made them
        config = fetch_run(run=StoredRun.model_validate(run), store=store, dest=work / "nerf")
        keys = render_nerf_frames(capture=cap, plan=pl, store=store, config=config, work_dir=work,
                                  start=chunk[0], stop=chunk[1], report=report)
        return {"frame_keys": keys}

    return _product_piece(body, progress, index)


@app.function(**_product_cpu("product_preview"))
def product_preview(request: dict[str, Any], capture: dict[str, Any], plan: dict[str, Any], chunk: list[int],
                    progress: Any = None, index: int = 0) -> dict[str, Any]:
    """Render frames [chunk[0], chunk[1]) with the CPU point-splat preview: {"frame_keys": [...]}."""

    def body(store: Any, report: Any) -> dict[str, Any]:
        from functions.product.stage import render_preview_frames
        from shared.models.product import ProductCapture, ProductRenderPlan

        keys = render_preview_frames(capture=ProductCapture.model_validate(capture),
                                     plan=ProductRenderPlan.model_validate(plan), store=store, start=chunk[0],
                                     stop=chunk[1], report=report)
        return {"frame_keys": keys}

    return _product_piece(body, progress, index)


@app.function(**_product_cpu("product_encode"))
def product_encode(request: dict[str, Any], capture: dict[str, Any], plan: dict[str, Any],
                   phase_seconds: dict[str, float] | None = None, progress: Any = None,
                   index: int = 0) -> dict[str, Any]:
    """The rendered frames → the turntable (VP9 WebM with alpha) and its poster (CPU): a ProductResult."""

    def body(store: Any, report: Any) -> dict[str, Any]:
        from functions.product.stage import encode_product, phase_reporter
        from shared.models.product import ProductCapture, ProductRenderPlan, ProductRequest

        result = encode_product(request=ProductRequest.model_validate(request),
                                capture=ProductCapture.model_validate(capture),
                                plan=ProductRenderPlan.model_validate(plan), store=store,
                                phase_seconds=phase_seconds, report=phase_reporter(report, "encode"))
        return result.model_dump(mode="json")

    return _product_piece(body, progress, index)


PRODUCT_FUNCTIONS: dict[str, modal.Function] = {
    "product_poses": product_poses,
    "product_train": product_train,
    "product_render": product_render,
    "product_preview": product_preview,
    "product_encode": product_encode,
}


def run_product_pieces(*, request: dict[str, Any], calls: dict[str, Any], channel: Any,
                       on_progress: Any) -> dict[str, Any]:
    """The product pieces in order: poses → (train → render chunks) or preview chunks → encode.

    `calls[name](*args)` runs one piece and `calls[name + ".starmap"](arg_tuples)` many (Modal's
    `.remote` / `.starmap`, or the bodies under `.local()`); `channel` carries the pieces' (index,
    percent, message) to `on_progress(percent, message)`, drained while they run. Returns the
    ProductResult (JSON), or raises the first piece's failure (InputError for a poor capture)."""
    import time

    from functions.pipeline.modal_executor import drained, unwrap
    from functions.product.nerf_command import frame_chunks
    from functions.product.stage import PHASES

    with drained(channel, on_progress=lambda _index, percent, message: on_progress(percent, message)):
        seconds: dict[str, float] = {}
        poses = unwrap(calls["product_poses"](request, channel, 0))
        capture, plan = poses["capture"], poses["plan"]
        chunks = [[a, b] for a, b in frame_chunks(total=len(plan["frame_keys"]), chunk=PRODUCT_RENDER_CHUNK)]
        started = time.monotonic()
        if plan["renderer"] == "nerf":
            run = unwrap(calls["product_train"](request, capture, plan, channel, 1))["run"]
            seconds["train"] = round(time.monotonic() - started, 3)
            started = time.monotonic()
            replies = calls["product_render.starmap"](
                [(request, capture, plan, run, chunk, None, 0) for chunk in chunks])
        else:
            replies = calls["product_preview.starmap"]([(request, capture, plan, chunk, None, 0) for chunk in chunks])
        low, high = PHASES["render"]
        for n, reply in enumerate(replies, start=1):
            unwrap(reply)
            on_progress(low + (high - low) * n / len(chunks), f"render: {n}/{len(chunks)} chunks of frames")
        seconds["render"] = round(time.monotonic() - started, 3)
        return unwrap(calls["product_encode"](request, capture, plan, seconds, channel, 2))


@app.function(image=cpu_image, volumes=VOLUMES, secrets=JOB_SECRETS, env=JOB_ENV,
              **{**JOB_OPTIONS, "retries": None})
def make_product(request: dict[str, Any], job_id: str | None = None) -> dict[str, Any]:
    """One product turntable, its pieces fanned out to the product functions. Progress goes to the job's
    event log (job `job_id`, or a new "product" job), where the web app's SSE stream reads it. Returns
    {"job_id", "result": ProductResult} or {"job_id", "error", "hint", "bad_input"}."""
    import contextlib

    from functions.pipeline.backends import open_job_store
    from functions.pipeline.modal_executor import InProcessChannel
    from shared.errors import InputError
    from shared.settings import get_settings

    jobs = open_job_store(settings=get_settings())
    if job_id is None:
        job_id = jobs.create_job(kind="product", params=request).id
    jobs.set_status(job_id, status="running")
    jobs.append_event(job_id, type="stage", stage="product", status="running", total=1)
    last = [-1.0]

    def on_progress(percent: float, message: str) -> None:
        pct = min(100.0, max(last[0], float(percent)))  # the pieces' spans follow one another: never go back
        last[0] = pct
        jobs.append_event(job_id, type="progress", stage="product", item=message.split(":", 1)[0],
                          percent=pct, message=message)

    if modal.is_local():
        calls: dict[str, Any] = {}
        for name, fn in PRODUCT_FUNCTIONS.items():
            calls[name] = fn.local
            calls[f"{name}.starmap"] = lambda args, f=fn: [f.local(*a) for a in args]
        opened: Any = InProcessChannel.open()
    else:
        calls = {name: fn.remote for name, fn in PRODUCT_FUNCTIONS.items()}
        calls.update({f"{name}.starmap": fn.starmap for name, fn in PRODUCT_FUNCTIONS.items()})
        opened = modal.Queue.ephemeral()
    try:
        with contextlib.ExitStack() as stack:
            channel = stack.enter_context(opened)
            result = run_product_pieces(request=request, calls=calls, channel=channel, on_progress=on_progress)
    except Exception as exc:
        error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = getattr(exc, "hint", "") or ""
        jobs.append_event(job_id, type="failed", stage="product", error=error, hint=hint or None)
        jobs.set_status(job_id, status="failed", error=error)
        return {"job_id": job_id, "error": error, "hint": hint, "bad_input": isinstance(exc, InputError)}
    jobs.append_event(job_id, type="done", stage="product", percent=100.0,
                      message=f"turntable: {result['frames']} frames, {result['width']}x{result['height']}")
    jobs.set_status(job_id, status="done", result=result)
    return {"job_id": job_id, "result": result}


# ---------------------------------------------------------------- entrypoint


@app.local_entrypoint()
def main(
    photos: str,
    out: str = "movie.mp4",
    style: str = "ghibli",
    music: str = "",
    aspect: str = "9:16",
    duration: float = 0.0,
    fps: int = 30,
    seed: int = 0,
) -> None:
    """Upload the photos (and song), make the video on Modal with a progress bar, download it."""
    import sys

    sys.exit(run_remote_make(
        job=make_video.remote_gen, volume=artifacts, volume_root=ARTIFACTS_PATH, photos=Path(photos),
        out=Path(out), style=style, music=Path(music) if music else None, aspect=aspect,
        duration=duration or None, fps=fps, seed=seed,
    ))


def run_remote_make(
    *,
    job: Any,
    volume: Any,
    volume_root: str,
    photos: Path,
    out: Path,
    style: str,
    music: Path | None,
    aspect: str,
    duration: float | None,
    fps: int,
    seed: int,
) -> int:
    """What `modal run` does here: upload, follow the job's events on a progress bar, download.

    `job` yields make_video's messages (`make_video.remote_gen`, or `.local` in tests); `volume` is the
    artifact Volume (batch_upload / read_file / remove_file), mounted at `volume_root` in the job."""
    import tempfile
    import urllib.request
    import uuid

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from api.cli import StageBars
    from functions.pipeline.ingest import expand_photo_paths
    from shared.models.jobs import ProgressEvent

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if out.suffix.lower() != ".mp4":
        err.print(f"momentloop: error: the output must be an .mp4 file, got {out.name}", markup=False)
        return 2
    if not photos.exists() or (music is not None and not music.is_file()):
        err.print(f"momentloop: error: {music if photos.exists() else photos}: no such file or folder", markup=False)
        return 2
    paths = expand_photo_paths([photos])
    if not paths:
        err.print(f"momentloop: error: no photos in {photos}", markup=False)
        return 2

    upload = f"uploads/{uuid.uuid4().hex[:16]}"
    with volume.batch_upload() as batch:
        for p in paths:
            batch.put_file(p, f"/{upload}/photos/{p.name}")
        if music is not None:
            batch.put_file(music, f"/{upload}/music/{music.name}")
    request = {
        "photos": [f"{volume_root}/{upload}/photos/{p.name}" for p in paths],
        "music": f"{volume_root}/{upload}/music/{music.name}" if music is not None else None,
        "look": style, "aspect": aspect, "duration": duration, "fps": fps, "seed": seed,
    }
    final: dict[str, Any] = {}
    try:
        with Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                      TimeElapsedColumn(), console=err, disable=not err.is_terminal) as progress:
            bars = StageBars(progress)
            for message in job(request):
                if "event" in message:
                    bars(ProgressEvent.model_validate(message["event"]))
                else:
                    final = message
    except Exception as exc:  # Modal itself failed (not deployed, quota, network): one line, not a traceback
        final = {"error": f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                 "hint": "see `modal app logs momentloop`"}
    finally:
        try:
            volume.remove_file(upload, recursive=True)  # the job keeps its own content-addressed copies
        except Exception as exc:
            err.print(f"momentloop: could not remove the upload folder {upload}: {exc}", markup=False)

    if "result" not in final:
        hint = f" (hint: {final['hint']})" if final.get("hint") else ""
        err.print(f"momentloop: {'error' if final.get('bad_input') else 'failed'}: "
                  f"{final.get('error', 'the job ended without a result')}{hint}", markup=False)
        return 2 if final.get("bad_input") else 1
    result = final["result"]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".momentloop-", suffix=".mp4", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if result.get("video_url"):  # S3: straight from the bucket
                with urllib.request.urlopen(result["video_url"], timeout=60) as resp:
                    while chunk := resp.read(1 << 20):
                        f.write(chunk)
            else:
                for chunk in volume.read_file(result["video_key"]):
                    f.write(chunk)
        os.replace(name, out)
    finally:
        Path(name).unlink(missing_ok=True)
    Console(highlight=False, soft_wrap=True).print(
        f"{out}: {result['scenes']} scenes, {result['width']}x{result['height']} {result['fps']:g} fps, "
        f"{result['duration']:.2f} s, {result['tempo']:.0f} BPM, look {result['look']}", markup=False)
    return 0
