"""Working resolution, smoothing and ink lines shared by the drawn looks (cartoon, comic, painting)."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.focus import Focus, face_ovals
from functions.style.looks.palette import lab_of


def work_copy(*, image: np.ndarray, long_side: int) -> np.ndarray:
    """The picture with its long side at most `long_side`: drawn looks are computed there, then scaled
    back up, which keeps a 2048-px photo to well under a second and the strokes the same size."""
    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1.0:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def flatten(*, image: np.ndarray, passes: int, sigma_color: float, diameter: int = 9) -> np.ndarray:
    """Edge-preserving smoothing: repeated bilateral filtering flattens texture, keeps outlines."""
    out = image
    for _ in range(passes):
        out = cv2.bilateralFilter(out, diameter, sigma_color, diameter / 2)
    return out


def region_borders(*, index: np.ndarray, palette: np.ndarray, min_delta_e: float) -> np.ndarray:
    """Mask (bool) of pixels where the palette region changes to a clearly different colour.

    Borders between two shades of one colour (ΔE below `min_delta_e`) are left out: a cartoonist
    inks objects, not shading bands."""
    lab = lab_of(palette)
    delta = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=-1))
    strong = delta >= min_delta_e
    mask = np.zeros(index.shape, bool)
    mask[:, 1:] |= strong[index[:, 1:], index[:, :-1]]
    mask[1:, :] |= strong[index[1:, :], index[:-1, :]]
    return mask


EDGE_SOFT = 6.0
"""Lightness change per pixel (0..255) below which an edge of the photo is soft and gets no line."""
EDGE_CRISP = 14.0
"""Lightness change per pixel from which an edge of the photo is crisp and may be lined in full."""


def crisp_edges(image: np.ndarray) -> np.ndarray:
    """Where the photo itself has a crisp edge (float32 0..1): a roofline or a sleeve, not the soft rim of
    a cloud or the border between two bands of a sky's gradient, which smoothing and colour reduction
    turn into steps but which an artist leaves unlined."""
    gray = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32), (0, 0), 1.0)
    magnitude = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)) / 8.0
    crisp = np.clip((magnitude - EDGE_SOFT) / (EDGE_CRISP - EDGE_SOFT), 0.0, 1.0)
    return cv2.dilate(crisp, np.ones((3, 3), np.uint8))  # a smoothed edge may sit a pixel aside


def thicken(*, mask: np.ndarray, width: int) -> np.ndarray:
    """Grow a one-pixel line mask to about `width` pixels with a round brush (uint8 0/255)."""
    m = mask.astype(np.uint8) * 255
    if width <= 1:
        return m
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    return cv2.dilate(m, brush)


def drop_specks(*, mask: np.ndarray, min_area: int) -> np.ndarray:
    """Remove line fragments smaller than `min_area` pixels: they read as dirt, not ink."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(n, np.uint8)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= min_area).astype(np.uint8) * 255
    return keep[labels]


def upscale_mask(*, mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A 0/255 line mask scaled to full size as float coverage 0..1, anti-aliased."""
    m = cv2.resize(mask, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    # Sharpen the soft bilinear ramp back to a crisp, slightly anti-aliased stroke.
    return np.clip((m - 0.5) * 3.0 + 0.5, 0.0, 1.0)


def ink(*, image: np.ndarray, coverage: np.ndarray, colour: tuple[int, ...] = (20, 20, 20)) -> np.ndarray:
    """Lay ink of `colour` (BGR) over `image` where `coverage` (float32 0..1) says."""
    cover = np.ascontiguousarray(coverage, dtype=np.float32)
    solid = np.empty_like(image)
    solid[...] = colour
    return cv2.blendLinear(solid, image, cover, 1.0 - cover)


FACE_CORE = -0.2
"""The middle of a found face (its box shrunk by this share on every side) is drawn as skin whatever
its colour; around it, only skin-coloured parts are, so hair over the forehead stays hair."""


def skin_tone(image: np.ndarray, *, reach: float = 1.8) -> np.ndarray:
    """Mask of skin-coloured pixels: chroma within `reach` of typical skin's (an ellipse in Cr/Cb; 1 is
    strict, the default loose enough for a face in shadow) and an orange-red hue (blonde hair and sand
    sit further toward yellow). A ginger cat passes too: callers decide where to look."""
    ycc = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    hue = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[..., 0]  # OpenCV hue 0..179
    chroma = ((ycc[..., 1] - 149.0) / 13.0) ** 2 + ((ycc[..., 2] - 108.0) / 8.0) ** 2
    return (chroma <= reach) & ((hue <= 17) | (hue >= 170))


def face_skin(*, image: np.ndarray, focus: Focus) -> np.ndarray:
    """Mask (bool) of the found faces' skin: the middle of each face, and the skin-coloured rest of its oval."""
    height, width = image.shape[:2]
    core = face_ovals(focus=focus, height=height, width=width, grow=FACE_CORE)
    return core | (face_ovals(focus=focus, height=height, width=width) & skin_tone(image))


def outline_only(*, lines: np.ndarray, region: np.ndarray, width: int) -> np.ndarray:
    """`lines` (uint8 0/255) with nothing left inside `region` (bool) but its outline: a face is drawn
    outlined, without lines across it. Holes in the region (teeth, the whites of the eyes) count as inside."""
    whole = np.zeros(region.shape, np.uint8)
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(whole, contours, -1, 1, thickness=cv2.FILLED)
    out = lines.copy()
    out[cv2.erode(whole, np.ones((3 * width, 3 * width), np.uint8)) > 0] = 0
    return out


def cartoon_lines(*, work: np.ndarray, gray: np.ndarray, index: np.ndarray, palette: np.ndarray, face: np.ndarray,
                  min_delta_e: float, width: int) -> np.ndarray:
    """A cartoon's ink lines on `work` (its `gray` copy, its pixels' `palette` `index`): borders between colour
    regions, only where the photo has an edge (the bands a smooth sky falls into are not outlined), and the
    photo's strong edges, specks dropped, thickened to `width`; around the `face` mask, never across it."""
    side = max(work.shape[:2])
    borders = region_borders(index=index, palette=palette, min_delta_e=min_delta_e)
    borders &= cv2.dilate(crisp_edges(work), np.ones((5, 5), np.uint8)) > 0.5
    borders = drop_specks(mask=borders.astype(np.uint8) * 255, min_area=side // 12)
    detail = drop_specks(mask=cv2.Canny(gray, 80, 180), min_area=side // 12)
    return outline_only(lines=thicken(mask=(borders > 0) | (detail > 0), width=width), region=face, width=width)


def face_shading(*, gray: np.ndarray, focus: Focus) -> np.ndarray:
    """Each pixel's lightness as a share of its face's typical (median) lightness, inside the faces'
    ovals (float32; 1.0 elsewhere): where a face is in shadow, whatever its skin tone and light."""
    height, width = gray.shape
    ratio = np.ones((height, width), np.float32)
    for box in focus.faces:
        oval = face_ovals(focus=Focus(faces=[box], subject=focus.subject), height=height, width=width)
        if oval.any():
            typical = max(float(np.median(gray[oval])), 1.0)
            ratio[oval] = gray[oval].astype(np.float32) / typical
    return ratio
