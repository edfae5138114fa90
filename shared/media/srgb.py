"""Any decoded picture (every Pillow mode: 16-bit, CMYK, Lab, palette, alpha, wide greys, with or without
an ICC profile) to 8-bit sRGB RGB at its working size, a band of rows at a time."""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterable

import numpy as np
from PIL import Image, ImageCms

from shared.media.area import AreaShrink, working_size

log = logging.getLogger(__name__)

# Transparent pixels are shown over this: mid-grey reads as "nothing here" under both dark and light content.
NEUTRAL_BACKGROUND = (128, 128, 128)

_WIDE_GREY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def to_srgb(*, im: Image.Image, bands: Iterable[Image.Image], max_side: int) -> np.ndarray:
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
    if is_8bit(im):
        return im
    if mode in ("RGBA", "RGBa", "LA", "La", "PA") or im.has_transparency_data:
        return im.convert("RGBA")
    if mode == "1":
        return im.convert("L")
    return im.convert("RGB")


def is_8bit(im: Image.Image) -> bool:
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
