"""LEGO: the photo rebuilt as a mosaic of 1×1 plates seen from above.

Each cell takes the nearest colour of a real LEGO palette and is drawn as a plate with a bevel, a dark
seam to its neighbours and a round stud lit from the top left (rim light, specular arc, drop shadow)."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from functions.style.looks.grid import boost, cell_means, grid_for, tile_cells
from functions.style.looks.palette import bgr_from_hex, nearest_index

DESCRIPTION = "LEGO mosaic: 1×1 plates with round studs in real LEGO colours"

# Studs along the long side: enough to recognise a face, few enough to see every stud.
STUDS_ACROSS = 52

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


def _plates(cell: int) -> np.ndarray:
    """One rendered plate per palette colour: N × cell × cell × 3 uint8."""
    mul, add = _plate_light(cell)
    colours = PALETTE.astype(np.float32)[:, None, None, :]
    tiles = colours * mul[None, :, :, None] + add[None, :, :, None]
    return np.clip(tiles + 0.5, 0, 255).astype(np.uint8)


def render(*, image: np.ndarray, seed: int) -> np.ndarray:
    del seed  # a mosaic has no randomness
    h, w = image.shape[:2]
    grid = grid_for(height=h, width=w, across=STUDS_ACROSS, min_cell=6)
    means = cell_means(image=boost(image=image, saturation=1.25, contrast=1.1), grid=grid)
    index = nearest_index(image=means, palette=PALETTE)
    return tile_cells(tiles=_plates(grid.cell), index=index, height=h, width=w)
