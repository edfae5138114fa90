"""Content keys: the same inputs, params and code version always give the same key."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def bytes_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(*, stage: str, version: str, request: BaseModel) -> str:
    """Key of a stage's output: a hash of the stage, its code version and its whole request.

    Requests carry their inputs by key, and input keys are themselves content hashes, so the key
    changes exactly when the work to do changes."""
    payload = f"{stage}\x00{version}\x00{request.model_dump_json()}".encode()
    return hashlib.sha256(payload).hexdigest()[:32]
