"""The artifact store contract, on a real folder (LocalStore) and a real S3 server over HTTP (S3Store
against moto's server): atomic writes, faithful copies, key hygiene; plus content keys."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.errors import StoreError
from shared.hashing import content_key
from shared.models import StyleRequest
from shared.store import ArtifactStore, LocalStore


@dataclass
class Backend:
    store: ArtifactStore
    leftovers: Callable[[], list[str]]
    """Anything a failed or finished write left behind: temp files, unfinished multipart uploads."""


def s3_backend(endpoint: str, **options: object) -> Backend:
    import boto3

    from shared.s3store import S3Store

    bucket = f"ml-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    store = S3Store(bucket=bucket, prefix="tenant-a", endpoint_url=endpoint, **options)  # type: ignore[arg-type]

    def leftovers() -> list[str]:
        uploads = store.client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        return [f"unfinished upload of {u['Key']}" for u in uploads]

    return Backend(store, leftovers)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        root = tmp_path / "store"
        return Backend(LocalStore(root),
                       lambda: [str(p) for p in root.rglob(".tmp-*")])
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


@pytest.mark.parametrize("key", ["../escape", "/abs/path", "a/../../b", "", "dir/"])
def test_keys_cannot_escape_the_store(backend: Backend, key: str) -> None:
    with pytest.raises(StoreError):
        backend.store.put_bytes(key, b"x")


def test_content_key_changes_exactly_with_the_request() -> None:
    a = StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    assert content_key(stage="style", version="1", request=a) == content_key(
        stage="style", version="1", request=StyleRequest(image_key="analyze/1/photo.jpg", look="lego")
    )
    assert content_key(stage="style", version="1", request=a) != content_key(
        stage="style", version="1", request=a.model_copy(update={"look": "ghibli"})
    )
    assert content_key(stage="style", version="1", request=a) != content_key(stage="style", version="2", request=a)
