"""Reading a PNG's picture a band of rows at a time, so that a huge one never sits in memory whole.

Pillow inflates and unfilters a PNG into one full-size buffer: a 10950 x 10950 16-bit grey file of a few
hundred KB becomes 229 MiB before anything else happens. Here the IDAT stream is inflated with zlib a band
at a time, and Pillow's own PNG decoder unfilters each band: the band is handed to it as a stream of its
own behind an unfiltered copy of the row above it, so its filters (Sub, Up, Average, Paeth) see the same
neighbours as in the whole file. Pillow's raw unpacker then turns the band's bytes into the very pixels
(mode, palette, transparency) a whole-file decode gives."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, PngImagePlugin

from shared.errors import PhotoError

BAND_PIXELS = 1 << 20
"""Pixels per band: a few MiB of buffers per step, whatever the picture's size."""

_READ = 1 << 20
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def _lossless(bits: int) -> tuple[str, tuple[str, ...]] | None:
    """A Pillow mode and rawmode(s) whose unpacking keeps every byte of a row of `bits` bits per pixel and
    whose filter distance is the PNG's own (one byte below 8 bits, else whole pixels). 16-bit colour has
    no such mode: its high bytes and low bytes are unpacked separately and interleaved again."""
    return {8: ("L", ("L",)), 16: ("I;16", ("I;16",)), 24: ("RGB", ("RGB",)), 32: ("RGBA", ("RGBA",)),
            48: ("RGB", ("RGB;16B", "RGB;16L")), 64: ("RGBA", ("RGBA;16B", "RGBA;16L"))}.get(max(bits, 8))


class PngBands:
    """The bands of rows of a non-interlaced PNG opened (header only) by Pillow as `im`, top to bottom,
    each a Pillow image of `im`'s mode with its palette and transparency. After the last band, `exif`
    holds an eXIf chunk found after the picture data (Pillow only sees those by decoding the file whole)."""

    def __init__(self, *, im: PngImagePlugin.PngImageFile, path: Path, label: str,
                 band_pixels: int = BAND_PIXELS) -> None:
        self.im, self.path, self.label, self.band_pixels = im, path, label, band_pixels
        self.exif: bytes | None = None
        with path.open("rb") as f:
            signature_and_ihdr = f.read(33)
        width, height, depth, colour = struct.unpack(">IIBB", signature_and_ihdr[16:26])
        self.width, self.height = width, height
        self.bits = depth * _CHANNELS[colour]
        self.row_bytes = (width * self.bits + 7) // 8
        self.rawmode = str(im.tile[0].args)
        self.offset = int(im.tile[0].offset)

    @classmethod
    def of(cls, *, im: Image.Image, path: Path, label: str, band_pixels: int = BAND_PIXELS) -> PngBands | None:
        """The bands of `im`, or None when it is not a PNG read that way (interlaced, an animation frame
        with its own box, a picture Pillow reads some other way)."""
        if not isinstance(im, PngImagePlugin.PngImageFile) or im.info.get("interlace") or len(im.tile) != 1:
            return None
        tile = im.tile[0]
        if tile.codec_name != "zip" or tile.extents != (0, 0, *im.size) or not isinstance(tile.args, str):
            return None
        with path.open("rb") as f:
            head = f.read(33)
            f.seek(int(tile.offset) - 4)
            first = f.read(4)
        if len(head) < 33 or head[12:16] != b"IHDR" or first != b"IDAT" or head[25] not in _CHANNELS:
            return None
        bands = cls(im=im, path=path, label=label, band_pixels=band_pixels)
        if (bands.width, bands.height) != im.size or _lossless(bands.bits) is None:
            return None
        return bands

    def __iter__(self) -> Iterator[Image.Image]:
        rows_per_band = max(1, self.band_pixels // self.width)
        with self.path.open("rb") as f:
            f.seek(self.offset - 8)
            chunks = _idat_pieces(f)
            inflate = zlib.decompressobj()
            above = bytes(self.row_bytes)  # the row above the first: zeros, as the PNG standard says
            y = 0
            while y < self.height:
                n = min(rows_per_band, self.height - y)
                filtered = self._read(inflate=inflate, chunks=chunks, size=n * (self.row_bytes + 1), y=y)
                raw = self._unfilter(above=above, filtered=filtered, rows=n)
                above = raw[-self.row_bytes:]
                yield self._band(raw=raw, rows=n)
                y += n
            for _ in chunks:  # the rest of the picture data, unread
                pass
            self.exif = _trailing_exif(f)

    def _read(self, *, inflate: zlib._Decompress, chunks: Iterator[bytes], size: int, y: int) -> bytes:
        out = bytearray()
        try:
            while len(out) < size and not inflate.eof:
                data = inflate.unconsumed_tail or next(chunks, b"")
                if not data:
                    break
                out += inflate.decompress(data, size - len(out))
        except zlib.error as err:
            raise PhotoError(f"truncated or corrupt: picture data unreadable ({err})", name=self.label) from None
        if len(out) < size:
            done = y + len(out) // (self.row_bytes + 1)
            raise PhotoError(f"truncated or corrupt: the file ends after {done / self.height:.0%} of the picture's "
                             "rows", name=self.label)
        return bytes(out)

    def _unfilter(self, *, above: bytes, filtered: bytes, rows: int) -> bytes:
        """Undo the PNG filters of `rows` rows: Pillow's decoder, given them behind an unfiltered `above`."""
        lossless = _lossless(self.bits)
        assert lossless is not None
        mode, rawmodes = lossless
        stored = zlib.compressobj(0)
        stream = stored.compress(b"\x00" + above) + stored.compress(filtered) + stored.flush()
        width = self.row_bytes if self.bits <= 8 else self.row_bytes // 2 if self.bits == 16 else self.width
        parts = [Image.frombytes(mode, (width, rows + 1), stream, "zip", rawmode) for rawmode in rawmodes]
        if len(parts) == 1:
            return parts[0].tobytes()[self.row_bytes:]
        high, low = (np.asarray(part) for part in parts)  # 16-bit samples, big-endian: high byte first
        return np.stack([high, low], axis=-1)[1:].tobytes()

    def _band(self, *, raw: bytes, rows: int) -> Image.Image:
        band = Image.frombytes(self.im.mode, (self.width, rows), raw, "raw", self.rawmode)
        if self.im.palette is not None and band.mode == "P":
            palette_mode, palette = self.im.palette.getdata()
            band.putpalette(palette, palette_mode)
        if "transparency" in self.im.info:
            band.info["transparency"] = self.im.info["transparency"]
        return band


def _idat_pieces(f: BinaryIO) -> Iterator[bytes]:
    """The data of consecutive IDAT chunks from the one whose header is at the file's position, in pieces
    of at most _READ bytes; leaves the file just past the last one's CRC."""
    while True:
        head = f.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head)
        if kind != b"IDAT":
            f.seek(-8, 1)
            return
        left = length
        while left:
            piece = f.read(min(left, _READ))
            if not piece:
                return
            left -= len(piece)
            yield piece
        f.read(4)  # CRC: Pillow does not check the picture data's either; zlib's Adler-32 covers it


def _trailing_exif(f: BinaryIO) -> bytes | None:
    """An eXIf chunk between the picture data and IEND, as Pillow would put it in `info["exif"]`."""
    while True:
        head = f.read(8)
        if len(head) < 8:
            return None
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            return None
        if kind == b"eXIf":
            data = f.read(length)
            return b"Exif\x00\x00" + data if len(data) == length else None
        f.seek(length + 4, 1)
