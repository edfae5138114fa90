"""Cutting a picture into square cells: what the brick and block looks are built on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from functions.style.looks.focus import Focus, box_mask


@dataclass(frozen=True)
class Grid:
    """`rows` × `cols` square cells of `cell` pixels; they cover the picture, the last row and column
    possibly overhanging its edge (the overhang is cropped off after rendering)."""

    cell: int
    rows: int
    cols: int


def grid_for(*, height: int, width: int, across: int, min_cell: int, multiple: int = 1) -> Grid:
    """About `across` cells along the long side, each at least `min_cell` pixels wide and a whole
    `multiple` of pixels (so it halves evenly into finer cells)."""
    cell = max(min_cell, round(max(height, width) / across))
    cell = max(multiple, round(cell / multiple) * multiple)
    return Grid(cell=cell, rows=-(-height // cell), cols=-(-width // cell))


def cell_means(*, image: np.ndarray, grid: Grid, per_cell: int = 1) -> np.ndarray:
    """Mean colour of each cell (rows × cols × 3, uint8), or of each of its `per_cell` × `per_cell`
    parts (the cell size must divide by it). Edge cells average what they cover."""
    h, w = image.shape[:2]
    pad_h, pad_w = grid.rows * grid.cell - h, grid.cols * grid.cell - w
    padded = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
    return cv2.resize(padded, (grid.cols * per_cell, grid.rows * per_cell), interpolation=cv2.INTER_AREA)


def tile_cells(*, tiles: np.ndarray, index: np.ndarray, height: int, width: int) -> np.ndarray:
    """Lay out `tiles[index[r, c]]` (tiles: N × s × s × 3) as one picture cropped to height × width."""
    rows, cols = index.shape
    s = tiles.shape[1]
    mosaic = tiles[index]  # rows × cols × s × s × 3
    mosaic = mosaic.transpose(0, 2, 1, 3, 4).reshape(rows * s, cols * s, 3)
    return np.ascontiguousarray(mosaic[:height, :width])


def boost(*, image: np.ndarray, saturation: float, contrast: float = 1.0, brightness: float = 1.0) -> np.ndarray:
    """Raise saturation, brightness and contrast around mid-grey: mosaics and prints read better
    from vivid colours."""
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * brightness, 0, 255)
    out = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR).astype(np.float32)
    out = (out - 128.0) * contrast + 128.0
    return np.clip(out, 0, 255).astype(np.uint8)


CONTRAST_CLIP = 1.5
"""CLAHE clip limit of the lightness before cells pick their colour: enough to part neighbouring
shades, not so much that flat areas turn blotchy."""


def local_contrast(*, image: np.ndarray) -> np.ndarray:
    """Lightness equalised locally (CLAHE on L*, 8 × 8 tiles): neighbouring parts of one stone-coloured
    facade or one wooden kitchen, a few shades apart in the photo, land on different bricks or blocks
    instead of all on the same one."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2Lab)
    lab[..., 0] = cv2.createCLAHE(clipLimit=CONTRAST_CLIP, tileGridSize=(8, 8)).apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_Lab2BGR)


# ---------------------------------------------------------------- finer cells where the subject is

SPLIT_DELTA_E = 9.0
"""A cell of the subject is split into four when its quarters' colours spread this much (mean ΔE, CIE
Lab): one block would otherwise turn what it covers into mush."""
MAX_SPLIT_SHARE = 0.4
"""At most this share of the picture's cells is split at each depth, so the mosaic stays a mosaic."""


def finer(grid: Grid, depth: int) -> Grid:
    """`grid` with its cells halved `depth` times."""
    return Grid(cell=grid.cell >> depth, rows=grid.rows << depth, cols=grid.cols << depth)


def level_means(*, samples: np.ndarray, grid: Grid, depth: int) -> np.ndarray:
    """Mean colour of each cell of `grid` halved `depth` times, from `samples` (cell_means with
    `per_cell` a power of two at least 2**depth)."""
    return cv2.resize(samples, (grid.cols << depth, grid.rows << depth), interpolation=cv2.INTER_AREA)


def _cells_of(*, mask: np.ndarray, grid: Grid) -> np.ndarray:
    """Per cell (rows × cols, bool): does the cell touch the pixel mask?"""
    h, w = mask.shape
    padded = np.zeros((grid.rows * grid.cell, grid.cols * grid.cell), bool)
    padded[:h, :w] = mask
    return np.asarray(padded.reshape(grid.rows, grid.cell, grid.cols, grid.cell).any(axis=(1, 3)))


def split_depths(*, samples: np.ndarray, grid: Grid, subject: np.ndarray, max_depth: int,
                 min_cell: int) -> np.ndarray:
    """How many times (0..max_depth) each cell of `grid` is halved (rows × cols, uint8).

    Only cells touching the `subject` mask (bool, picture size) are split, and only where their quarters
    differ in colour (`samples`: cell_means with 2**max_depth parts per cell): there the picture keeps
    its detail, elsewhere the mosaic keeps its big, regular blocks. No cell becomes smaller than
    `min_cell` pixels."""
    depths = np.zeros((grid.rows, grid.cols), np.uint8)
    inside = _cells_of(mask=subject, grid=grid)
    for depth in range(max_depth):
        if grid.cell >> (depth + 1) < min_cell:
            break
        level = finer(grid, depth)
        parts = level_means(samples=samples, grid=grid, depth=depth + 1).astype(np.float32) / 255.0
        lab = cv2.cvtColor(parts, cv2.COLOR_BGR2Lab).reshape(level.rows, 2, level.cols, 2, 3)
        spread = np.sqrt(((lab - lab.mean(axis=(1, 3), keepdims=True)) ** 2).sum(axis=-1)).mean(axis=(1, 3))
        # Back to the coarse grid: a coarse cell is drawn at one depth, the finest any of its parts needs.
        scale = 2**depth
        spread = spread.reshape(grid.rows, scale, grid.cols, scale).max(axis=(1, 3))
        score = np.where((depths == depth) & inside, spread, 0.0)
        limit = max(SPLIT_DELTA_E, float(np.quantile(score, 1.0 - MAX_SPLIT_SHARE)))
        depths[score > limit] = depth + 1
    return depths


def face_cells(*, faces: np.ndarray, grid: Grid) -> np.ndarray:
    """Per cell of `grid` (bool): does it touch the `faces` mask (bool, picture size)?"""
    return _cells_of(mask=faces, grid=grid)


def adaptive_mosaic(*, height: int, width: int, grid: Grid, depths: np.ndarray, faces: np.ndarray,
                    face_depth: int, render: Callable[[int, bool], np.ndarray]) -> np.ndarray:
    """A height × width mosaic whose coarse cells are each drawn with cells halved `depths` times, and
    the cells in `faces` (bool per coarse cell) halved `face_depth` times and drawn smooth.

    `render(depth, smooth)` draws the whole picture as a uniform mosaic of cells halved `depth` times;
    one is drawn per kind of cell in use and each coarse cell is taken from the one of its kind."""
    kinds = np.where(faces, 2 * face_depth + 1, 2 * depths.astype(np.int32))
    out: np.ndarray | None = None
    for kind in np.unique(kinds):
        mosaic = render(int(kind) // 2, bool(kind % 2))
        if out is None:
            out = mosaic
            continue
        here = np.repeat(np.repeat(kinds == kind, grid.cell, axis=0), grid.cell, axis=1)[:height, :width]
        out[here] = mosaic[here]
    assert out is not None
    return out


def deepest(*, grid: Grid, max_depth: int, min_cell: int) -> int:
    """How many times (up to `max_depth`) `grid`'s cells can be halved and stay `min_cell` px or more."""
    depth = 0
    while depth < max_depth and grid.cell >> (depth + 1) >= min_cell:
        depth += 1
    return depth


Draw = Callable[[np.ndarray, Grid, bool], np.ndarray]
"""draw(means, level, smooth): the whole picture as a uniform mosaic of `level`'s cells, coloured after
`means` (level.rows × level.cols × 3), drawn in the smooth kind of cell (faces) or the textured one."""


def focus_mosaic(*, image: np.ndarray, focus: Focus, across: int, min_cell: int, min_detail_cell: int,
                 max_depth: int, saturation: float, contrast: float, draw: Draw) -> np.ndarray:
    """`image` as a mosaic of about `across` cells along its long side, finer where `focus` says the
    subject and the faces are (see split_depths), faces in smooth cells.

    The colours are boosted and locally equalised on the cells' averages, not on every pixel: the
    cells' colours are all a mosaic needs, and a 2048 px photo is then as quick as a small one."""
    h, w = image.shape[:2]
    grid = grid_for(height=h, width=w, across=across, min_cell=min_cell, multiple=2**max_depth)
    samples = cell_means(image=image, grid=grid, per_cell=2**max_depth)
    samples = local_contrast(image=boost(image=samples, saturation=saturation, contrast=contrast))
    subject = box_mask(boxes=[focus.subject, *focus.faces], height=h, width=w)
    depths = split_depths(samples=samples, grid=grid, subject=subject, max_depth=max_depth, min_cell=min_detail_cell)
    faces = face_cells(faces=box_mask(boxes=focus.faces, height=h, width=w, grow=0.15), grid=grid)

    def render(depth: int, smooth: bool) -> np.ndarray:
        return draw(level_means(samples=samples, grid=grid, depth=depth), finer(grid, depth), smooth)

    face_depth = deepest(grid=grid, max_depth=max_depth, min_cell=min_detail_cell)
    return adaptive_mosaic(height=h, width=w, grid=grid, depths=depths, faces=faces, face_depth=face_depth,
                           render=render)
