"""How modal_app.py deploys, as data: one row of hardware and limits per stage function, the packages its
images install, and what the deploying machine's settings decide (the GPU of the GPU stages, the artifact
Volume, the Modal Secrets to attach, how many web replicas may run, the variables carried into every
container). Checked here, so a wrong setting stops the deploy with its variable's name."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shared.settings import ScaleSettings, Settings, forwarded_variables

GPU_TYPES = ("T4", "L4", "A10G", "A100", "L40S", "H100")
SECRET_KEYS: dict[str, tuple[str, list[str]]] = {
    "gemini": ("momentloop-gemini", ["GEMINI_API_KEY"]),
    "openai": ("momentloop-openai", ["OPENAI_API_KEY"]),
    "replicate": ("momentloop-replicate", ["REPLICATE_API_TOKEN"]),
    "s3": ("momentloop-s3", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
    "postgres": ("momentloop-postgres", ["MOMENTLOOP_DATABASE_URL"]),
}
"""Each kind's Modal Secret (made once with `modal secret create NAME KEY=value ...`) and the keys it holds.
Attached only where needed and only when named in MOMENTLOOP_MODAL_SECRETS: no cloud keys, no secret."""
NOT_IN_IMAGES = ("dev", "gpu")
"""Extras no CPU container runs: our machines' tools, and the GPU stack (the GPU image only, after its torch)."""


class StageOptions(BaseModel):
    """One stage function's hardware and limits (None: Modal's default)."""

    model_config = ConfigDict(frozen=True)

    gpu: bool = Field(default=False, description="Runs on the GPU image, on MOMENTLOOP_MODAL_GPU.")
    providers: bool = Field(default=False, description="May call a cloud provider: gets the providers' keys.")
    cpu: float | None = None
    memory: int | None = Field(default=None, description="MiB.")
    timeout: int = Field(description="Seconds; room for cloud providers (a video model may take minutes a clip).")
    retries: int = Field(description="Modal's retries: a lost container, a network fault; never our failures.")
    max_containers: int
    scaledown_window: int | None = Field(default=None, description="Seconds idle: Modal bills until then.")


# Styles and clips fan out wide; photo analysis is cheap per item, so fewer containers each take several (a
# start costs more than a photo); clips carry the final encode of their scene's body (x264 on 2 cores), so
# compose only encodes crossfades; pycolmap's matching uses every core it gets; render chunks fan out.
STAGE_OPTIONS: dict[str, StageOptions] = {
    "analyze_photo": StageOptions(cpu=1.0, memory=2048, timeout=300, retries=2, max_containers=8, scaledown_window=10),
    "analyze_music": StageOptions(cpu=1.0, memory=2048, timeout=300, retries=2, max_containers=10,
                                  scaledown_window=20),
    "music": StageOptions(providers=True, cpu=1.0, memory=1024, timeout=900, retries=2, max_containers=10,
                          scaledown_window=20),
    "plan": StageOptions(providers=True, cpu=0.5, memory=1024, timeout=300, retries=2, max_containers=10,
                         scaledown_window=20),
    "style": StageOptions(providers=True, cpu=1.0, memory=2048, timeout=600, retries=2, max_containers=50,
                          scaledown_window=10),
    "clips": StageOptions(providers=True, cpu=2.0, memory=2048, timeout=1200, retries=2, max_containers=100,
                          scaledown_window=10),
    "compose": StageOptions(cpu=2.0, memory=2048, timeout=1800, retries=1, max_containers=10, scaledown_window=20),
    "product_poses": StageOptions(cpu=4.0, memory=8192, timeout=1800, retries=1, max_containers=10,
                                  scaledown_window=20),
    "product_train": StageOptions(gpu=True, timeout=3600, retries=1, max_containers=4),
    "product_render": StageOptions(gpu=True, timeout=1200, retries=2, max_containers=8, scaledown_window=10),
    "product_preview": StageOptions(cpu=1.0, memory=2048, timeout=900, retries=2, max_containers=20,
                                    scaledown_window=10),
    "product_encode": StageOptions(cpu=2.0, memory=4096, timeout=900, retries=2, max_containers=10,
                                   scaledown_window=20),
}


class ModalDeploy(BaseModel):
    packages: list[str] = Field(description="What every image installs: pyproject's dependencies and the "
                                "extras it serves (cloud SDKs, PostgreSQL, ...), as pinned there.")
    gpu_packages: list[str] = Field(description="The `gpu` extra, installed over the CUDA build of torch.")
    gpu: str = Field(description="The GPU of the GPU stages (MOMENTLOOP_MODAL_GPU).")
    volume: str = Field(description="The artifact Volume's name (MOMENTLOOP_MODAL_VOLUME).")
    secrets: dict[str, tuple[str, list[str]]] = Field(description="The chosen kinds: their Secrets and keys.")
    web_containers: int = Field(description="Web replicas Modal may run.")
    env: dict[str, str] = Field(description="The deploying machine's settings every container gets.")
    stages: dict[str, StageOptions] = STAGE_OPTIONS


def modal_deploy(*, family: type[Settings], environ: Mapping[str, str], pyproject: Path | None) -> ModalDeploy:
    """The deploy `environ` asks for; `family`: the settings the containers read (the web server's included);
    `pyproject`: read where you deploy from (None in a container, which runs images and never builds them).

    Not carried: what describes this machine (its folders, its cores) and the database URL, which travels only
    as a Secret (NOT_FORWARDED in their fields). Several web replicas only where they share everything:
    artifacts in S3 and jobs and projects in PostgreSQL (each job runs on the replica holding its lease); on
    the Volume + SQLite each container would have a database file of its own."""
    scale = ScaleSettings()
    if scale.modal_gpu not in GPU_TYPES:
        raise ValueError(f"MOMENTLOOP_MODAL_GPU={scale.modal_gpu!r}: choose one of {', '.join(GPU_TYPES)} "
                         "(T4 dev, A10G prod)")
    chosen = scale.secret_names()
    if unknown := sorted(set(chosen) - set(SECRET_KEYS)):
        raise ValueError(f"MOMENTLOOP_MODAL_SECRETS names unknown secrets {unknown}; known: {', '.join(SECRET_KEYS)}")
    if scale.store == "s3" and "s3" not in chosen:
        raise ValueError("MOMENTLOOP_STORE=s3 needs the S3 credentials: add s3 to MOMENTLOOP_MODAL_SECRETS")
    project = tomllib.loads(pyproject.read_text())["project"] if pyproject is not None else {}
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})
    forwarded = forwarded_variables(family)
    return ModalDeploy(
        packages=[*project.get("dependencies", []),
                  *(r for name, reqs in extras.items() if name not in NOT_IN_IMAGES for r in reqs)],
        gpu_packages=extras.get("gpu", []), gpu=scale.modal_gpu, volume=scale.modal_volume,
        secrets={kind: SECRET_KEYS[kind] for kind in chosen},
        web_containers=Settings().web_max_containers if scale.store == "s3" and "postgres" in chosen else 1,
        env={name: value for name, value in sorted(environ.items()) if name in forwarded},
    )
