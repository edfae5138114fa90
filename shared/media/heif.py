"""Where a HEIF/AVIF file says its pictures' data lies, to tell a cut-off file from a whole one.

libheif decodes whatever tiles it finds and fills the missing ones with a flat colour: a HEIC cut in half
comes out at full size with part of it solid green, and no error. The file's `iloc` box (ISO/IEC 14496-12,
8.11.3) lists every item's byte ranges; a file shorter than they reach was cut."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_MAX_ILOC = 16 * 1024 * 1024  # a 48-tile iPhone HEIC's is ~1 KiB; a bigger one is not worth reading


@dataclass(frozen=True)
class ItemData:
    """How much of the item data that `iloc` places in the file is really there."""

    present: int
    expected: int

    @property
    def complete(self) -> bool:
        return self.present >= self.expected


def item_data(path: Path) -> ItemData | None:
    """The file-offset extents of every item in the file's `meta`/`iloc`, against the file's length; None
    when there is no `iloc` to read (a sequence-only AVIF, a box layout this does not know)."""
    with path.open("rb") as f:
        size = f.seek(0, 2)
        meta = _find(f, start=0, end=size, kind=b"meta")
        if meta is None:
            return None
        iloc = _find(f, start=meta[0] + 4, end=meta[1], kind=b"iloc")  # meta is a FullBox: 4 bytes first
        if iloc is None or iloc[1] - iloc[0] > _MAX_ILOC:
            return None
        f.seek(iloc[0])
        payload = f.read(iloc[1] - iloc[0])
    try:
        extents = _file_extents(payload)
    except (struct.error, ValueError):
        return None
    present = sum(max(0, min(offset + length, size) - offset) for offset, length in extents)
    return ItemData(present=present, expected=sum(length for _, length in extents))


def _find(f: BinaryIO, *, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(payload start, payload end) of the first box of type `kind` among the boxes in [start, end)."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return None
        size, box = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            if len(head) < 16:
                return None
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            return None
        if box == kind:
            return pos + header, min(pos + size, end)
        pos += size
    return None


def _file_extents(payload: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each extent stored at a file offset (construction method 0) with a length."""
    version = payload[0]
    if version > 2:
        raise ValueError(f"iloc version {version}")
    at = 4
    sizes = int.from_bytes(payload[at:at + 2], "big")
    at += 2
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    id_size = 4 if version == 2 else 2
    count = int.from_bytes(payload[at:at + id_size], "big")
    at += id_size

    def read(n: int) -> int:
        nonlocal at
        if at + n > len(payload):
            raise ValueError("iloc ends early")
        value = int.from_bytes(payload[at:at + n], "big")
        at += n
        return value

    extents = []
    for _ in range(count):
        read(id_size)
        method = read(2) & 15 if version in (1, 2) else 0
        read(2)  # data_reference_index
        base = read(base_size)
        for _ in range(read(2)):
            read(index_size)
            offset, length = read(offset_size), read(length_size)
            if method == 0 and length > 0:  # length 0: "to the end of the file", nothing to check
                extents.append((base + offset, length))
    return extents
