"""S3Store beyond the shared contract, against moto's S3 server over real HTTP: streaming multipart
uploads with bounded memory, all-or-nothing visibility, presigned GET/PUT URLs fetched with a plain
HTTP client, server-side copy, listing and deleting by project prefix."""

from __future__ import annotations

import hashlib
import io
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from shared.errors import StoreError
from shared.s3store import MIB, S3Store

PART = 5 * MIB


@pytest.fixture()
def store(s3_endpoint: str) -> S3Store:
    bucket = f"ml-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=bucket)
    return S3Store(bucket=bucket, prefix="deploy-1", endpoint_url=s3_endpoint, part_size=PART)


class Generated(io.RawIOBase):
    """`size` deterministic bytes made on demand, never all in memory; records the largest read asked
    for and calls `during(bytes_so_far)` before each read after the first part."""

    def __init__(self, size: int, *, during: Callable[[int], None] | None = None, fail_at: int | None = None):
        self.size, self.pos, self.largest = size, 0, 0
        self.during, self.fail_at = during, fail_at
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            raise AssertionError("the uploader asked for the whole stream at once")
        self.largest = max(self.largest, n)
        if self.pos >= PART and self.during is not None:
            self.during(self.pos)
        if self.fail_at is not None and self.pos >= self.fail_at:
            raise OSError("connection to the uploader's source was lost")
        n = min(n, self.size - self.pos)
        block = bytes((self.pos + i) % 251 for i in range(min(n, 251))) if n else b""
        chunk = (block * (n // max(1, len(block)) + 1))[:n] if n else b""
        self.pos += n
        self.digest.update(chunk)
        return chunk


def _head(store: S3Store, key: str) -> dict[str, Any]:
    head: dict[str, Any] = store.client.head_object(Bucket=store.bucket, Key=store.name(key))
    return head


def test_large_upload_streams_in_parts_with_bounded_memory(store: S3Store) -> None:
    source = Generated(12 * MIB + 123)
    size = store.put_stream("exports/p1/video.mp4", source)
    assert size == 12 * MIB + 123
    assert source.largest <= PART, "never more than one part in memory"
    assert _head(store, "exports/p1/video.mp4")["ETag"].strip('"').endswith("-3"), "three parts"
    with store.local_path("exports/p1/video.mp4") as path:
        assert path.stat().st_size == size
        assert hashlib.sha256(path.read_bytes()).hexdigest() == source.digest.hexdigest()


def test_an_object_being_uploaded_is_invisible_and_an_older_version_stays_whole(store: S3Store) -> None:
    key = "exports/p1/video.mp4"
    store.put_bytes(key, b"version one")
    looks: list[tuple[bytes, bool]] = []

    def peek(_: int) -> None:
        looks.append((store.get_bytes(key), "exports/p1/video.mp4" in store.list_keys("exports/")))

    store.put_stream(key, Generated(11 * MIB, during=peek))
    assert looks and all(body == b"version one" and listed for body, listed in looks), \
        "mid-upload, readers see the previous complete object"
    assert len(store.get_bytes(key)) == 11 * MIB


def test_a_failed_upload_leaves_nothing_and_aborts_its_parts(store: S3Store) -> None:
    seen_during: list[bool] = []
    with pytest.raises(OSError, match="lost"):
        store.put_stream("exports/p1/broken.mp4",
                         Generated(20 * MIB, fail_at=10 * MIB,
                                   during=lambda _: seen_during.append(store.exists("exports/p1/broken.mp4"))))
    assert seen_during and not any(seen_during)
    assert not store.exists("exports/p1/broken.mp4")
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_presigned_get_serves_the_bytes_over_http_and_names_the_download(store: S3Store) -> None:
    store.put_bytes("exports/p1/poster.jpg", b"\xff\xd8jpeg-bytes")
    with urllib.request.urlopen(store.url("exports/p1/poster.jpg"), timeout=10) as resp:
        assert resp.status == 200 and resp.read() == b"\xff\xd8jpeg-bytes"
    url = store.presigned_get("exports/p1/poster.jpg", seconds=60, download_name="Trip to Kyoto.jpg")
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.headers["Content-Disposition"] == 'attachment; filename="Trip to Kyoto.jpg"'
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(store.presigned_get("exports/p1/none.jpg"), timeout=10)
    assert missing.value.code == 404


def test_presigned_put_takes_a_direct_browser_upload(store: S3Store) -> None:
    url = store.presigned_put("uploads/p1/photo.jpg", seconds=300, content_type="image/jpeg")
    assert store.bucket in url and "deploy-1/uploads/p1/photo.jpg" in url
    body = b"\xff\xd8" + bytes(range(256)) * 40
    request = urllib.request.Request(url, data=body, method="PUT", headers={"Content-Type": "image/jpeg"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    assert store.get_bytes("uploads/p1/photo.jpg") == body
    assert _head(store, "uploads/p1/photo.jpg")["ContentType"] == "image/jpeg"


def test_server_side_copy_listing_and_deleting_by_project_prefix(store: S3Store, s3_endpoint: str) -> None:
    for key in ("projects/a/in/1.jpg", "projects/a/in/2.jpg", "projects/ab/in/1.jpg", "projects/b/in/1.jpg"):
        store.put_bytes(key, key.encode())
    store.copy("projects/a/in/1.jpg", "projects/a/styled/1.jpg")
    assert store.get_bytes("projects/a/styled/1.jpg") == b"projects/a/in/1.jpg"
    assert store.list_keys("projects/a/") == ["projects/a/in/1.jpg", "projects/a/in/2.jpg", "projects/a/styled/1.jpg"]
    # Another deployment's prefix in the same bucket is invisible to this store.
    S3Store(bucket=store.bucket, prefix="deploy-2", endpoint_url=s3_endpoint).put_bytes("projects/a/x.jpg", b"x")
    assert "projects/a/x.jpg" not in store.list_keys("projects/")
    assert store.delete_prefix("projects/a/") == 3
    assert store.list_keys("projects/") == ["projects/ab/in/1.jpg", "projects/b/in/1.jpg"]
    with pytest.raises(StoreError):
        store.delete_prefix("")
    with pytest.raises(StoreError, match="no such artifact"):
        store.copy("projects/a/in/1.jpg", "projects/c/1.jpg")


def test_an_unreachable_endpoint_is_a_store_error_naming_the_key() -> None:
    store = S3Store(bucket="b", endpoint_url="http://127.0.0.1:9", region="us-east-1")
    with pytest.raises(StoreError) as err:
        store.get_bytes("results/x.json")
    assert err.value.key == "results/x.json" and "S3 could not read" in str(err.value)


def test_the_sweep_of_unfinished_uploads_keeps_to_its_own_prefix(store: S3Store, s3_endpoint: str) -> None:
    # Two deployments share a bucket; one starting up must not abort the other's uploads.
    other = S3Store(bucket=store.bucket, prefix="deploy-2", endpoint_url=s3_endpoint)
    for s in (store, other):
        s.client.create_multipart_upload(Bucket=s.bucket, Key=s.name("videos/v.mp4"))
    gone = store.clear_stale_writes(older_than=0)
    assert gone.count == 1
    left = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == ["deploy-2/videos/v.mp4"]
