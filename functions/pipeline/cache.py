"""Content-addressed stage results: the same request to the same stage code is never computed twice.

A result is written right after its item finishes, so a job killed half-way resumes from what it had."""

from __future__ import annotations

from pydantic import BaseModel

from functions.pipeline.stages import Stage, get_stage
from shared.hashing import content_key
from shared.progress import Reporter, silent
from shared.store import ArtifactStore, get_model, put_model


def result_key(*, stage: Stage, request: BaseModel) -> str:
    identity = stage.identity(request) if stage.identity else request
    return f"results/{stage.name}/{content_key(stage=stage.name, version=stage.version, request=identity)}.json"


def artifact_keys(model: BaseModel) -> list[str]:
    """Every store key a result points at (its `*_key` fields, nested models included)."""
    keys: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name.endswith("_key") and isinstance(value, str):
            keys.append(value)
        elif isinstance(value, BaseModel):
            keys += artifact_keys(value)
        elif isinstance(value, list):
            keys += [k for v in value if isinstance(v, BaseModel) for k in artifact_keys(v)]
    return keys


def cached_result(*, stage: Stage, request: BaseModel, store: ArtifactStore) -> BaseModel | None:
    """The stored result of `request`, unless it is missing or an artifact it points at is gone (a user
    who clears part of the artifact folder gets that work redone, not an error). None for a stage that keeps
    no result record."""
    if not stage.cached:
        return None
    key = result_key(stage=stage, request=request)
    if not store.exists(key):
        return None
    result = get_model(store, key, stage.result)
    if not all(store.exists(k) for k in artifact_keys(result)):
        return None
    return stage.rebind(result, request) if stage.rebind else result


def run_stage_item(
    *, stage_name: str, request: BaseModel, store: ArtifactStore, report: Reporter = silent
) -> BaseModel:
    """The unit of work every executor runs: a cached result, or the stage's entry function."""
    stage = get_stage(stage_name)
    request = stage.request.model_validate(request.model_dump()) if type(request) is not stage.request else request
    hit = cached_result(stage=stage, request=request, store=store)
    if hit is not None:
        return hit
    result = stage.entry(request=request, store=store, report=report)
    if stage.cached:
        put_model(store, result_key(stage=stage, request=request), result)
    return result
