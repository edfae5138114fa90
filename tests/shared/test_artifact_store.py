"""The artifact store contract, on a real folder (LocalStore) and a real S3 server over HTTP (S3Store
against moto's server): atomic writes, faithful copies, key hygiene, what a killed writer leaves and the
sweep that clears it, the health ping; plus content keys."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shared.errors import StoreError
from shared.hashing import content_key
from shared.models.render import StyleRequest
from shared.store import ArtifactStore, LocalStore


@dataclass
class Backend:
    store: ArtifactStore
    leftovers: Callable[[], list[str]]
    """Anything a failed or finished write left behind: temp files, unfinished multipart uploads."""
    recipe: dict[str, Any] = field(default_factory=dict)
    """How another process opens the same store (see `_killed_writer`)."""
    break_it: Callable[[], None] = lambda: None
    """Take the store away from under it (the folder removed, the bucket deleted)."""


def s3_backend(endpoint: str, **options: object) -> Backend:
    import boto3

    from shared.s3store import S3Store

    bucket = f"ml-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    store = S3Store(bucket=bucket, prefix="tenant-a", endpoint_url=endpoint, **options)  # type: ignore[arg-type]

    def leftovers() -> list[str]:
        uploads = store.client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [f"unfinished upload of {u['Key']}" for u in uploads]

    def break_it() -> None:
        store.delete_prefix("tenant-a")
        store.client.delete_bucket(Bucket=bucket)

    recipe = {"kind": "s3", "bucket": bucket, "prefix": "tenant-a", "endpoint": endpoint}
    return Backend(store, leftovers, recipe=recipe, break_it=break_it)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        root = tmp_path / "store"
        return Backend(LocalStore(root),
                       lambda: [str(p) for p in root.rglob(".tmp-*")],
                       recipe={"kind": "local", "root": str(root)},
                       break_it=lambda: shutil.rmtree(root))
    return s3_backend(request.getfixturevalue("s3_endpoint"))


def test_put_get_and_atomic_write(backend: Backend) -> None:
    store = backend.store
    store.put_bytes("a/b.bin", b"hello")
    assert store.exists("a/b.bin") and store.get_bytes("a/b.bin") == b"hello"
    assert not store.exists("a/other.bin")
    with pytest.raises(RuntimeError), store.write_path("a/c.bin") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed mid-write")
    assert not store.exists("a/c.bin")
    assert backend.leftovers() == [], "nothing left behind"
    with pytest.raises(StoreError, match="no such artifact"):
        store.get_bytes("a/c.bin")


def test_write_path_publishes_the_file_and_local_path_reads_it(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    with store.write_path("clips/1/clip.mp4") as tmp:
        assert tmp.suffix == ".mp4", "producers (ffmpeg) pick the format from the suffix"
        tmp.write_bytes(b"\x00\x01" * 5000)
    with store.local_path("clips/1/clip.mp4") as path:
        assert path.suffix == ".mp4" and path.read_bytes() == b"\x00\x01" * 5000
    with pytest.raises(StoreError, match="no such artifact"), store.local_path("clips/2/clip.mp4"):
        pass


def test_empty_write_is_refused_but_an_empty_copy_is_faithful(backend: Backend, tmp_path: Path) -> None:
    store = backend.store
    with pytest.raises(StoreError), store.write_path("x.bin"):
        pass
    with pytest.raises(StoreError), store.write_path("y.bin") as tmp:
        tmp.write_bytes(b"")
    assert not store.exists("x.bin") and not store.exists("y.bin")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    store.put_file("inputs/empty.jpg", empty)
    assert store.exists("inputs/empty.jpg") and store.get_bytes("inputs/empty.jpg") == b""


def test_put_file_copies_bytes_exactly(backend: Backend, tmp_path: Path) -> None:
    src = tmp_path / "photo.jpg"
    payload = bytes(range(256)) * 400
    src.write_bytes(payload)
    backend.store.put_file("inputs/photo.jpg", src)
    assert backend.store.get_bytes("inputs/photo.jpg") == payload


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "", "dir/", "clips/.tmp-abc.mp4"])
def test_keys_cannot_escape_the_store(backend: Backend, key: str) -> None:
    # A key named like a write in progress could be taken by the sweep of unfinished writes.
    with pytest.raises(StoreError):
        backend.store.put_bytes(key, b"x")


_WRITER = textwrap.dedent("""
    import io, json, sys, time
    from pathlib import Path
    recipe = json.loads(sys.argv[1])
    if recipe["kind"] == "local":
        from shared.store import LocalStore
        with LocalStore(Path(recipe["root"])).write_path("clips/1/clip.mp4") as tmp, tmp.open("wb") as f:
            f.write(b"\\x00" * (3 << 20))
            f.flush()
            print("writing", flush=True)
            time.sleep(600)
    else:
        from shared.s3store import MIB, S3Store
        store = S3Store(bucket=recipe["bucket"], prefix=recipe["prefix"], endpoint_url=recipe["endpoint"],
                        part_size=5 * MIB)

        class Slow(io.RawIOBase):
            sent = 0
            def readable(self): return True
            def read(self, n=-1):
                if self.sent >= 5 * MIB:  # the first part is in: hang before the second
                    print("writing", flush=True)
                    time.sleep(600)
                self.sent += n
                return b"\\x00" * n

        store.put_stream("clips/1/clip.mp4", Slow())
""")


def _killed_writer(backend: Backend) -> None:
    """A real process writing to the store, killed with SIGKILL in the middle of its write."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, json.dumps(backend.recipe)], cwd=root,
                            stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(root)})
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n", "the writer did not start"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def test_a_killed_writer_leaves_a_write_only_the_sweep_removes(backend: Backend) -> None:
    store = backend.store
    store.put_bytes("clips/0/clip.mp4", b"finished")
    _killed_writer(backend)
    assert len(backend.leftovers()) == 1, "SIGKILL skips every cleanup: the unfinished write is still there"
    assert not store.exists("clips/1/clip.mp4"), "and it never became the artifact"

    # Younger than the cut-off: it could be another process's write in progress (the CLI beside a server).
    # (moto dates every multipart upload 2010-11-10, moto/s3/responses.py: there the cut-off cannot show.)
    if backend.recipe["kind"] == "local":
        assert store.clear_stale_writes(older_than=3600).count == 0
        assert len(backend.leftovers()) == 1

    gone = store.clear_stale_writes(older_than=0)
    assert gone.count == 1 and gone.bytes >= 3 << 20
    assert backend.leftovers() == []
    assert store.get_bytes("clips/0/clip.mp4") == b"finished", "finished artifacts are never touched"
    assert store.clear_stale_writes(older_than=0).count == 0


def test_ping_answers_while_the_store_is_there(backend: Backend) -> None:
    backend.store.ping()
    backend.break_it()
    with pytest.raises(StoreError):
        backend.store.ping()


def test_content_key_changes_exactly_with_the_request() -> None:
    a = StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    assert content_key(stage="style", version="1", request=a) == content_key(
        stage="style", version="1", request=StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    )
    assert content_key(stage="style", version="1", request=a) != content_key(
        stage="style", version="1", request=a.model_copy(update={"look": "ghibli"})
    )
    assert content_key(stage="style", version="1", request=a) != content_key(stage="style", version="2", request=a)
