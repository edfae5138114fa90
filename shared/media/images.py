"""Reading and writing pictures in the artifact store, and decoding users' photos safely.

Stages pass pictures as OpenCV-style BGR uint8 arrays; on disk they are high-quality JPEGs (PNG when
they carry alpha). Photos from users go through `decode_photo` first: whatever the file holds, it comes
out upright, 8-bit sRGB RGB and no larger than asked, or is refused with a one-line `PhotoError`."""

from __future__ import annotations

import functools
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
from PIL import ExifTags, Image, ImageCms, PngImagePlugin, UnidentifiedImageError

from shared.errors import PhotoError, StoreError
from shared.media.area import AreaShrink, working_size
from shared.media.budget import MIB, decode_budget
from shared.media.heif import item_data
from shared.media.pngbands import BAND_PIXELS, PngBands
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

# Transparent pixels are shown over this: mid-grey reads as "nothing here" under both dark and light content.
NEUTRAL_BACKGROUND = (128, 128, 128)

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
_SWAPS_AXES = {5, 6, 7, 8}

# Below this share of rows decoded, a truncated JPEG is refused rather than shown with a grey bottom.
_MIN_DECODED_ROWS = 0.98

_ISOBMFF = ("HEIF", "AVIF")

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
            rgb = _to_srgb(im=im, bands=bands if bands is not None else _bands_of(im), max_side=max_side)
            exif = _read_exif(im=im, label=label, trailing=bands.exif if bands is not None else None)
    finally:
        im.close()
    orientation = _orientation(exif)
    # pillow-heif applies the container's rotation itself and leaves EXIF saying 1; keep what was asked.
    asked = im.info.get("original_orientation") or orientation
    upright = _UPRIGHT.get(orientation)
    if upright is not None:
        rgb = upright(rgb)
    if orientation in _SWAPS_AXES:
        width, height = height, width
    return DecodedPhoto(
        rgb=np.ascontiguousarray(rgb),
        original_width=width,
        original_height=height,
        orientation=asked if isinstance(asked, int) and 1 <= asked <= 8 else orientation,
        captured_at=_captured_at(exif),
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
    needed += width * height * len(im.getbands()) if _is_8bit(im) else _BAND_BYTES
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
    if _is_8bit(im):
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


def _read_exif(*, im: Image.Image, label: str, trailing: bytes | None) -> Image.Exif:
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


_WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def _to_srgb(*, im: Image.Image, bands: Iterable[Image.Image], max_side: int) -> np.ndarray:
    """Bands of `im` (any Pillow mode) -> H x W x 3 uint8 sRGB, alpha flattened onto NEUTRAL_BACKGROUND,
    long side <= max_side. Only the working-size picture and one band are ever held."""
    icc = im.info.get("icc_profile") or None
    width, height = im.size
    size = working_size(width=width, height=height, max_side=max_side)
    if im.mode in _WIDE_GREY:
        return _stretch_grey(im=im, bands=bands, size=size, icc=icc)
    shrink: AreaShrink | None = None
    mode, managed = "RGB", False
    for band in bands:
        eight = _to_8bit(band)
        if eight.mode == "RGBA":
            # Colour-manage and flatten before resizing: averaging un-premultiplied RGBA drags the colours
            # of invisible pixels into the edges.
            pixels = np.asarray(_flatten(_colour_manage(im=eight, icc=icc)))
            mode, managed = "RGB", True
        else:
            pixels = np.asarray(eight)
            mode = eight.mode
        if shrink is None:
            channels = 1 if pixels.ndim == 2 else pixels.shape[2]
            shrink = AreaShrink(width=width, height=height, size=size, channels=channels, dtype=np.uint8)
        shrink.add(pixels)
    if shrink is None:
        raise ValueError("no rows decoded")
    small = shrink.result()
    if managed or (icc is None and mode == "RGB"):
        return small
    # Resized first, then the (per-pixel, costly) colour transform runs on fewer pixels.
    return np.asarray(_colour_manage(im=Image.frombytes(mode, size, small.tobytes()), icc=icc).convert("RGB"))


def _to_8bit(im: Image.Image) -> Image.Image:
    """Bring every mode but the wide greys to one of L, RGB, RGBA, CMYK, LAB (8 bits per channel)."""
    mode = im.mode
    if _is_8bit(im):
        return im
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or im.has_transparency_data:
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    return im.convert("RGB")


def _is_8bit(im: Image.Image) -> bool:
    """Whether `im` is already one of the 8-bit modes _to_8bit gives, with no transparency to flatten."""
    return im.mode in ("LAB", "CMYK", "RGB", "L") and not (im.mode in ("RGB", "L") and im.has_transparency_data)


def _stretch_grey(*, im: Image.Image, bands: Iterable[Image.Image], size: tuple[int, int],
                  icc: bytes | None) -> np.ndarray:
    """16/32-bit grey to 8 bits by a linear map of the values present onto 0..255.

    Such files are mostly scientific or scanner data whose values fill a sliver of 0..65535 (both in our
    corpus do: 291..694 and 0..255). Dividing by 257 would show them black, Pillow's convert("L") clips
    them white; a linear stretch keeps every level's order and uses the whole 8-bit range. The map is
    affine, so it is applied after the shrink (area averaging commutes with it): the bands are averaged
    as they come while the darkest and brightest values are found, and the full-size picture is never
    held. Transparent pixels (a tRNS value, or no value at all) are left out of both and shown as
    NEUTRAL_BACKGROUND."""
    width, height = im.size
    transparent = im.info.get("transparency")
    keyed = isinstance(transparent, int) or im.mode == "F"
    shrink = AreaShrink(width=width, height=height, size=size, channels=2 if keyed else 1, dtype=np.float32)
    lo, hi = np.inf, -np.inf
    for band in bands:
        values = np.asarray(band)
        if values.ndim != 2:
            values = np.asarray(band.convert("F"))
        values = values.astype(np.float32)
        shown = np.isfinite(values) if im.mode == "F" else np.ones(values.shape, bool)
        if isinstance(transparent, int):
            shown &= values != transparent
        if shown.all():
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        elif shown.any():
            lo, hi = min(lo, float(values[shown].min())), max(hi, float(values[shown].max()))
        if keyed:
            shrink.add(np.dstack([np.where(shown, values, 0), shown.astype(np.float32)]))
        else:
            shrink.add(values)
    small = shrink.result()
    if not np.isfinite(lo):
        lo, hi = 0.0, 1.0
    gain = np.float32(255.0 / (hi - lo if hi > lo else 1.0))
    if not keyed:
        grey = np.clip(np.rint((small[..., 0] - np.float32(lo)) * gain), 0, 255).astype(np.uint8)
        return np.asarray(_colour_manage(im=Image.fromarray(grey), icc=icc).convert("RGB"))
    alpha = small[..., 1:]
    mean = np.divide(small[..., :1], alpha, out=np.zeros_like(alpha), where=alpha > 0)
    grey = np.rint(np.clip((mean - np.float32(lo)) * gain, 0, 255))
    flat = grey * alpha + np.asarray(NEUTRAL_BACKGROUND, np.float32) * (1 - alpha)
    return np.clip(np.rint(flat), 0, 255).astype(np.uint8)


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


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 200 else text[:197] + "..."
