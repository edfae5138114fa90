"""Answering a request for a stored file (a video, a poster, a thumbnail) from whichever store holds it.

One answer for every store: `HEAD` as well as `GET`; an `ETag` and `Last-Modified`, with
`If-None-Match` (else `If-Modified-Since`) answered 304; one byte range answered 206 (or 416), and a
`Range` this does not serve (another unit, several ranges, garbage, or an `If-Range` that no longer
holds) ignored for the whole file, as RFC 9110 §14.2 says. From a folder the bytes are read from the
file; from S3 a range is a ranged GET, so a <video> seeks without the whole file passing through here,
and the page never needs a second origin or a URL that expires while it is open."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from stat import S_ISREG

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from api.errors import http_error
from shared.errors import StoreError
from shared.s3store import S3Store
from shared.store import ArtifactStore, LocalStore

CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# What a 304 repeats of the 200 it stands for (RFC 9110 §15.4.5); never the body's length or type.
_NOT_MODIFIED_KEEPS = frozenset({"etag", "last-modified", "cache-control", "expires", "vary", "content-location"})


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int
    """Inclusive, as in HTTP."""

    @property
    def length(self) -> int:
        return self.end - self.start + 1


@dataclass(frozen=True)
class Validators:
    """What identifies this version of a file: its entity tag (quoted) and when it last changed."""

    etag: str
    modified: datetime | None

    @property
    def last_modified(self) -> str | None:
        return format_datetime(self.modified.astimezone(UTC), usegmt=True) if self.modified else None


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


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def not_modified(request: Request, validators: Validators) -> bool:
    """Whether the client's copy is this version (RFC 9110 §13.1.2-3: If-None-Match by weak comparison,
    `*` for any; only without it, If-Modified-Since)."""
    none_match = request.headers.get("if-none-match")
    if none_match is not None:
        tags = [t for t in (p.strip() for p in none_match.split(",")) if t]
        return "*" in tags or _opaque(validators.etag) in {_opaque(t) for t in tags}
    since = request.headers.get("if-modified-since")
    if since is None or validators.modified is None:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # an unreadable date is ignored (§13.1.3)
    if when.tzinfo is None:
        return False
    return validators.modified.replace(microsecond=0) <= when


def _range_still_applies(request: Request, validators: Validators) -> bool:
    """If-Range (RFC 9110 §13.1.5): the range is for this version only; a strong tag or the exact date."""
    condition = request.headers.get("if-range")
    if condition is None:
        return True
    condition = condition.strip()
    if condition.startswith('"'):
        return not validators.etag.startswith("W/") and condition == validators.etag
    return condition == validators.last_modified


def _disposition(download_name: str) -> str:
    safe = download_name.replace('"', "").replace("\\", "")
    return f'attachment; filename="{safe}"'


def stored_file(*, request: Request, store: ArtifactStore, key: str, media_type: str,
                download_name: str | None = None, headers: Mapping[str, str] | None = None,
                missing: str = "the file is gone from the store", hint: str | None = None) -> Response:
    """The stored `key` as an HTTP response (see the module's docstring); 404 (`missing`) when absent.

    `download_name` asks the browser to save it under that name."""
    extra = dict(headers or {})
    if download_name:
        extra["Content-Disposition"] = _disposition(download_name)
    if isinstance(store, LocalStore):
        path = store.path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is None or not S_ISREG(st.st_mode):
            raise http_error(404, missing, hint=hint)
        # Artifacts are written once, by rename: the time and size name the version.
        validators = Validators(etag=f'"{st.st_mtime_ns:x}-{st.st_size:x}"',
                                modified=datetime.fromtimestamp(st.st_mtime, UTC))
        return _ranged(request=request, size=st.st_size, media_type=media_type, headers=extra,
                       validators=validators, body=lambda r: _file_chunks(path, r))
    if isinstance(store, S3Store):
        return _s3_response(request=request, store=store, key=key, media_type=media_type, headers=extra,
                            missing=missing, hint=hint)
    try:  # any other store: the bytes in memory (stores of this kind hold small test files)
        data = store.get_bytes(key)
    except StoreError:
        raise http_error(404, missing, hint=hint) from None
    validators = Validators(etag=f'"{hashlib.sha256(data).hexdigest()[:32]}"', modified=None)
    return _ranged(request=request, size=len(data), media_type=media_type, headers=extra, validators=validators,
                   body=lambda r: iter([data[r.start:r.end + 1]]))


def _file_chunks(path: Path, span: ByteRange) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(span.start)
        left = span.length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _s3_response(*, request: Request, store: S3Store, key: str, media_type: str, headers: dict[str, str],
                 missing: str, hint: str | None) -> Response:
    try:
        head = store.head(key)
    except StoreError:
        if not store.exists(key):
            raise http_error(404, missing, hint=hint) from None
        raise
    modified, size = head.get("LastModified"), int(head["ContentLength"])
    # Every S3 server sends an ETag; should one not, the time and size name the version, as for a folder.
    made = int(modified.timestamp()) if modified else 0
    validators = Validators(etag=str(head.get("ETag") or f'"{made:x}-{size:x}"'), modified=modified)
    return _ranged(request=request, size=size, media_type=media_type, headers=headers,
                   validators=validators,
                   body=lambda r: store.iter_range(key, start=r.start, end=r.end, chunk_size=CHUNK))


def _ranged(*, request: Request, size: int, media_type: str, headers: dict[str, str], validators: Validators,
            body: Callable[[ByteRange], Iterator[bytes]]) -> Response:
    """A 304, a 200 with the whole file, a 206 with the asked range, or a 416; `body(range)` yields the
    bytes and is called only when bytes are sent (never for HEAD, 304 or 416)."""
    headers["Accept-Ranges"] = "bytes"
    headers["ETag"] = validators.etag
    if validators.last_modified:
        headers["Last-Modified"] = validators.last_modified
    if not_modified(request, validators):
        return Response(status_code=304, headers={k: v for k, v in headers.items() if k.lower() in _NOT_MODIFIED_KEEPS})
    asked_for = request.headers.get("range") if _range_still_applies(request, validators) else None
    try:
        asked = parse_range(asked_for, size=size)
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
