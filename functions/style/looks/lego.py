"""LEGO: the photo rebuilt as a mosaic of 1×1 plates seen from above.

Each cell takes the nearest colour of a real LEGO palette and is drawn as a plate with a bevel, a dark
seam to its neighbours and a round stud lit from the top left (rim light, specular arc, drop shadow)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from functions.style.looks.focus import Focus
from functions.style.looks.grid import Grid, focus_mosaic, tile_cells
from functions.style.looks.palette import bgr_from_hex, nearest_index

DESCRIPTION = "LEGO mosaic: 1×1 plates with round studs in real LEGO colours"

# Studs along the long side: enough to recognise a face, few enough to see every stud.
STUDS_ACROSS = 52
MIN_PLATE = 6
"""Smallest plate of the mosaic, px: a stud needs a few pixels to read as round."""
MIN_DETAIL_PLATE = 4
"""Smallest plate where the subject is, px: there a finer mosaic matters more than a crisp stud."""
FACE_WEIGHTS = (3.0, 1.0, 1.0)
"""A face's tiles are picked with lightness counted three times over: where a face is light and dark (eyes,
mouth, the shadow of the nose) is what makes it a face; a skin tone a little off is still a face."""
DETAIL_DEPTH = 2
"""Plates where the subject is may be halved this many times."""

# Solid LEGO colours (Rebrickable's RGB values).
PALETTE = bgr_from_hex(
    "#F4F4F4",  # white
    "#A0A5A9",  # light bluish grey
    "#6C6E68",  # dark bluish grey
    "#1B1D20",  # black
    "#C91A09",  # red
    "#720E0F",  # dark red
    "#0055BF",  # blue
    "#0A3463",  # dark blue
    "#5A93DB",  # medium blue
    "#9FC3E9",  # bright light blue
    "#078BC9",  # dark azure
    "#36AEBF",  # medium azure
    "#237841",  # green
    "#184632",  # dark green
    "#4B9F4A",  # bright green
    "#BBE90B",  # lime
    "#9B9A5A",  # olive green
    "#A0BCAC",  # sand green
    "#F2CD37",  # yellow
    "#FFF03A",  # bright light yellow
    "#FE8A18",  # orange
    "#F8BB3D",  # bright light orange
    "#A95500",  # dark orange
    "#E4CD9E",  # tan
    "#958A73",  # dark tan
    "#582A12",  # reddish brown
    "#352100",  # dark brown
    "#D09168",  # nougat
    "#AA7D55",  # medium nougat
    "#F6D7B3",  # light nougat
    "#6074A1",  # sand blue
    "#923978",  # magenta
    "#C870A0",  # dark pink
    "#E4ADC8",  # bright pink
    "#AC78BA",  # medium lavender
    "#3F3691",  # dark purple
    "#FF698F",  # coral
)

_SUPERSAMPLE = 4


@lru_cache(maxsize=8)
def _plate_light(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel (multiply, add) maps of one plate, drawn 4× larger and averaged down for soft edges."""
    n = cell * _SUPERSAMPLE
    px = 1.0 / cell  # one output pixel in cell units
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    x = (x + 0.5) / n
    y = (y + 0.5) / n
    mul = np.ones((n, n), np.float32)
    add = np.zeros((n, n), np.float32)

    # Bevel: the plate's top and left edges catch the light, bottom and right fall into shade.
    bevel = max(1.5 * px, 0.05)
    mul[(x < bevel) | (y < bevel)] = 1.14
    add[(x < bevel) | (y < bevel)] = 14.0
    mul[(x > 1 - bevel) | (y > 1 - bevel)] = 0.8
    # The seam: a dark gap between neighbouring plates.
    seam = max(1.0 * px, 0.025)
    gap = (x > 1 - seam) | (y > 1 - seam)
    mul[gap] = 0.3
    add[gap] = 0.0

    r = 0.3
    dx, dy = x - 0.5, y - 0.5
    dist = np.sqrt(dx * dx + dy * dy)
    # Drop shadow of the stud toward the bottom right.
    sdx, sdy = x - 0.5 - 0.06, y - 0.5 - 0.08
    shadow = np.clip((r + 0.03 - np.sqrt(sdx * sdx + sdy * sdy)) / 0.06, 0, 1)
    inside_plate = ~gap
    mul[inside_plate] *= 1.0 - 0.38 * shadow[inside_plate]

    # Stud: a flat lit top, a rim whose brightness follows the direction to the light, an edge line.
    stud = dist < r
    with np.errstate(invalid="ignore", divide="ignore"):
        facing = np.nan_to_num((-dx - dy) / (dist * np.sqrt(2.0)))  # 1 toward the top left
    mul[stud] = 1.06
    add[stud] = 0.0
    rim = stud & (dist > r - 0.07)
    mul[rim] = 1.0 + 0.28 * facing[rim]
    add[rim] = np.clip(facing[rim], 0, 1) * 18.0
    edge = np.abs(dist - r) < max(0.6 * px, 0.012)
    mul[edge] *= 0.72
    # Specular arc inside the stud's top-left rim.
    arc = np.exp(-(((dist - (r - 0.1)) / 0.028) ** 2)) * np.clip(facing, 0, 1) ** 3
    add += np.where(dist < r, arc * 95.0, 0.0)

    maps = (
        cv2.resize(mul, (cell, cell), interpolation=cv2.INTER_AREA),
        cv2.resize(add, (cell, cell), interpolation=cv2.INTER_AREA),
    )
    for shared in maps:
        shared.setflags(write=False)  # shared by every caller through the cache
    return maps


@lru_cache(maxsize=8)
def _tile_light(cell: int) -> tuple[np.ndarray, np.ndarray]:
    """(multiply, add) maps of a 1×1 tile: a plate without a stud, its smooth top barely bevelled, as
    mosaics lay faces. A face drawn in studs and deep seams is a pattern the eye (and a face detector)
    no longer reads as a face."""
    mul = np.ones((cell, cell), np.float32)
    add = np.zeros((cell, cell), np.float32)
    mul[0, :] = mul[:, 0] = 1.04
    mul[-1, :] = mul[:, -1] = 0.96
    for shared in (mul, add):
        shared.setflags(write=False)  # shared by every caller through the cache
    return mul, add


def _plates(cell: int, *, smooth: bool = False) -> np.ndarray:
    """One rendered plate (or, `smooth`, tile) per palette colour: N × cell × cell × 3 uint8."""
    mul, add = _tile_light(cell) if smooth else _plate_light(cell)
    colours = PALETTE.astype(np.float32)[:, None, None, :]
    tiles = colours * mul[None, :, :, None] + add[None, :, :, None]
    return np.clip(tiles + 0.5, 0, 255).astype(np.uint8)


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    del seed  # a mosaic has no randomness
    h, w = image.shape[:2]

    def draw(means: np.ndarray, level: Grid, smooth: bool) -> np.ndarray:
        weights = FACE_WEIGHTS if smooth else (1.0, 1.0, 1.0)
        index = nearest_index(image=means, palette=PALETTE, weights=weights)
        return tile_cells(tiles=_plates(level.cell, smooth=smooth), index=index, height=h, width=w)

    return focus_mosaic(image=image, focus=focus, across=STUDS_ACROSS, min_cell=MIN_PLATE,
                        min_detail_cell=MIN_DETAIL_PLATE, max_depth=DETAIL_DEPTH, saturation=1.25, contrast=1.1,
                        draw=draw)
