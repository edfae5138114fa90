"""A trained nerfstudio run in the artifact store, so the GPU that trained it and the GPUs that render its
frames need not share a disk (a Modal Volume or S3 both work).

What a run needs to load again (`eval_setup`): config.yml, dataparser_transforms.json beside it, and the
latest checkpoint in nerfstudio_models/ (nerfstudio loads the highest `step-*.ckpt` of that folder). The
dataset it was trained on is stored once, with the capture; `fetch_run` puts the run back into the same
layout under a new folder, and the renderer points the run's config at it (nerf._load_pipeline).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from functions.product.nerf_command import EXPERIMENT_NAME, RUN_TIMESTAMP, check_method
from shared.errors import MomentLoopError
from shared.store import ArtifactStore

_CKPT = re.compile(r"^step-(\d+)\.ckpt$")
RUN_RECORD = "run.json"


class StoredRun(BaseModel):
    """A trained run in the store: its files under `key`, relative to the run folder."""

    key: str
    method: str
    files: list[str] = Field(description="config.yml, dataparser_transforms.json, nerfstudio_models/step-*.ckpt")
    step: int


class NerfRunError(MomentLoopError):
    """A trained run is incomplete (no config, no transform or no checkpoint)."""


def latest_checkpoint(*, run_dir: Path) -> Path:
    ckpts = [(int(m.group(1)), p) for p in (run_dir / "nerfstudio_models").glob("step-*.ckpt")
             if (m := _CKPT.match(p.name))]
    if not ckpts:
        raise NerfRunError(f"no checkpoint in {run_dir / 'nerfstudio_models'}", hint="train the model again")
    return max(ckpts)[1]


def store_run(*, config: Path, method: str, store: ArtifactStore, key: str) -> StoredRun:
    """Put the run of `config` (its config, transform and latest checkpoint) under `key` in the store."""
    check_method(method)
    run_dir = Path(config).parent
    ckpt = latest_checkpoint(run_dir=run_dir)
    files = ["config.yml", "dataparser_transforms.json", f"nerfstudio_models/{ckpt.name}"]
    for rel in files:
        if not (run_dir / rel).is_file():
            raise NerfRunError(f"the run in {run_dir} has no {rel}", hint="train the model again")
    for rel in files:
        store.put_file(f"{key}/{rel}", run_dir / rel)
    step = _CKPT.match(ckpt.name)
    run = StoredRun(key=key, method=method, files=files, step=int(step.group(1)) if step else 0)
    store.put_bytes(f"{key}/{RUN_RECORD}", run.model_dump_json().encode())  # last: a recorded run is complete
    return run


def stored_run(*, store: ArtifactStore, key: str) -> StoredRun | None:
    """The run stored under `key` before (a retried or resumed job trains once), or None."""
    if not store.exists(f"{key}/{RUN_RECORD}"):
        return None
    with store.local_path(f"{key}/{RUN_RECORD}") as path:
        return StoredRun.model_validate_json(path.read_text(encoding="utf-8"))


def fetch_run(*, run: StoredRun, store: ArtifactStore, dest: Path) -> Path:
    """Copy a stored run into `dest` in nerfstudio's layout; returns its config.yml there."""
    run_dir = Path(dest) / EXPERIMENT_NAME / run.method / RUN_TIMESTAMP
    for rel in run.files:
        target = run_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with store.local_path(f"{run.key}/{rel}") as src:
            shutil.copyfile(src, target)  # checkpoints run to hundreds of MB: never whole in memory
    return run_dir / "config.yml"
