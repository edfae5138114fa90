"""The artifact store: put/get/exists/url by key. Writes are atomic: readers never see half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol, TypeVar

from pydantic import BaseModel

from shared.errors import StoreError

M = TypeVar("M", bound=BaseModel)

TEMP_PREFIX = ".tmp-"
"""How LocalStore names a write in progress (no key may look like one, so a sweep never takes an artifact)."""


def _check_key(key: str) -> str:
    p = PurePosixPath(key)
    if (not key or p.is_absolute() or ".." in p.parts or "\\" in key or key.endswith("/")
            or p.name.startswith(TEMP_PREFIX)):
        raise StoreError("invalid artifact key", key=key)
    return key


@dataclass(frozen=True)
class StaleWrites:
    """What a sweep removed: writes a stopped process began and never finished."""

    count: int
    bytes: int


class ArtifactStore(Protocol):
    def exists(self, key: str) -> bool: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def local_path(self, key: str) -> contextlib.AbstractContextManager[Path]: ...
    def write_path(
        self, key: str, *, suffix: str = "", allow_empty: bool = False
    ) -> contextlib.AbstractContextManager[Path]: ...
    def url(self, key: str) -> str: ...
    def ping(self) -> None: ...
    def clear_stale_writes(self, *, older_than: float) -> StaleWrites: ...


class LocalStore:
    """A folder. Also what a mounted Modal Volume looks like from inside a function."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put_bytes(self, key: str, data: bytes) -> None:
        with self.write_path(key) as tmp:
            tmp.write_bytes(data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise StoreError("no such artifact", key=key) from None

    def put_file(self, key: str, path: Path) -> None:
        # A copy is faithful: an empty upload stays empty, and analysis says why it cannot be used.
        with self.write_path(key, allow_empty=True) as tmp:
            shutil.copyfile(path, tmp)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        p = self.path(key)
        if not p.is_file():
            raise StoreError("no such artifact", key=key)
        yield p

    @contextlib.contextmanager
    def write_path(self, key: str, *, suffix: str = "", allow_empty: bool = False) -> Iterator[Path]:
        """Yield a temporary file beside the target; it becomes `key` only if the block succeeds.

        An empty result is refused unless `allow_empty`: a producer (ffmpeg, an encoder) that wrote
        nothing has failed, even when it said otherwise."""
        final = self.path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix or final.suffix, dir=final.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            if not tmp.exists() or (tmp.stat().st_size == 0 and not allow_empty):
                raise StoreError("nothing was written", key=key)
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def url(self, key: str) -> str:
        return self.path(key).resolve().as_uri()

    def ping(self) -> None:
        """StoreError unless the folder is there and writable (a volume that went away, a full unmount)."""
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreError("the artifact folder is missing or not writable", key=str(self.root))

    def clear_stale_writes(self, *, older_than: float) -> StaleWrites:
        """Remove the temporary files of writes that were never finished: a process killed inside
        `write_path` leaves one. Only files untouched for `older_than` seconds go: a writer at work keeps
        its file's mtime fresh, and another process (the CLI beside a server) may be writing right now."""
        cutoff = time.time() - older_than
        count = size = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                if not name.startswith(TEMP_PREFIX):
                    continue
                path = Path(folder) / name
                try:
                    st = path.stat()
                    if st.st_mtime >= cutoff:
                        continue
                    path.unlink()
                except FileNotFoundError:  # its writer finished (renamed it) or another sweep took it
                    continue
                count += 1
                size += st.st_size
        return StaleWrites(count=count, bytes=size)


def put_model(store: ArtifactStore, key: str, model: BaseModel) -> None:
    store.put_bytes(key, model.model_dump_json(indent=1).encode())


def get_model(store: ArtifactStore, key: str, cls: type[M]) -> M:
    return cls.model_validate_json(store.get_bytes(key))
