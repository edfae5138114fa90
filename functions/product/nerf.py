"""Train a nerfstudio model of the product on a GPU, measure it on held-out photos, and render the turntable.

nerfstudio (and torch) exist only in modal_app.py's GPU image, so they are imported inside the functions
that need them: this module imports on any machine. Training runs `ns-train` in a child process (through
nerf_launch.py, which adds the loss to its console output), so its CUDA memory and nerfstudio's global
writer state end with it; rendering and evaluation load the trained pipeline in this process with
`nerfstudio.utils.eval_utils.eval_setup`, as `ns-render` and `ns-eval` do.

Nothing is downloaded at run time: the models' LPIPS metric loads AlexNet weights through torchvision when a
model is built (torchmetrics' `LearnedPerceptualImagePatchSimilarity`), so the GPU image fetches them once
at build time (modal_app.warm_nerfstudio) into its TORCH_HOME; `train` warns if a run still downloads.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import inspect
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from functions.product.dataset import Intrinsics
from functions.product.nerf_cameras import (
    CropBox,
    DataparserTransform,
    crop_box,
    fit_intrinsics,
    straight_rgba,
    to_nerfstudio_pose,
)
from functions.product.nerf_command import (
    MAX_TRAIN_SIDE,
    RUN_TIMESTAMP,
    check_method,
    default_steps,
    downscale_factor,
    frame_chunks,
    frame_name,
    ns_train_args,
    run_dir,
)
from functions.product.nerf_progress import TrainLogParser
from shared.errors import MomentLoopError
from shared.progress import Reporter, silent

log = logging.getLogger(__name__)

__all__ = [
    "GpuUnavailableError",
    "NerfError",
    "NerfTrainingError",
    "evaluate_psnr",
    "frame_chunks",
    "gpu_available",
    "render_frames",
    "require_gpu",
    "train",
    "write_downscaled",
    "write_seed_points",
]

LAUNCHER = Path(__file__).with_name("nerf_launch.py")
TRAIN_LOG = "train.log"
_TAIL_LINES = 40


class NerfError(MomentLoopError):
    """nerfstudio could not train, load, render or evaluate the product model."""


class GpuUnavailableError(NerfError):
    """The work needs a CUDA GPU with nerfstudio, and this machine has none."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs a GPU with nerfstudio installed, and this machine has none",
            hint="run it on Modal (modal_app.py's GPU image), "
            "or make a CPU preview with `momentloop product --preview`",
        )


class NerfTrainingError(NerfError):
    """`ns-train` failed. Carries its command line, exit code, the tail of its output and the full log's path."""

    def __init__(
        self, message: str, *, cmd: list[str], returncode: int | None, tail: list[str], log_path: Path
    ) -> None:
        last = next((line for line in reversed(tail) if line.strip()), "no output")
        super().__init__(f"{message}: {last.strip()}", hint=f"the whole training log is in {log_path}")
        self.cmd = cmd
        self.returncode = returncode
        self.tail = tail
        self.log_path = log_path


def gpu_available() -> bool:
    """True when nerfstudio is installed and torch sees a CUDA device. Never raises."""
    try:
        if importlib.util.find_spec("nerfstudio") is None:
            return False
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA or torch install means no GPU for us, not a crash
        log.debug("GPU check failed", exc_info=True)
        return False


def require_gpu(*, what: str) -> None:
    if not gpu_available():
        raise GpuUnavailableError(what)


# ---------------------------------------------------------------- dataset extras


def write_seed_points(*, dataset_dir: Path, points_xyz: np.ndarray, points_rgb: np.ndarray,
                      name: str = "sparse_pc.ply") -> Path:
    """Write COLMAP's sparse points as an ASCII PLY beside transforms.json and point `ply_file_path` at it.

    splatfacto starts its Gaussians from these points (`seed_points` from the dataparser's `points3D_xyz`,
    read with open3d in `_load_3D_points`); without them it starts from random points in a cube and needs
    far more steps. The layout is the one nerfstudio's own COLMAP converter writes
    (process_data/colmap_utils.py, `create_ply_from_colmap`). Points stay in the capture world, the frame of
    transforms.json (no `applied_transform`): the dataparser moves them with the cameras (an ASCII PLY in the
    poses' frame is what SpectacularAI's exporter settled on, nerfstudio issue #2876)."""
    xyz = np.asarray(points_xyz, dtype=float).reshape(-1, 3)
    rgb = np.asarray(points_rgb).reshape(-1, 3)
    if len(xyz) != len(rgb):
        raise ValueError("points_xyz and points_rgb must have the same length")
    keep = np.all(np.isfinite(xyz), axis=1)
    xyz, rgb = xyz[keep], np.clip(rgb[keep], 0, 255).astype(np.uint8)
    transforms_path = Path(dataset_dir) / "transforms.json"
    meta = json.loads(transforms_path.read_text(encoding="utf-8"))
    ply = Path(dataset_dir) / name
    header = (
        "ply\nformat ascii 1.0\n"
        f"element vertex {len(xyz)}\n"
        "property float x\nproperty float y\nproperty float z\n"
        "property uint8 red\nproperty uint8 green\nproperty uint8 blue\n"
        "end_header\n"
    )
    rows = "".join(f"{x:.8g} {y:.8g} {z:.8g} {r} {g} {b}\n" for (x, y, z), (r, g, b) in zip(xyz, rgb, strict=True))
    _atomic_write(ply, header + rows)
    meta["ply_file_path"] = name
    _atomic_write(transforms_path, json.dumps(meta, indent=2))
    return ply


def write_downscaled(*, dataset_dir: Path, max_side: int = MAX_TRAIN_SIDE) -> int:
    """Downscaled copies of the dataset's photos in `images_{n}/`, where nerfstudio's dataparser reads them
    with `--downscale-factor n` (`_get_fname`: `images_{n}/<file name>`, intrinsics divided by n with
    `Cameras.rescale_output_resolution`, sizes rounded down). Returns n (1: the photos are small enough)."""
    from PIL import Image

    dataset_dir = Path(dataset_dir)
    meta = json.loads((dataset_dir / "transforms.json").read_text(encoding="utf-8"))
    frames = meta.get("frames", [])
    sizes = [(int(f.get("w", meta.get("w", 0))), int(f.get("h", meta.get("h", 0)))) for f in frames]
    if not sizes or min(min(w, h) for w, h in sizes) < 1:
        return 1
    factor = max(downscale_factor(width=w, height=h, max_side=max_side) for w, h in sizes)
    if factor == 1:
        return 1
    out = dataset_dir / f"images_{factor}"
    out.mkdir(exist_ok=True)
    for frame, (w, h) in zip(frames, sizes, strict=True):
        src = dataset_dir / frame["file_path"]
        dest = out / Path(frame["file_path"]).name
        with Image.open(src) as im:
            small = im.convert("RGB").resize((w // factor, h // factor), Image.Resampling.LANCZOS)
        tmp = dest.with_name(f".{dest.name}.tmp{dest.suffix}")
        small.save(tmp, quality=95)
        os.replace(tmp, dest)
    return factor


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- training


def train(
    *,
    dataset_dir: Path,
    output_dir: Path,
    method: str = "splatfacto",
    max_steps: int | None = None,
    report: Reporter = silent,
    timestamp: str = RUN_TIMESTAMP,
) -> Path:
    """Train `method` on the nerfstudio dataset in `dataset_dir`; returns the run's config.yml.

    Photos longer than 1600 px are trained on halved (or quartered) copies, as nerfstudio would pick; every
    8th photo is held out for evaluation; progress rows become `report(percent, "step 3000/10000
    loss 0.021, 1 m, 12 s left")`. The run lands in `output_dir/product/<method>/<timestamp>/`; its console
    output is kept there as train.log."""
    check_method(method)
    steps = max_steps if max_steps is not None else default_steps(method=method)
    dataset_dir, output_dir = Path(dataset_dir), Path(output_dir)
    transforms = dataset_dir / "transforms.json"
    if not transforms.is_file():
        raise NerfError(f"no nerfstudio dataset at {dataset_dir}: transforms.json is missing",
                        hint="write the dataset from the COLMAP poses first (functions.product.dataset)")
    if method == "splatfacto" and "ply_file_path" not in json.loads(transforms.read_text(encoding="utf-8")):
        log.warning("%s has no seed points: splatfacto starts from random Gaussians", transforms)

    base = run_dir(output_dir=output_dir, method=method, timestamp=timestamp)
    shutil.rmtree(base, ignore_errors=True)  # a fixed timestamp: a re-run must not mix with the last one
    base.mkdir(parents=True)
    log_path = base / TRAIN_LOG
    downscale = write_downscaled(dataset_dir=dataset_dir)
    cmd = [sys.executable, str(LAUNCHER),
           *ns_train_args(method=method, dataset_dir=dataset_dir, output_dir=output_dir, steps=steps,
                          timestamp=timestamp, downscale=downscale)]
    log.info("training %s for %d steps: %s", method, steps, " ".join(cmd))
    report(percent=0.0, message=f"training {method} for {steps} steps")

    parser = TrainLogParser(total_steps=steps)
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # rows must arrive as they are printed, not per 8 KiB
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                env=env, errors="replace")
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                log_file.write(line)
                tail.append(line.rstrip("\n"))
                if "Downloading" in line and "http" in line:
                    log.warning("nerfstudio is downloading at run time (bake it into the image): %s", line.strip())
                progress = parser.feed(line)
                if progress is not None:
                    report(percent=progress.percent, message=progress.message())
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    if returncode != 0:
        raise NerfTrainingError(f"ns-train {method} failed (exit {returncode})", cmd=cmd, returncode=returncode,
                                tail=list(tail), log_path=log_path)
    config = base / "config.yml"
    if not config.is_file():
        raise NerfTrainingError(f"ns-train {method} ended without writing {config}", cmd=cmd,
                                returncode=returncode, tail=list(tail), log_path=log_path)
    if not any((base / "nerfstudio_models").glob("step-*.ckpt")):
        raise NerfTrainingError(f"ns-train {method} ended without a checkpoint", cmd=cmd, returncode=returncode,
                                tail=list(tail), log_path=log_path)
    last = parser.last.message() if parser.last is not None else f"{steps} steps"
    report(percent=100.0, message=f"trained {method}: {last} in {time.monotonic() - started:.0f} s")
    return config


# ---------------------------------------------------------------- loading a trained model


def dataparser_transform(*, config: Path) -> DataparserTransform:
    """The world change the run's dataparser applied (saved beside config.yml by the trainer)."""
    path = Path(config).with_name("dataparser_transforms.json")
    if not path.is_file():
        raise NerfError(f"no dataparser_transforms.json beside {config}",
                        hint="train again: the run did not finish writing its outputs")
    return DataparserTransform.read(path)


def _load_pipeline(*, config: Path, test_mode: str, dataset_dir: Path | None = None) -> Any:
    """`eval_setup` on a run, wherever its folder sits now: nerfstudio finds checkpoints under the
    output_dir recorded in config.yml and re-reads the dataset from the recorded data path, so a run fetched
    to another machine (nerf_store.fetch_run) is pointed back at itself and at `dataset_dir`."""
    from nerfstudio.utils.eval_utils import eval_setup

    config = Path(config)
    if not config.is_file():
        raise NerfError(f"no trained model at {config}", hint="train the product model first")

    def here(cfg: Any) -> Any:
        # config.yml sits at {output_dir}/{experiment}/{method}/{timestamp}/config.yml
        cfg.output_dir = config.parents[3]
        if dataset_dir is not None:
            # ExperimentConfig.data is an alias the trainer copies into the datamanager, which copies it to
            # its dataparser (VanillaDataManager.__init__): set all three
            cfg.data = Path(dataset_dir)
            cfg.pipeline.datamanager.data = Path(dataset_dir)
            cfg.pipeline.datamanager.dataparser.data = Path(dataset_dir)
        return cfg

    kwargs: dict[str, Any] = {"test_mode": test_mode}
    if "update_config_callback" in inspect.signature(eval_setup).parameters:
        kwargs["update_config_callback"] = here
    else:  # nerfstudio < 1.0: loads from the paths recorded at training time
        log.warning("this nerfstudio cannot re-point a run; loading it from the paths in %s", config)
    try:
        loaded = eval_setup(config, **kwargs)
    except SystemExit as exc:  # eval_load_checkpoint exits when the checkpoint folder is missing
        raise NerfError(f"nerfstudio could not load {config} (exit {exc.code})",
                        hint="the run has no checkpoint; train again") from exc
    return loaded[1]  # (config, pipeline, checkpoint_path[, step]) across 1.x versions


def _obb(box: CropBox | None, *, device: Any) -> Any:
    if box is None:
        return None
    import torch
    from nerfstudio.data.scene_box import OrientedBox

    return OrientedBox(
        R=torch.tensor(box.rotation, dtype=torch.float32, device=device),
        T=torch.tensor(box.centre, dtype=torch.float32, device=device),
        S=torch.tensor(box.size, dtype=torch.float32, device=device),
    )


# ---------------------------------------------------------------- rendering and evaluation


def render_frames(
    *,
    config: Path,
    cameras: Sequence[np.ndarray],
    intrinsics: Intrinsics,
    width: int,
    height: int,
    out_dir: Path,
    start_index: int = 0,
    report: Reporter = silent,
    crop_centre: Sequence[float] | None = None,
    crop_half_size: float | None = None,
    dataset_dir: Path | None = None,
) -> list[Path]:
    """Render one RGBA PNG per camera (OpenCV camera-to-world in the capture world) as
    `frame_{start_index + i:05d}.png` in `out_dir`.

    Alpha is the model's accumulation (splatfacto's rasterised alpha, nerfacto's accumulated weight); the
    background the colour was composited over is taken out again (nerf_cameras.straight_rgba). With
    `crop_centre` and `crop_half_size` (capture world units) only what lies in that cube is rendered — the
    object without the room around it — through the models' `obb_box` crop. `dataset_dir`: where the
    training dataset is now, when the run was fetched from the store to another machine."""
    require_gpu(what="rendering the turntable")
    import torch
    from nerfstudio.cameras.cameras import Cameras, CameraType
    from nerfstudio.model_components import renderers
    from PIL import Image

    transform = dataparser_transform(config=config)
    intr = fit_intrinsics(intrinsics=intrinsics, width=width, height=height)
    poses = [to_nerfstudio_pose(cam_to_world=c, transform=transform) for c in cameras]
    box = None
    if crop_centre is not None and crop_half_size is not None:
        box = crop_box(centre=crop_centre, half_size=crop_half_size, transform=transform)

    pipeline = _load_pipeline(config=config, test_mode="inference", dataset_dir=dataset_dir)
    device = pipeline.device
    model = pipeline.model
    obb = _obb(box, device=device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    black = torch.zeros(3, device=device)
    for i, pose in enumerate(poses):
        camera = Cameras(
            camera_to_worlds=torch.tensor(pose[None], dtype=torch.float32),
            fx=intr.fx, fy=intr.fy, cx=intr.cx, cy=intr.cy, width=width, height=height,
            camera_type=CameraType.PERSPECTIVE,
        ).to(device)
        # nerfstudio's RGBRenderer composites over renderers.BACKGROUND_COLOR_OVERRIDE when it is set
        # (model_components/renderers.py); splatfacto composites over the colour it returns as "background"
        with torch.no_grad(), renderers.background_color_override_context(black):
            outputs = model.get_outputs_for_camera(camera, obb_box=obb)
        background = outputs.get("background")
        rgba = straight_rgba(rgb=outputs["rgb"].float().cpu().numpy(),
                             alpha=outputs["accumulation"].float().cpu().numpy(),
                             background=None if background is None else background.float().cpu().numpy())
        path = out_dir / frame_name(start_index + i)
        tmp = path.with_name(f".{path.name}.tmp.png")
        Image.fromarray(rgba).save(tmp, format="PNG", compress_level=1)
        os.replace(tmp, path)
        written.append(path)
        report(percent=100.0 * (i + 1) / len(poses), message=f"rendered frame {start_index + i + 1}")
    with contextlib.suppress(Exception):
        torch.cuda.empty_cache()
    return written


def evaluate_psnr(*, config: Path, report: Reporter = silent, dataset_dir: Path | None = None) -> float:
    """Mean PSNR (dB) over the held-out photos, as `ns-eval` computes it
    (`Pipeline.get_average_eval_image_metrics` on the eval split)."""
    require_gpu(what="evaluating the product model")
    report(percent=0.0, message="rendering the held-out photos")
    pipeline = _load_pipeline(config=config, test_mode="test", dataset_dir=dataset_dir)
    metrics = pipeline.get_average_eval_image_metrics()
    psnr = float(metrics["psnr"])
    report(percent=100.0, message=f"held-out PSNR {psnr:.2f} dB")
    return psnr
