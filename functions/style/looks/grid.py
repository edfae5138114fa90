"""Cutting a picture into square cells: what the brick and block looks are built on."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Grid:
    """`rows` × `cols` square cells of `cell` pixels; they cover the picture, the last row and column
    possibly overhanging its edge (the overhang is cropped off after rendering)."""

    cell: int
    rows: int
    cols: int


def grid_for(*, height: int, width: int, across: int, min_cell: int) -> Grid:
    """About `across` cells along the long side, each at least `min_cell` pixels wide."""
    cell = max(min_cell, round(max(height, width) / across))
    return Grid(cell=cell, rows=-(-height // cell), cols=-(-width // cell))


def cell_means(*, image: np.ndarray, grid: Grid) -> np.ndarray:
    """Mean colour of each cell (rows × cols × 3, uint8). Edge cells average what they cover."""
    h, w = image.shape[:2]
    pad_h, pad_w = grid.rows * grid.cell - h, grid.cols * grid.cell - w
    padded = cv2.copyMakeBorder(image, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
    return cv2.resize(padded, (grid.cols, grid.rows), interpolation=cv2.INTER_AREA)


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
