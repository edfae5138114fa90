"""The `ns-train` command line for a product capture, where its output lands, and how a turntable's frames
are cut into chunks for parallel renderers. Pure functions: nothing here runs or imports nerfstudio.

Flags are nerfstudio 1.1's (tyro CLI generated from the dataclass configs): `ExperimentConfig` gives
`--data` (alias of the datamanager's data path), `--output-dir`, `--experiment-name`, `--timestamp`, `--vis`;
`TrainerConfig` `--max-num-iterations`; `ViewerConfig` `--viewer.quit-on-train-completion`; `LoggingConfig`
`--logging.steps-per-log` and `--logging.local-writer.max-log-size`; the model config `--pipeline.model.*`;
the dataparser is the trailing `nerfstudio-data` subcommand (`NerfstudioDataParserConfig`: `--eval-mode`,
`--eval-interval`, `--downscale-factor`). The run directory is
`{output_dir}/{experiment_name}/{method}/{timestamp}` (`ExperimentConfig.get_base_dir`), holding config.yml,
dataparser_transforms.json and nerfstudio_models/step-*.ckpt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

Method = Literal["splatfacto", "nerfacto"]
METHODS: tuple[Method, ...] = ("splatfacto", "nerfacto")

EXPERIMENT_NAME = "product"
RUN_TIMESTAMP = "run"
"""Fixed instead of nerfstudio's date-time default, so the run directory is known before training starts."""

EVAL_INTERVAL = 8
"""Every 8th photo (sorted by name) is held out for PSNR, the Mip-NeRF 360 / LLFF convention."""

DEFAULT_STEPS: dict[str, int] = {
    # Gaussian splatting converges early: the 3DGS paper (Kerbl et al. 2023, Table 1) reports its 7k-step
    # models within ~1–2 dB of 30k on real scenes. A turntable of one object from 20–200 photos at ≤1600 px
    # is smaller than those scenes; 10k steps with the schedules below scaled to it (densify until half
    # way, full resolution from a fifth of the way) leaves room for PSNR ≥ 25 dB while training in
    # ~2 min on an H100 and ~5 min on an A10G, so COLMAP + training + rendering stays under 5 / 10 min.
    "splatfacto": 10_000,
    # nerfacto's proposal sampling and hash grid reach most of their quality in the first 5–10k of the
    # default 30k steps; its renders are slower than splats, which the parallel render chunks absorb.
    "nerfacto": 10_000,
}
STEPS_PER_LOG = 100


def default_steps(*, method: str) -> int:
    check_method(method)
    return DEFAULT_STEPS[method]


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown nerfstudio method {method!r}: use one of {', '.join(METHODS)}")


def _method_args(*, method: str, steps: int) -> list[str]:
    if method == "splatfacto":
        # splatfacto's schedules assume 30k steps (split until 15k, resolution doubled every 3k from 1/4):
        # scale them to this run so densification ends with time left to optimise what it made, and the
        # last two thirds train at full resolution.
        return [
            "--pipeline.model.stop-split-at", str(max(500, steps // 2)),
            "--pipeline.model.resolution-schedule", str(max(250, steps // 10)),
        ]
    # Camera poses come from COLMAP and the turntable is rendered from those poses' frame: letting nerfacto
    # nudge the cameras would move the model away from the frame the orbit is computed in.
    return ["--pipeline.model.camera-optimizer.mode", "off"]


MAX_TRAIN_SIDE = 1600
"""Photos are trained on at most this long side: nerfstudio's own limit (nerfstudio_dataparser.py,
MAX_AUTO_RESOLUTION), past which a splat model mostly spends its time on sensor noise."""


def downscale_factor(*, width: int, height: int, max_side: int = MAX_TRAIN_SIDE) -> int:
    """The power of two nerfstudio's dataparser would pick: the smallest that brings the long side to
    `max_side` or less."""
    if width < 1 or height < 1 or max_side < 1:
        raise ValueError("sizes must be positive")
    factor = 1
    while max(width, height) / factor > max_side:
        factor *= 2
    return factor


def ns_train_args(
    *, method: str, dataset_dir: Path, output_dir: Path, steps: int, timestamp: str = RUN_TIMESTAMP,
    downscale: int = 1,
) -> list[str]:
    """Arguments after `ns-train` for one product run; `downscale`: train on the dataset's `images_{n}/`."""
    check_method(method)
    if steps < 1:
        raise ValueError("steps must be at least 1")
    if downscale < 1:
        raise ValueError("downscale must be at least 1")
    return [
        method,
        "--data", str(dataset_dir),
        "--output-dir", str(output_dir),
        "--experiment-name", EXPERIMENT_NAME,
        "--timestamp", timestamp,
        "--max-num-iterations", str(steps),
        # no viewer (no web server in a batch job); tensorboard is the logger that also keeps eval running
        "--vis", "tensorboard",
        # without it the trainer idles after the last step waiting for ctrl-c (trainer.py, end of train())
        "--viewer.quit-on-train-completion", "True",
        "--logging.steps-per-log", str(STEPS_PER_LOG),
        # 0 = print plain rows instead of redrawing a block with cursor escapes (writer.py, LocalWriter)
        "--logging.local-writer.max-log-size", "0",
        # random backgrounds during training make empty space transparent, which the alpha channel needs
        "--pipeline.model.background-color", "random",
        *_method_args(method=method, steps=steps),
        "nerfstudio-data",
        "--eval-mode", "interval",
        "--eval-interval", str(EVAL_INTERVAL),
        # explicit: nerfstudio's automatic choice only looks for images_{n}/ folders (nerf.train writes them)
        "--downscale-factor", str(downscale),
    ]


def run_dir(*, output_dir: Path, method: str, timestamp: str = RUN_TIMESTAMP) -> Path:
    """Where nerfstudio writes this run (`ExperimentConfig.get_base_dir`)."""
    check_method(method)
    return Path(output_dir) / EXPERIMENT_NAME / method / timestamp


def frame_chunks(*, total: int, chunk: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges of at most `chunk` frames covering 0..total, in order."""
    if total < 0:
        raise ValueError("total must not be negative")
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    return [(start, min(start + chunk, total)) for start in range(0, total, chunk)]


def frame_name(index: int) -> str:
    """File name of turntable frame `index`: chunks rendered apart sort and concatenate by name."""
    return f"frame_{index:05d}.png"
