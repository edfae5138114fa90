"""What a photo's EXIF says about it: which way is up, and when it was taken."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

import numpy as np
from PIL import ExifTags, Image, PngImagePlugin

log = logging.getLogger(__name__)

# EXIF orientation -> what makes the picture upright (the table of ImageOps.exif_transpose), as numpy views:
# one copy at the end instead of three through Pillow.
_UPRIGHT: dict[int, Callable[[np.ndarray], np.ndarray]] = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, k=-1),
    7: lambda a: a.transpose(1, 0, 2)[::-1, ::-1],
    8: lambda a: np.rot90(a, k=1),
}
SWAPS_AXES = frozenset({5, 6, 7, 8})
"""The orientations that turn the picture a quarter turn: its upright width is its stored height."""

_EXIF_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def read_exif(*, im: Image.Image, label: str, trailing: bytes | None) -> Image.Exif:
    try:
        if isinstance(im, PngImagePlugin.PngImageFile) and "exif" not in im.info:
            # A PNG read in bands: Pillow's PNG getexif() would decode the whole picture to look for an
            # eXIf chunk after the data; the bands have already read that far.
            if trailing is not None:
                im.info["exif"] = trailing
            return Image.Image.getexif(im)
        return im.getexif()
    except Exception:
        # Corrupt EXIF must not cost the user the photo; it only costs its orientation and date.
        log.warning("%s: unreadable EXIF ignored", label, exc_info=True)
        return Image.Exif()


def orientation_of(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def capture_time(exif: Image.Exif) -> datetime | None:
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        sub = {}
    candidates = (
        (sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.SubsecTimeOriginal)),
        (sub.get(ExifTags.Base.DateTimeDigitized), sub.get(ExifTags.Base.SubsecTimeDigitized)),
        (exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.SubsecTime)),
    )
    for value, subsec in candidates:
        when = _parse_exif_date(value=value, subsec=subsec)
        if when is not None:
            return when
    return None


def _parse_exif_date(*, value: object, subsec: object) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    match = _EXIF_DATE.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    digits = "".join(ch for ch in str(subsec or "") if ch.isdigit())[:6]
    return when.replace(microsecond=int(digits.ljust(6, "0"))) if digits else when


def make_upright(rgb: np.ndarray, *, orientation: int) -> np.ndarray:
    """`rgb` turned and flipped as EXIF `orientation` (1..8) asks: a numpy view, no copy."""
    turn = _UPRIGHT.get(orientation)
    return turn(rgb) if turn is not None else rgb
