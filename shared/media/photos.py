"""Decoding users' photos safely: whatever the file holds, it comes out upright, 8-bit sRGB RGB and no
larger than asked (`decode_photo`), or is refused with a one-line `PhotoError`. The pixel limit is checked
from the header, memory is bounded by the decode budget; EXIF is read by exif.py, the conversion to sRGB
is srgb.py's."""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from shared.errors import PhotoError
from shared.media.area import working_size
from shared.media.budget import MIB, decode_budget
from shared.media.exif import SWAPS_AXES, capture_time, make_upright, orientation_of, read_exif
from shared.media.heif import item_data
from shared.media.pngbands import BAND_PIXELS, PngBands
from shared.media.srgb import is_8bit, to_srgb

log = logging.getLogger(__name__)

# Below this share of rows decoded, a truncated JPEG is refused rather than shown with a grey bottom.
_MIN_DECODED_ROWS = 0.98

_ISOBMFF = ("HEIF", "AVIF")

_PILLOW_BOMB = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True)
class DecodedPhoto:
    """A user's photo, upright, 8-bit sRGB, long side <= the `max_side` it was decoded with."""

    rgb: np.ndarray
    """H x W x 3 uint8, RGB order, sRGB."""
    original_width: int
    """Upright width of the full-size picture in the file, before any downscale."""
    original_height: int
    orientation: int
    """EXIF orientation (1..8) the file asked for and that was applied (1: none)."""
    captured_at: datetime | None
    """EXIF capture time as the camera's clock showed it (naive: offsets are often missing, and naive
    and aware datetimes cannot be compared when photos are put in order)."""
    format: str
    """Pillow's name of the container: JPEG, PNG, HEIF, AVIF, ..."""

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


@functools.cache
def _register_openers() -> None:
    """HEIC/HEIF through pillow-heif (it applies `irot`/`imir` itself and resets the EXIF orientation to 1);
    AVIF stays with Pillow's own plugin (it reports `irot`/`imir` as an EXIF orientation to apply)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def decode_photo(*, path: Path, max_pixels: int, max_side: int, name: str | None = None) -> DecodedPhoto:
    """Decode the first picture of an image file into an upright 8-bit sRGB RGB array.

    The header's pixel count is checked against `max_pixels` before anything is decompressed. Every
    failure, whatever Pillow or its plugins raised, becomes one `PhotoError` with a one-line reason
    (`name`, default the file name, says which photo)."""
    label = name or path.name
    _register_openers()
    if Image.MAX_IMAGE_PIXELS is not None and max_pixels > Image.MAX_IMAGE_PIXELS:
        # Pillow's own guard (a warning past MAX_IMAGE_PIXELS, an error past twice that) must not refuse
        # what ours accepts: a 200 MP phone photo is past its default 179 MP. Only ever raised.
        Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        size = path.stat().st_size
    except OSError as err:
        raise PhotoError(f"cannot read the file ({err.strerror or err})", name=label) from None
    if size == 0:
        raise PhotoError("empty file (0 bytes)", name=label)
    try:
        return _decode(path=path, max_pixels=max_pixels, max_side=max_side, label=label)
    except PhotoError:
        raise
    except Exception as err:
        # The file is untrusted input handed to C decoders and many plugins: whatever they raise means
        # this photo cannot be used, and the rest of the job must go on.
        log.debug("decoding %s failed", label, exc_info=True)
        raise PhotoError(f"cannot decode: {_one_line(err)}", name=label) from err


def _decode(*, path: Path, max_pixels: int, max_side: int, label: str) -> DecodedPhoto:
    im = _open_checked(source=path, max_pixels=max_pixels, label=label)
    try:
        fmt = im.format or "unknown"
        width, height = im.size
        if fmt in _ISOBMFF:
            _refuse_cut_off_items(path=path, label=label)
        _draft(im=im, max_side=max_side)
        bands = PngBands.of(im=im, path=path, label=label)
        needed = _peak_bytes(im=im, banded=bands is not None, size=(width, height), max_side=max_side)
        budget = decode_budget()
        if needed > budget.limit:
            log.info("%s: decoding this %dx%d %s takes about %d MiB at once, over the %d MiB budget: it "
                     "decodes alone", label, width, height, fmt, needed // MIB, budget.limit // MIB)
        with budget.hold(needed):
            if bands is None:
                im = _load(im=im, path=path, max_pixels=max_pixels, max_side=max_side, label=label)
            rgb = to_srgb(im=im, bands=bands if bands is not None else _bands_of(im), max_side=max_side)
            exif = read_exif(im=im, label=label, trailing=bands.exif if bands is not None else None)
    finally:
        im.close()
    orientation = orientation_of(exif)
    # pillow-heif applies the container's rotation itself and leaves EXIF saying 1; keep what was asked.
    asked = im.info.get("original_orientation") or orientation
    rgb = make_upright(rgb, orientation=orientation)
    if orientation in SWAPS_AXES:
        width, height = height, width
    return DecodedPhoto(
        rgb=np.ascontiguousarray(rgb),
        original_width=width,
        original_height=height,
        orientation=asked if isinstance(asked, int) and 1 <= asked <= 8 else orientation,
        captured_at=capture_time(exif),
        format=fmt,
    )


def _load(*, im: Image.Image, path: Path, max_pixels: int, max_side: int, label: str) -> Image.Image:
    """Decode `im` whole (at its draft scale). A JPEG whose data ends early comes back as a new image when
    nearly every row was in the file (then `im` is closed), and is refused otherwise."""
    try:
        im.load()
        return im
    except OSError as err:
        if "truncated" not in str(err) or im.format not in ("JPEG", "MPO"):
            raise PhotoError(f"truncated or corrupt: {_one_line(err)}", name=label) from None
    im.close()
    return _recover_truncated_jpeg(path=path, max_pixels=max_pixels, max_side=max_side, label=label)


def _refuse_cut_off_items(*, path: Path, label: str) -> None:
    """libheif decodes a cut-off HEIC without complaint (missing tiles come out flat green): compare the
    item data the file's index promises with what the file holds."""
    items = item_data(path)
    if items is not None and not items.complete:
        share = items.present / items.expected
        raise PhotoError(f"truncated or corrupt: the file ends after {share:.0%} of the picture's data "
                         f"({items.present} of {items.expected} bytes)", name=label)


# Transient buffers of one band on its way to the working size: 8-bit, float32, colour-managed and
# flattened copies, and the resized rows (at most 4 channels of 4 bytes in each).
_BAND_BYTES = BAND_PIXELS * 48
# The working-size picture, alive at once at the worst moment: the shrunk array (float32 for wide greys),
# Pillow's copy of it and the colour-managed result (measured: 230 MiB for a 3840 x 3840 grey PNG).
_WORKING_BYTES_PER_PIXEL = 14
# Decoders that hand their whole output to Pillow as one buffer, which Pillow then copies.
_DECODER_COPIES = frozenset({"HEIF", "AVIF", "WEBP"})


def _peak_bytes(*, im: Image.Image, banded: bool, size: tuple[int, int], max_side: int) -> int:
    """About the most memory decoding `im` (opened, draft applied) to `max_side` holds at once; `size` is
    its size in the file."""
    width, height = im.size
    out_w, out_h = working_size(width=width, height=height, max_side=max_side)
    needed = out_w * out_h * _WORKING_BYTES_PER_PIXEL
    if banded:
        return needed + _BAND_BYTES
    # The decoded picture (Pillow keeps 1, 2 or 4 bytes a pixel)...
    needed += width * height * (1 if im.mode in ("1", "L", "P") else 2 if im.mode.startswith("I;16") else 4)
    # ...and either the numpy copy OpenCV shrinks whole, or the bands it is converted in (see _bands_of).
    needed += width * height * len(im.getbands()) if is_8bit(im) else _BAND_BYTES
    if im.format in _DECODER_COPIES:
        needed += width * height * 4
    if im.format in ("JPEG", "MPO") and im.info.get("progressive"):
        # A progressive JPEG keeps every DCT coefficient of the full-size picture (2 bytes a sample)
        # until its last scan, whatever scale it is decoded at.
        layers = getattr(im, "layer", None) or [("", 1, 1, 0)] * 3
        h_max, v_max = max(h for _, h, _, _ in layers), max(v for _, _, v, _ in layers)
        samples = sum(h * v for _, h, v, _ in layers) / (h_max * v_max)
        needed += int(size[0] * size[1] * samples * 2)
    return needed


def _bands_of(im: Image.Image) -> Iterator[Image.Image]:
    """A decoded picture as bands of rows (copies), so that what is made from it (8-bit, colour-managed,
    flattened copies) is made a band at a time. A picture that needs none of that is one band: OpenCV
    shrinks it fastest whole, and its one copy is counted in _peak_bytes."""
    width, height = im.size
    if is_8bit(im):
        yield im
        return
    step = max(1, BAND_PIXELS // width)
    for top in range(0, height, step):
        yield im.crop((0, top, width, min(height, top + step)))


def _open_checked(*, source: Path | io.BytesIO, max_pixels: int, label: str) -> Image.Image:
    """Open (header only) and refuse pictures that claim too many pixels, or none."""
    try:
        im = Image.open(source)
    except Image.DecompressionBombError as err:
        # Pillow's own guard fired first (its hard limit is 2 x MAX_IMAGE_PIXELS); the message is ours.
        match = _PILLOW_BOMB.search(str(err))
        claimed = f"claims {match.group(1)} pixels" if match else "claims too many pixels"
        limit = min(max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or max_pixels))
        raise PhotoError(f"{claimed}, over the limit of {limit}", name=label) from None
    except UnidentifiedImageError:
        raise PhotoError(
            "not a picture in a format we can read (unknown format or broken header)", name=label
        ) from None
    except ValueError as err:
        if "Decompressed data too large" in str(err):
            raise PhotoError(
                "a metadata chunk inflates past Pillow's safety limit (zlib bomb); refused unread", name=label
            ) from None
        raise PhotoError(f"cannot decode: {_one_line(err)}", name=label) from None
    except (OSError, SyntaxError, EOFError) as err:
        raise PhotoError(f"truncated or corrupt: {_one_line(err)}", name=label) from None
    width, height = im.size
    if width <= 0 or height <= 0:
        im.close()
        raise PhotoError(f"has no pixels ({width}x{height})", name=label)
    if width * height > max_pixels:
        im.close()
        raise PhotoError(
            f"claims {width * height} pixels ({width}x{height}), over the limit of {max_pixels}", name=label
        )
    return im


def _draft(*, im: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves at least `max_side` pixels:
    much faster than decoding in full and throwing most of it away."""
    long_side = max(im.size)
    if im.format not in ("JPEG", "MPO") or long_side <= max_side:
        return
    scale = max_side / long_side
    im.draft(im.mode, (int(np.ceil(im.size[0] * scale)), int(np.ceil(im.size[1] * scale))))


def _recover_truncated_jpeg(*, path: Path, max_pixels: int, max_side: int, label: str) -> Image.Image:
    """Decode a JPEG whose data ends early, then accept it only if (nearly) every row was in the file.

    Pillow's LOAD_TRUNCATED_IMAGES does the same (it appends an end-of-image marker) but is a process-wide
    switch; appending the marker ourselves keeps other threads' decoding strict. Missing rows come out as
    one flat colour repeated to the bottom, which is what is measured."""
    data = path.read_bytes() + b"\xff\xd9"
    im = _open_checked(source=io.BytesIO(data), max_pixels=max_pixels, label=label)
    _draft(im=im, max_side=max_side)
    try:
        im.load()
    except OSError as err:
        raise PhotoError(f"truncated or corrupt: {_one_line(err)}", name=label) from None
    present = _decoded_share(np.asarray(im.convert("L")))
    if present < _MIN_DECODED_ROWS:
        raise PhotoError(f"truncated or corrupt: the file ends after {present:.0%} of the picture's rows", name=label)
    log.info("%s: JPEG data ends early but every row decoded; accepted", label)
    return im


def _decoded_share(grey: np.ndarray) -> float:
    """Share of rows above the flat run that a decoder fills in after the data ran out."""
    rows = grey.astype(np.int16)
    last = rows[-1]
    if int(last.max()) - int(last.min()) > 2:
        return 1.0
    same = np.abs(rows - last).max(axis=1) <= 2
    run = int(np.argmin(same[::-1])) if not same.all() else len(same)
    return 1.0 - run / len(same)








def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
