"""S3Store: the artifact store on AWS S3 or any S3-compatible server (MinIO, Cloudflare R2, Ceph, moto).

The same contract as LocalStore, with the same guarantee that matters: no reader ever sees half an
object. S3 gives that for free when we use it right: a PutObject or a multipart upload becomes
visible only when it completes, so every write here is one of those two, and a multipart upload that
fails is aborted (its parts are never visible and stop costing storage). Uploads stream from a file
object one part at a time, so memory stays bounded by `part_size` whatever the file's size.

boto3 is imported when a store is built, never at module import; credentials come from boto3's
usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, an instance role) and are never
logged."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from shared.errors import StoreError
from shared.store import StaleWrites, _check_key

log = logging.getLogger(__name__)

MIB = 1 << 20
MIN_PART_SIZE = 5 * MIB
"""S3's smallest part (all but the last) of a multipart upload."""

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """Read `size` bytes unless the stream ends first (a socket or pipe may return short reads)."""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class S3Store:
    """Artifacts as objects `prefix + key` in one bucket. Keys follow LocalStore's rules."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any | None = None,
        part_size: int = 8 * MIB,
        url_seconds: int = 3600,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum part)")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.url_seconds = url_seconds
        self.client = client if client is not None else self._client(endpoint_url=endpoint_url, region=region)

    @staticmethod
    def _client(*, endpoint_url: str | None, region: str | None) -> Any:
        import boto3
        from botocore.config import Config

        # Path-style addressing for custom endpoints: MinIO and most self-hosted servers have no
        # wildcard DNS for virtual-hosted buckets. Retries cover throttling (503 SlowDown) and resets.
        config = Config(
            signature_version="s3v4",
            retries={"max_attempts": 5, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)

    # ------------------------------------------------------------------ names and errors

    def name(self, key: str) -> str:
        """The object name of `key` in the bucket."""
        return self.prefix + _check_key(key)

    @contextlib.contextmanager
    def _errors(self, key: str, action: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING:
                raise StoreError("no such artifact", key=key) from None
            raise StoreError(f"S3 could not {action} ({code or 'error'})", key=key) from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3 could not {action} ({exc.__class__.__name__})", key=key) from exc

    # ------------------------------------------------------------------ the ArtifactStore contract

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        name = self.name(key)
        with self._errors(key, "look up the object"):
            try:
                self.client.head_object(Bucket=self.bucket, Key=name)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
                    return False
                raise
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        if not data:
            raise StoreError("nothing was written", key=key)
        with self._errors(key, "store the object"):
            self.client.put_object(Bucket=self.bucket, Key=self.name(key), Body=data)

    def get_bytes(self, key: str) -> bytes:
        with self._errors(key, "read the object"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        return data

    def put_file(self, key: str, path: Path) -> None:
        # A copy is faithful, as in LocalStore: an empty upload stays empty.
        with Path(path).open("rb") as f:
            self.put_stream(key, f, allow_empty=True)

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """Download the object to a private temporary file (streamed to disk) for the block's duration."""
        name = self.name(key)
        folder = Path(tempfile.mkdtemp(prefix="momentloop-s3-"))
        try:
            target = folder / PurePosixPath(key).name
            with self._errors(key, "download the object"), target.open("wb") as f:
                self.client.download_fileobj(self.bucket, name, f)
            yield target
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextlib.contextmanager
    def write_path(self, key: str, *, suffix: str = "", allow_empty: bool = False) -> Iterator[Path]:
        """Yield a local temporary file; it is uploaded as `key` only if the block succeeds."""
        name = self.name(key)
        folder = Path(tempfile.mkdtemp(prefix="momentloop-s3-"))
        try:
            tmp = folder / ("out" + (suffix or PurePosixPath(name).suffix))
            yield tmp
            if not tmp.exists() or (tmp.stat().st_size == 0 and not allow_empty):
                raise StoreError("nothing was written", key=key)
            with tmp.open("rb") as f:
                self.put_stream(key, f, allow_empty=allow_empty)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def url(self, key: str) -> str:
        """A time-limited GET URL (the object need not be public)."""
        return self.presigned_get(key)

    def ping(self) -> None:
        """StoreError unless the bucket answers: one list request of at most one key."""
        with self._errors(self.prefix or "/", "reach the bucket"):
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)

    def clear_stale_writes(self, *, older_than: float) -> StaleWrites:
        """Abort the multipart uploads under this store's prefix begun more than `older_than` seconds ago.

        `put_stream` aborts its own upload when it fails; only a killed process leaves one open, whose
        parts are never visible but are billed until aborted. Single PutObjects leave nothing behind."""
        from botocore.exceptions import ClientError

        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        count = size = 0
        with self._errors(self.prefix or "/", "list unfinished uploads"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
            stale = [u for page in pages for u in page.get("Uploads", []) if u["Initiated"] < cutoff]
        for upload in stale:
            name, upload_id = upload["Key"], upload["UploadId"]
            with self._errors(name, "abort an unfinished upload"):
                try:
                    parts = self.client.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=name,
                                                                              UploadId=upload_id)
                    part_bytes = sum(p["Size"] for page in parts for p in page.get("Parts", []))
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
                        continue  # finished or aborted by its own process since the listing
                    raise
            count += 1
            size += part_bytes
        return StaleWrites(count=count, bytes=size)

    # ------------------------------------------------------------------ beyond the contract

    def put_stream(self, key: str, stream: BinaryIO, *, allow_empty: bool = False) -> int:
        """Upload everything `stream` yields as `key`, one part in memory at a time; returns the size.

        Up to one part: a single PutObject. More: a multipart upload, completed only after the last
        part is in, aborted on any failure, so the object either appears whole or not at all."""
        name = self.name(key)
        first = _read_up_to(stream, self.part_size)
        if len(first) < self.part_size:
            if not first and not allow_empty:
                raise StoreError("nothing was written", key=key)
            with self._errors(key, "store the object"):
                self.client.put_object(Bucket=self.bucket, Key=name, Body=first)
            return len(first)

        with self._errors(key, "start a multipart upload"):
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=name)["UploadId"]
        total = 0
        try:
            parts: list[dict[str, Any]] = []
            chunk = first
            while chunk:
                number = len(parts) + 1
                with self._errors(key, f"upload part {number}"):
                    etag = self.client.upload_part(
                        Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=chunk
                    )["ETag"]
                parts.append({"ETag": etag, "PartNumber": number})
                total += len(chunk)
                chunk = _read_up_to(stream, self.part_size)
            with self._errors(key, "complete the multipart upload"):
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            except Exception:  # the original failure is what the caller needs to see
                log.warning("could not abort multipart upload of %s; a bucket lifecycle rule will", key)
            raise
        return total

    def presigned_get(self, key: str, *, seconds: int | None = None, download_name: str | None = None) -> str:
        """A URL anyone holding it can GET for `seconds`; `download_name` makes browsers save it as a file."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.name(key)}
        if download_name:
            safe = download_name.replace('"', "").replace("\\", "")
            params["ResponseContentDisposition"] = f'attachment; filename="{safe}"'
        with self._errors(key, "sign a download URL"):
            url: str = self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=seconds or self.url_seconds
            )
        return url

    def presigned_put(self, key: str, *, seconds: int | None = None, content_type: str | None = None) -> str:
        """A URL a browser can PUT one file to directly (one request: visible only once complete).

        With `content_type`, the upload must send exactly that Content-Type header."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.name(key)}
        if content_type:
            params["ContentType"] = content_type
        with self._errors(key, "sign an upload URL"):
            url: str = self.client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=seconds or self.url_seconds
            )
        return url

    def head(self, key: str) -> dict[str, Any]:
        """The object's metadata (ContentLength, ETag, LastModified, ...); StoreError when it is absent."""
        with self._errors(key, "look up the object"):
            meta: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        return meta

    def iter_range(self, key: str, *, start: int, end: int, chunk_size: int = 256 * 1024) -> Iterator[bytes]:
        """Bytes `start`..`end` (inclusive) of the object, one chunk in memory at a time (a ranged GET).

        The request is made at once, so a missing object fails here, before any byte is consumed."""
        with self._errors(key, "read the object"):
            body = self.client.get_object(Bucket=self.bucket, Key=self.name(key), Range=f"bytes={start}-{end}")["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(chunk_size=chunk_size)
            finally:
                body.close()

        return chunks()

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy: the bytes never pass through this machine (multipart copy when large)."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=max(self.part_size, 64 * MIB), multipart_chunksize=self.part_size)
        with self._errors(src, f"copy the object to {dst}"):
            self.client.copy(
                CopySource={"Bucket": self.bucket, "Key": self.name(src)},
                Bucket=self.bucket,
                Key=self.name(dst),
                Config=config,
            )

    def list_keys(self, prefix: str = "") -> list[str]:
        """Every key under `prefix` (e.g. one project's folder), sorted."""
        start = self.prefix + prefix.lstrip("/")
        keys: list[str] = []
        with self._errors(prefix or "/", "list objects"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
                keys.extend(obj["Key"][len(self.prefix):] for obj in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        with self._errors(key, "delete the object"):
            self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under `prefix` (a project being removed); returns how many went."""
        if not prefix.strip("/"):
            raise StoreError("refusing to delete the whole store", key=prefix)
        keys = self.list_keys(prefix)
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch = [{"Key": self.name(k)} for k in keys[start:start + 1000]]
            with self._errors(prefix, "delete objects"):
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)
