"""Where the eye goes in a photo: faces first, else the most salient region, else the centre.

Faces come from the frontal-face Haar cascade that the opencv-python wheel bundles (cv2.data; OpenCV 5
dropped it, hence the <5 pin). Cascades fire on textures now and then; a detection is kept only if it
holds enough skin-coloured pixels (colour photos) or is confirmed by more neighbouring windows (grey
photos)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from shared.models.base import Box

SubjectKind = Literal["face", "saliency", "center"]

FACE_ANALYSIS_SIDE = 480
"""Long side (px) of the grey copy faces are searched in. Faces too small to find there (under
MIN_FACE_SHARE of the short side) are too small to steer a camera move anyway."""
MIN_FACE_SHARE = 0.08
"""Smallest face kept, as a share of the analysis copy's short side."""
MIN_SKIN_SHARE = 0.25
"""A face box in a colour photo must be at least this share skin-coloured (YCrCb, Chai & Ngan 1999)."""
HEAD_ABOVE = 0.6
"""A head reaches this many face heights above the detector's box: the frontal cascade's window starts at
mid-forehead, and hair (a bob, curls, a bun) stands up to half a face height above the hairline."""
HEAD_SIDES = 0.3
"""... and this many face widths beside it on either side (ears, hair)."""
HEAD_BELOW = 0.2
"""... and this many face heights below it (the chin and the top of the neck)."""
SALIENCY_SIDE = 96
"""Spectral-residual saliency works on a small copy (Hou & Zhang used 64 px): large enough for objects,
small enough that fine texture does not dominate."""
CONTRAST_WEIGHT = 0.5
"""Share of global contrast in the saliency map; the rest is the spectral residual."""
CENTRE_PRIOR_SIGMA = 0.35
"""Saliency is weighted by a Gaussian around the centre with this sigma (share of width/height)."""
SALIENT_SHARE = 0.15
"""The salient region: the top share of the centre-weighted saliency map."""
CENTER_BOX = Box(x=0.2, y=0.2, w=0.6, h=0.6)

_local = threading.local()


def _cascade() -> cv2.CascadeClassifier:
    # One detector per thread: a cascade keeps scratch state while it scans.
    detector = getattr(_local, "cascade", None)
    if detector is None:
        cascades = Path(cv2.__file__).parent / "data"  # cv2.data.haarcascades, which the stubs lack
        detector = cv2.CascadeClassifier(str(cascades / "haarcascade_frontalface_alt2.xml"))
        if detector.empty():
            raise RuntimeError("OpenCV's bundled face cascade could not be loaded")
        _local.cascade = detector
    return detector


def resized(*, image: np.ndarray, long_side: int) -> np.ndarray:
    """A copy with the given long side: INTER_AREA to shrink, bilinear to enlarge."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale == 1:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def detect_faces(*, rgb: np.ndarray) -> list[Box]:
    """Frontal faces in an upright RGB photo, largest first, as normalised boxes."""
    small = resized(image=rgb, long_side=FACE_ANALYSIS_SIDE)
    grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    h, w = grey.shape
    short = min(h, w)
    min_face = max(24, round(short * MIN_FACE_SHARE))
    if short < min_face:
        return []
    colour = _is_colour(small)
    found = _cascade().detectMultiScale(
        grey,
        scaleFactor=1.1,
        # Grey photos cannot be checked for skin, so they need agreement of more windows.
        minNeighbors=5 if colour else 8,
        minSize=(min_face, min_face),
        maxSize=(short, short),
    )
    boxes: list[tuple[int, int, int, int]] = []
    for x, y, bw, bh in (tuple(int(v) for v in det) for det in found):
        if colour and _skin_share(small[y : y + bh, x : x + bw]) < MIN_SKIN_SHARE:
            continue
        boxes.append((x, y, bw, bh))
    boxes = _drop_nested(boxes)
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return [_normalised(x=x, y=y, w=bw, h=bh, width=w, height=h) for x, y, bw, bh in boxes]


def _is_colour(rgb: np.ndarray) -> bool:
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2).astype(np.int16)
    return float(np.mean(spread > 12)) > 0.05


def _skin_share(patch: np.ndarray) -> float:
    if patch.size == 0:
        return 0.0
    # The middle of the box: the cascade's window also covers hair and background at its edges.
    ph, pw = patch.shape[:2]
    core = patch[ph // 5 : ph - ph // 5, pw // 5 : pw - pw // 5]
    ycrcb = cv2.cvtColor(np.ascontiguousarray(core), cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    skin = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    return float(skin.mean())


def _drop_nested(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Keep one box where two mostly overlap (the same face found at two scales)."""
    kept: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        if all(_overlap_of_smaller(box, other) < 0.5 for other in kept):
            kept.append(box)
    return kept


def _overlap_of_smaller(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return ix * iy / smaller if smaller else 0.0


def _normalised(*, x: float, y: float, w: float, h: float, width: int, height: int) -> Box:
    x0, y0 = max(0.0, x / width), max(0.0, y / height)
    x1, y1 = min(1.0, (x + w) / width), min(1.0, (y + h) / height)
    return Box(x=x0, y=y0, w=max(x1 - x0, 1e-6), h=max(y1 - y0, 1e-6))


def head_box(face: Box) -> Box:
    """The head around a detected face (hair, ears, chin included), clipped to the photo: what a frame must
    hold for the face not to look cut."""
    return _normalised(
        x=face.x - HEAD_SIDES * face.w,
        y=face.y - HEAD_ABOVE * face.h,
        w=face.w * (1 + 2 * HEAD_SIDES),
        h=face.h * (1 + HEAD_ABOVE + HEAD_BELOW),
        width=1,
        height=1,
    )


def union_box(*, boxes: list[Box]) -> Box:
    """The smallest box holding all `boxes`."""
    x0 = min(b.x for b in boxes)
    y0 = min(b.y for b in boxes)
    x1 = max(b.x + b.w for b in boxes)
    y1 = max(b.y + b.h for b in boxes)
    return _normalised(x=x0, y=y0, w=x1 - x0, h=y1 - y0, width=1, height=1)


def saliency_map(*, rgb: np.ndarray) -> np.ndarray:
    """Where the eye goes, 0..1: the mean of two cues, each scaled to 0..1 on its own.

    Spectral residual (Hou & Zhang, CVPR 2007), summed over L*, a*, b*: the log amplitude spectrum of
    natural pictures is smooth; what sticks out of its local average (the residual), put back with the
    original phase, marks the small parts of the picture unlike the rest. Colour channels count too: a red
    cup on brown wood differs more in a* than in lightness. Inside a large uniform object nothing sticks
    out of the spectrum, so the second cue is global contrast (Achanta et al., CVPR 2009): how far each
    slightly blurred pixel's L*a*b* colour lies from the picture's mean, which lights up a white statue on
    dark leaves as a whole."""
    small = resized(image=rgb, long_side=SALIENCY_SIDE)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float64)
    residual = np.zeros(lab.shape[:2])
    for i in range(3):
        channel = lab[..., i]
        # A flat channel (a* and b* of a grey photo) has no residual worth the name, only numerical noise.
        if float(channel.std()) < 1.0:
            continue
        part = _spectral_residual(channel)
        residual += part / float(part.max())
    residual = cv2.GaussianBlur(residual, (0, 0), sigmaX=SALIENCY_SIDE / 32)
    blurred = cv2.GaussianBlur(lab, (0, 0), sigmaX=SALIENCY_SIDE / 48)
    contrast = np.sqrt(((blurred - lab.reshape(-1, 3).mean(axis=0)) ** 2).sum(axis=2))
    return _unit((1 - CONTRAST_WEIGHT) * _unit(residual) + CONTRAST_WEIGHT * _unit(contrast))


def _unit(values: np.ndarray) -> np.ndarray:
    """`values` scaled to 0..1 (all zeros when they are flat)."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        return np.zeros_like(values)
    return (values - lo) / (hi - lo)


def _spectral_residual(channel: np.ndarray) -> np.ndarray:
    spectrum = np.fft.fft2(channel)
    log_amplitude = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3), borderType=cv2.BORDER_REPLICATE)
    return np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2


def _centre_prior(shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    y = (np.arange(h) + 0.5) / h - 0.5
    x = (np.arange(w) + 0.5) / w - 0.5
    return np.exp(-(y[:, None] ** 2 + x[None, :] ** 2) / (2 * CENTRE_PRIOR_SIGMA**2))


def saliency_box(*, rgb: np.ndarray) -> Box | None:
    """The box of the most salient region, or None when nothing stands out (a flat or uniform picture)."""
    smap = saliency_map(rgb=rgb)
    if float(smap.std()) < 1e-3:
        return None
    # Photographers frame what matters away from the borders; spectral residual alone also fires on
    # bright specks and edge clutter there.
    weighted = smap * _centre_prior(smap.shape)
    mask = (weighted >= np.quantile(weighted, 1 - SALIENT_SHARE)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    masses = np.array([float(weighted[labels == i].sum()) for i in range(1, count)])
    best = float(masses.max())
    # Parts of one object often split at the threshold: keep every region of comparable weight.
    chosen = [i + 1 for i, mass in enumerate(masses) if mass >= 0.3 * best]
    h, w = smap.shape
    x0 = min(int(stats[i, cv2.CC_STAT_LEFT]) for i in chosen)
    y0 = min(int(stats[i, cv2.CC_STAT_TOP]) for i in chosen)
    x1 = max(int(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH]) for i in chosen)
    y1 = max(int(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT]) for i in chosen)
    return _normalised(x=x0, y=y0, w=x1 - x0, h=y1 - y0, width=w, height=h)


def find_subject(*, rgb: np.ndarray, faces: list[Box]) -> tuple[Box, SubjectKind]:
    """The union of the faces' heads; else the salient region; else the centre."""
    if faces:
        return union_box(boxes=[head_box(f) for f in faces]), "face"
    salient = saliency_box(rgb=rgb)
    if salient is not None:
        return salient, "saliency"
    return CENTER_BOX, "center"
