"""Reading and writing pictures in the artifact store, and decoding users' photos safely.

Stages pass pictures as OpenCV-style BGR uint8 arrays; on disk they are high-quality JPEGs (PNG when
they carry alpha). Photos from users go through `decode_photo` first: whatever the file holds, it comes
out upright, 8-bit sRGB RGB and no larger than asked, or is refused with a one-line `PhotoError`."""

from __future__ import annotations

import functools
import io
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from shared.errors import PhotoError, StoreError
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

# Transparent pixels are shown over this: mid-grey reads as "nothing here" under both dark and light content.
NEUTRAL_BACKGROUND = (128, 128, 128)

# EXIF orientation -> the transpose that makes the picture upright (the table of ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SWAPS_AXES = {5, 6, 7, 8}

# Below this share of rows decoded, a truncated JPEG is refused rather than shown with a grey bottom.
_MIN_DECODED_ROWS = 0.98

_PILLOW_BOMB = re.compile(r"\((\d+) pixels\)")
_EXIF_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def load_bgr(*, store: ArtifactStore, key: str) -> np.ndarray:
    """Decode an artifact written by this project (already upright, 8-bit sRGB) as BGR uint8."""
    with store.local_path(key) as path:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise StoreError("artifact is not a decodable picture", key=key)
    return image


def save_bgr(*, store: ArtifactStore, key: str, image: np.ndarray, quality: int = 95) -> None:
    """Encode a BGR uint8 array to `key` (its suffix picks the format: .jpg or .png), atomically."""
    suffix = "." + key.rsplit(".", 1)[-1].lower()
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if suffix in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(suffix, image, params)
    if not ok:
        raise StoreError("could not encode picture", key=key)
    store.put_bytes(key, buf.tobytes())


# ---------------------------------------------------------------- decoding users' photos


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
    fmt = im.format or "unknown"
    width, height = im.size
    try:
        _draft(im=im, max_side=max_side)
        im.load()
    except OSError as err:
        im.close()
        if "truncated" not in str(err) or fmt not in ("JPEG", "MPO"):
            raise PhotoError(f"truncated or corrupt: {_one_line(err)}", name=label) from None
        im = _recover_truncated_jpeg(path=path, max_pixels=max_pixels, max_side=max_side, label=label)
    except BaseException:
        im.close()
        raise
    with im:
        exif = _read_exif(im=im, label=label)
        orientation = _orientation(exif)
        # pillow-heif applies the container's rotation itself and leaves EXIF saying 1; keep what was asked.
        asked = im.info.get("original_orientation") or orientation
        captured_at = _captured_at(exif)
        rgb = _to_srgb(im=im, max_side=max_side)
    method = _UPRIGHT.get(orientation)
    if method is not None:
        rgb = _transpose(rgb=rgb, method=method)
    if orientation in _SWAPS_AXES:
        width, height = height, width
    return DecodedPhoto(
        rgb=np.ascontiguousarray(rgb),
        original_width=width,
        original_height=height,
        orientation=asked if isinstance(asked, int) and 1 <= asked <= 8 else orientation,
        captured_at=captured_at,
        format=fmt,
    )


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


def _read_exif(*, im: Image.Image, label: str) -> Image.Exif:
    try:
        return im.getexif()
    except Exception:
        # Corrupt EXIF must not cost the user the photo; it only costs its orientation and date.
        log.warning("%s: unreadable EXIF ignored", label, exc_info=True)
        return Image.Exif()


def _orientation(exif: Image.Exif) -> int:
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _captured_at(exif: Image.Exif) -> datetime | None:
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


# ---------------------------------------------------------------- to 8-bit sRGB


def _to_srgb(*, im: Image.Image, max_side: int) -> np.ndarray:
    """Any Pillow mode -> H x W x 3 uint8 sRGB, alpha flattened onto NEUTRAL_BACKGROUND, long side <= max_side."""
    icc = im.info.get("icc_profile") or None
    eight = _to_8bit(im)
    if eight.mode == "RGBA":
        # Colour-manage and flatten before resizing: averaging un-premultiplied RGBA drags the colours
        # of invisible pixels into the edges.
        flat = _flatten(_colour_manage(im=eight, icc=icc))
        return _downscale(np.asarray(flat), max_side=max_side)
    # Resize first, then run the (per-pixel, costly) colour transform on fewer pixels.
    small = _downscale(np.asarray(eight), max_side=max_side)
    if small.shape[:2] != np.asarray(eight).shape[:2]:
        eight = Image.frombytes(eight.mode, (small.shape[1], small.shape[0]), small.tobytes())
    rgb = _colour_manage(im=eight, icc=icc)
    return np.asarray(rgb.convert("RGB"))


def _to_8bit(im: Image.Image) -> Image.Image:
    """Bring every mode to one of L, RGB, RGBA, CMYK, LAB (8 bits per channel)."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _stretch_grey(im)
    if mode == "LAB" or mode == "CMYK" or mode == "RGB" or mode == "L":
        if mode in ("RGB", "L") and im.has_transparency_data:
            return im.convert("RGBA")
        return im
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or im.has_transparency_data:
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    return im.convert("RGB")


def _stretch_grey(im: Image.Image) -> Image.Image:
    """16/32-bit grey to 8 bits by a linear map of the values present onto 0..255.

    Such files are mostly scientific or scanner data whose values fill a sliver of 0..65535 (both in our
    corpus do: 291..694 and 0..255). Dividing by 257 would show them black, Pillow's convert("L") clips
    them white; a linear stretch keeps every level's order and uses the whole 8-bit range."""
    values = np.asarray(im).astype(np.float64)
    if values.ndim != 2:
        values = np.asarray(im.convert("F")).astype(np.float64)
    transparent = im.info.get("transparency")
    hidden = values == transparent if isinstance(transparent, int) else np.zeros(values.shape, dtype=bool)
    visible = values[~hidden & np.isfinite(values)]
    lo, hi = (float(visible.min()), float(visible.max())) if visible.size else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    grey = np.clip(np.rint((np.nan_to_num(values, nan=lo) - lo) * (255.0 / span)), 0, 255).astype(np.uint8)
    if not hidden.any():
        return Image.fromarray(grey)
    alpha = np.where(hidden, 0, 255).astype(np.uint8)
    return Image.fromarray(np.dstack([grey, grey, grey, alpha]))


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.lru_cache(maxsize=16)
def _transform(icc: bytes | None, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded profile (or CIE Lab) to sRGB; None when the profile is already sRGB,
    unreadable, or does not describe this mode's colour space. Cached: building one costs milliseconds
    and a camera's photos share one profile."""
    if in_mode == "LAB":
        source = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
    else:
        if icc is None:
            return None
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except (OSError, ImageCms.PyCMSError):
            log.warning("unreadable ICC profile ignored")
            return None
        space = source.profile.xcolor_space.strip()
        expected = {"RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK", "L": "GRAY"}[in_mode]
        if space != expected:
            log.warning("ICC profile for %s on a %s picture ignored", space, in_mode)
            return None
        if in_mode in ("RGB", "RGBA") and "srgb" in (source.profile.profile_description or "").lower():
            return None
    try:
        # No 1-pixel cache: the transform is shared by threads, and lcms' cache is not thread-safe.
        return ImageCms.buildTransform(
            source, _srgb_profile(), in_mode, out_mode, ImageCms.Intent.PERCEPTUAL, flags=ImageCms.Flags.NOCACHE
        )
    except ImageCms.PyCMSError:
        log.warning("ICC transform %s -> %s could not be built; colours left as stored", in_mode, out_mode)
        return None


def _colour_manage(*, im: Image.Image, icc: bytes | None) -> Image.Image:
    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    transform = _transform(icc, im.mode, out_mode)
    if transform is not None:
        try:
            return ImageCms.applyTransform(im, transform) or im
        except ImageCms.PyCMSError:
            log.warning("ICC transform failed; colours left as stored", exc_info=True)
    # Without a profile, Pillow's conversions are the reference: CMYK as 255 - (C + K), L replicated.
    return im.convert(out_mode)


def _flatten(im: Image.Image) -> Image.Image:
    background = Image.new("RGBA", im.size, (*NEUTRAL_BACKGROUND, 255))
    return Image.alpha_composite(background, im).convert("RGB")


def _downscale(arr: np.ndarray, *, max_side: int) -> np.ndarray:
    h, w = arr.shape[:2]
    long_side = max(h, w)
    if long_side <= max_side:
        return arr
    scale = max_side / long_side
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(arr, size, interpolation=cv2.INTER_AREA)


def _transpose(*, rgb: np.ndarray, method: Image.Transpose) -> np.ndarray:
    return np.asarray(Image.fromarray(rgb).transpose(method))


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
