"""Answering a request for a stored file (a video, a poster, a thumbnail) from whichever store holds it.

A folder: Starlette's FileResponse (Range, ETag, sendfile). S3: the object is streamed through the app,
and a `Range` request becomes a ranged GET, so a <video> seeks without the whole file passing through
here, and the page never needs a second origin or a URL that expires while it is open."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from api.errors import http_error
from shared.errors import StoreError
from shared.s3store import S3Store
from shared.store import ArtifactStore, LocalStore

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in HTTP."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class UnsatisfiableRangeError(Exception):
    """The range starts past the end of the file (answered 416)."""


def parse_range(header: str | None, *, size: int) -> ByteRange | None:
    """The one byte range a `Range` header asks for; None to send the whole file.

    A header this does not understand (another unit, several ranges, garbage) is ignored, as RFC 9110
    allows: the whole file is a valid answer to any of them."""
    if not header:
        return None
    m = _RANGE.match(header.strip())
    if m is None or (not m[1] and not m[2]):
        return None
    if not m[1]:  # the last N bytes
        suffix = int(m[2])
        if suffix == 0 or size == 0:
            raise UnsatisfiableRangeError()
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(m[1])
    end = int(m[2]) if m[2] else size - 1
    if start >= size:
        raise UnsatisfiableRangeError()
    if end < start:
        return None
    return ByteRange(start, min(end, size - 1))


def _disposition(download_name: str) -> str:
    safe = download_name.replace('"', "").replace("\\", "")
    return f'attachment; filename="{safe}"'


def stored_file(*, request: Request, store: ArtifactStore, key: str, media_type: str,
                download_name: str | None = None, headers: Mapping[str, str] | None = None,
                missing: str = "the file is gone from the store", hint: str | None = None) -> Response:
    """The stored `key` as an HTTP response, `Range` answered with 206 (or 416); 404 (`missing`) when absent.

    `download_name` asks the browser to save it under that name."""
    extra = dict(headers or {})
    if isinstance(store, LocalStore):
        path = store.path(key)
        if not path.is_file():
            raise http_error(404, missing, hint=hint)
        if download_name:
            return FileResponse(path, media_type=media_type, filename=download_name,
                                content_disposition_type="attachment", headers=extra)
        return FileResponse(path, media_type=media_type, headers=extra)
    if download_name:
        extra["Content-Disposition"] = _disposition(download_name)
    if isinstance(store, S3Store):
        return _s3_response(request=request, store=store, key=key, media_type=media_type, headers=extra,
                            missing=missing, hint=hint)
    try:  # any other store: the bytes in memory (stores of this kind hold small test files)
        data = store.get_bytes(key)
    except StoreError:
        raise http_error(404, missing, hint=hint) from None
    return _ranged(request=request, size=len(data), media_type=media_type, headers=extra,
                   body=lambda r: iter([data[r.start:r.end + 1]]))


def _s3_response(*, request: Request, store: S3Store, key: str, media_type: str, headers: dict[str, str],
                 missing: str, hint: str | None) -> Response:
    try:
        head = store.head(key)
    except StoreError:
        if not store.exists(key):
            raise http_error(404, missing, hint=hint) from None
        raise
    if head.get("ETag"):
        headers.setdefault("ETag", str(head["ETag"]))
    if head.get("LastModified") is not None:
        headers.setdefault("Last-Modified", format_datetime(head["LastModified"].astimezone(UTC), usegmt=True))
    return _ranged(request=request, size=int(head["ContentLength"]), media_type=media_type, headers=headers,
                   body=lambda r: store.iter_range(key, start=r.start, end=r.end, chunk_size=CHUNK))


def _ranged(*, request: Request, size: int, media_type: str, headers: dict[str, str],
            body: Callable[[ByteRange], Iterator[bytes]]) -> Response:
    """A 200 with the whole file, a 206 with the asked range, or a 416; `body(range)` yields the bytes."""
    headers["Accept-Ranges"] = "bytes"
    try:
        asked = parse_range(request.headers.get("range"), size=size)
    except UnsatisfiableRangeError:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    if size == 0:
        return Response(content=b"", media_type=media_type, headers=headers)
    span = asked or ByteRange(0, size - 1)
    headers["Content-Length"] = str(span.length)
    status = 200
    if asked is not None:
        status = 206
        headers["Content-Range"] = f"bytes {span.start}-{span.end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, media_type=media_type, headers=headers)
    return StreamingResponse(body(span), status_code=status, media_type=media_type, headers=headers)


def stored_size(*, store: ArtifactStore, key: str) -> int:
    """The size in bytes of the stored `key` (StoreError when it is absent)."""
    if isinstance(store, LocalStore):
        try:
            return store.path(key).stat().st_size
        except FileNotFoundError:
            raise StoreError("no such artifact", key=key) from None
    if isinstance(store, S3Store):
        return int(store.head(key)["ContentLength"])
    return len(store.get_bytes(key))
