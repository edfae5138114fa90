"""Bringing the user's files into the artifact store, content-addressed."""

from __future__ import annotations

from pathlib import Path

from functions.clips.product_scene import TurntableError, TurntableInfo, probe_turntable
from shared.errors import InputError
from shared.hashing import file_digest
from shared.models.media import PhotoSource
from shared.store import ArtifactStore

PHOTO_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".png", ".apng", ".heic", ".heif", ".hif",
    ".avif", ".avifs", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".mpo",
})


def expand_photo_paths(paths: list[Path]) -> list[Path]:
    """Files as given, folders as their photos in name order. A folder's other files are passed over;
    a file named on the command line is always tried, so a wrong one gets a reason, not silence."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    (p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                     and p.suffix.lower() in PHOTO_SUFFIXES),
                    key=lambda p: p.name.lower(),
                )
            )
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def ingest_file(*, store: ArtifactStore, path: Path) -> str:
    """Copy a file into the store under a key made of its content hash (once, however often it comes)."""
    key = f"inputs/{file_digest(path)}{path.suffix.lower()[:8]}"
    if not store.exists(key):
        store.put_file(key, path)
    return key


def ingest_turntable(*, store: ArtifactStore, path: Path) -> tuple[str, TurntableInfo]:
    """Check that `path` is a product turntable (VP9 WebM with alpha that decodes; TurntableError, one
    line, when not), then copy it into the store like any input. Returns its key and its facts."""
    if not path.is_file():
        raise TurntableError(f"{path}: no such turntable file")
    info = probe_turntable(path)
    return ingest_file(store=store, path=path), info


def ingest_photos(*, store: ArtifactStore, paths: list[Path]) -> list[PhotoSource]:
    return [
        PhotoSource(key=ingest_file(store=store, path=p), name=p.name, index=i) for i, p in enumerate(paths)
    ]
