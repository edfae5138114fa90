"""Receiving one uploaded file: the multipart body is parsed as it streams in and the file's bytes go
straight to a temporary file, counted and hashed on the way. Past the size limit the body is not read
any further. The temporary file becomes an asset only after it was checked (api/media.py), so an upload
that is cut off, refused or killed leaves nothing behind that counts."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from shared.errors import InputError

FORM_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries and part headers around the file, and small extra fields."""


class UploadTooLargeError(InputError):
    """The file (or the request) is over the size limit (HTTP 413)."""


class MalformedUploadError(InputError):
    """The request is not a multipart form with one `file` (HTTP 422, or 415 for another content type)."""

    def __init__(self, message: str, *, wrong_type: bool = False) -> None:
        super().__init__(message, hint="send one file as multipart/form-data, in a field named `file`")
        self.wrong_type = wrong_type


@dataclass(frozen=True)
class ReceivedFile:
    path: Path
    name: str
    size: int
    digest: str


_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(raw: str) -> str:
    """The file's own name, without any folder a client put in front and without control characters."""
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = _UNSAFE.sub("", name).strip()
    return name[:200] or "upload"


class _Form:
    """Parser callbacks: the `file` part goes to `out`; other parts are counted and dropped."""

    def __init__(self, *, out: IO[bytes], limit: int) -> None:
        self.out = out
        self.limit = limit
        self.size = 0
        self.hasher = hashlib.sha256()
        self.files = 0
        self.name: str | None = None
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self.file_ended = False

    def on_part_begin(self) -> None:
        self._headers = {}
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data":
            raise MalformedUploadError("a form part has no `Content-Disposition: form-data` header")
        if params.get(b"name") == b"file":
            self.files += 1
            if self.files > 1:
                raise MalformedUploadError("one file per request, please")
            self._in_file = True
            self.name = clean_name(params.get(b"filename", b"upload").decode("utf-8", "replace"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        chunk = data[start:end]
        self.size += len(chunk)
        if self.size > self.limit:
            raise UploadTooLargeError(f"the file is over the {self.limit // (1024 * 1024)} MiB limit",
                                      hint="make it smaller, or give a shorter song")
        self.out.write(chunk)
        self.hasher.update(chunk)

    def on_part_end(self) -> None:
        if self._in_file:
            self.file_ended = True
        self._in_file = False


async def receive_file(*, request: Request, folder: Path, limit: int) -> ReceivedFile:
    """Stream the request's `file` to a new file in `folder`. The caller owns (and removes) it."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedUploadError("the body must be multipart/form-data", wrong_type=True)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        # Refused before a byte of the body is read.
        raise UploadTooLargeError(f"the file is over the {limit // (1024 * 1024)} MiB limit "
                                  f"({int(declared) / (1024 * 1024):.1f} MiB sent)",
                                  hint="make it smaller, or give a shorter song")
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".upload-", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            form = _Form(out=out, limit=limit)
            try:
                parser = MultipartParser(boundary, {
                    "on_part_begin": form.on_part_begin,
                    "on_header_field": form.on_header_field,
                    "on_header_value": form.on_header_value,
                    "on_header_end": form.on_header_end,
                    "on_headers_finished": form.on_headers_finished,
                    "on_part_data": form.on_part_data,
                    "on_part_end": form.on_part_end,
                })
            except ValueError as exc:
                raise MalformedUploadError(f"bad multipart boundary ({exc})") from None
            received = 0
            async for chunk in request.stream():
                received += len(chunk)
                if received > limit + FORM_OVERHEAD:
                    raise UploadTooLargeError(f"the request is over the {limit // (1024 * 1024)} MiB limit",
                                              hint="make it smaller, or give a shorter song")
                try:
                    parser.write(chunk)
                except InputError:
                    raise
                except Exception as exc:  # python-multipart's own parse errors
                    raise MalformedUploadError(f"the multipart body cannot be parsed ({exc})") from None
            try:
                parser.finalize()
            except Exception as exc:
                raise MalformedUploadError(f"the multipart body cannot be parsed ({exc})") from None
            if form.files == 0 or form.name is None:
                raise MalformedUploadError("no `file` field in the form")
            if not form.file_ended:
                raise MalformedUploadError("the body ended before the file did (the upload was cut short)")
            out.flush()
        return ReceivedFile(path=path, name=form.name, size=form.size, digest=form.hasher.hexdigest())
    except BaseException:
        # Refused, cut off, or the client went away (ClientDisconnect): nothing of it stays.
        path.unlink(missing_ok=True)
        raise
