"""Minecraft: the photo rebuilt from blocks, each carrying a 16×16 pixel-art texture.

Every block takes the block type whose average colour is nearest its own; block types have textures
in the game's manner (few shades, per-pixel noise, planks, bricks, cobble, wool, leaves) and each block
gets a dark edge so the grid reads."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from functions.style.looks.focus import Focus
from functions.style.looks.grid import Grid, focus_mosaic, tile_cells
from functions.style.looks.palette import bgr_from_hex, nearest_index

DESCRIPTION = "Minecraft: the scene built from textured 16×16 pixel-art blocks"

BLOCKS_ACROSS = 64
TEXELS = 16
MIN_BLOCK = 4
"""Smallest block, px: below this a block is a speck, not a block."""
DETAIL_DEPTH = 2
"""Blocks where the subject is may be halved this many times (a 32 px block down to 8 px)."""
SMOOTH_GRAIN = 0.3
"""How much of a texture's grain the smooth (face) blocks keep."""
LIGHTNESS_WEIGHTS = (2.0, 1.0, 1.0)
"""Blocks are picked by colour distance with lightness counted double: the palette's neutral stones
and woods lie close in hue, and what keeps a scene readable is where it is light and dark."""

# Texture shades are quantised to a few levels, as in the game's hand-drawn textures.
_SHADES = np.array([0.6, 0.72, 0.84, 0.94, 1.04, 1.14], dtype=np.float32)

Pattern = Callable[[np.random.Generator], np.ndarray]


def _shade(values: np.ndarray) -> np.ndarray:
    """Snap a brightness map to the nearest of a few shade levels."""
    return _SHADES[np.abs(values[..., None] - _SHADES).argmin(axis=-1)]


def _noise(rng: np.random.Generator, *, spread: float = 0.13) -> np.ndarray:
    return _shade(1.0 + rng.normal(0.0, spread, (TEXELS, TEXELS)))


def _speckle(rng: np.random.Generator) -> np.ndarray:
    """Dirt, sand, stone: fine noise with a sprinkle of darker and lighter grains."""
    m = 1.0 + rng.normal(0.0, 0.08, (TEXELS, TEXELS))
    grains = rng.random((TEXELS, TEXELS))
    m[grains < 0.14] -= 0.26
    m[grains > 0.9] += 0.14
    return _shade(m)


def _planks(rng: np.random.Generator) -> np.ndarray:
    """Four boards with dark gaps between them and staggered butt joints."""
    m = 1.0 + rng.normal(0.0, 0.035, (TEXELS, TEXELS))
    m += rng.normal(0.0, 0.05, (TEXELS, 1))  # grain runs along each board
    m[3::4, :] = 0.68
    for board, joint in enumerate((5, 12, 2, 9)):
        m[board * 4 : board * 4 + 3, joint] = 0.78
    return _shade(m)


def _bricks(rng: np.random.Generator) -> np.ndarray:
    m = 1.0 + rng.normal(0.0, 0.05, (TEXELS, TEXELS))
    m[3::4, :] = 1.22  # light mortar
    for row in range(4):
        off = 0 if row % 2 == 0 else 4
        m[row * 4 : row * 4 + 3, (off + 7) % 8 :: 8] = 1.22
    return _shade(np.minimum(m, 1.1)) * np.where(m > 1.15, 1.12, 1.0)


def _stone_bricks(rng: np.random.Generator) -> np.ndarray:
    """Four courses of large stones with dark joints, every other course offset by half a stone."""
    m = 1.0 + rng.normal(0.0, 0.05, (TEXELS, TEXELS))
    m[7::8, :] = 0.7
    m[0:7, 7] = m[8:15, 15] = 0.7
    m[0, :] += 0.08  # each stone's top edge catches the light
    m[8, :] += 0.08
    return _shade(m)


def _cobble(rng: np.random.Generator) -> np.ndarray:
    """Irregular stones (nearest-seed cells, each its own shade) with dark cracks between them."""
    seeds = rng.random((9, 2)) * TEXELS
    yy, xx = np.mgrid[0:TEXELS, 0:TEXELS]
    d = np.stack([np.hypot(yy - sy, xx - sx) for sy, sx in seeds], axis=-1)
    owner = d.argmin(axis=-1)
    nearest_two = np.sort(d, axis=-1)[..., :2]
    tone = 1.0 + rng.normal(0.0, 0.08, len(seeds))
    m = tone[owner] + rng.normal(0.0, 0.04, (TEXELS, TEXELS))
    m[(nearest_two[..., 1] - nearest_two[..., 0]) < 1.1] = 0.66  # near a border between two stones
    return _shade(m)


def _wool(rng: np.random.Generator) -> np.ndarray:
    """Soft knit: small diagonal stitches over low noise."""
    yy, xx = np.mgrid[0:TEXELS, 0:TEXELS]
    m = 1.0 + rng.normal(0.0, 0.06, (TEXELS, TEXELS))
    m -= 0.14 * (((xx + yy) % 4) == 0)
    m += 0.1 * (((xx - yy) % 4) == 2)
    return _shade(m)


def _leaves(rng: np.random.Generator) -> np.ndarray:
    m = 1.0 + rng.normal(0.0, 0.1, (TEXELS, TEXELS))
    holes = rng.random((TEXELS, TEXELS))
    m[holes < 0.2] = 0.62
    m[holes > 0.9] = 1.12
    return _shade(m)


def _water(rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:TEXELS, 0:TEXELS]
    wave = np.sin((xx + 3 * np.sin(yy / 2.5)) / 2.2 + yy * 0.9)
    return _shade(1.0 + 0.07 * wave + rng.normal(0.0, 0.03, (TEXELS, TEXELS)))


def _log(rng: np.random.Generator) -> np.ndarray:
    """Bark: vertical furrows."""
    m = 1.0 + rng.normal(0.0, 0.04, (TEXELS, TEXELS))
    m += rng.normal(0.0, 0.1, (1, TEXELS))
    m[:, rng.choice(TEXELS, 4, replace=False)] -= 0.2
    return _shade(m)


# Block types: (colour as shown in the game, texture pattern). Wool and terracotta give the vivid and
# the skin/earth tones that natural blocks lack.
BLOCKS: tuple[tuple[str, str, Pattern], ...] = (
    ("grass", "#6DA644", _speckle),
    ("leaves", "#3E7A22", _leaves),
    ("dirt", "#866043", _speckle),
    ("stone", "#7D7D7D", _speckle),
    ("cobblestone", "#6F6F6F", _cobble),
    ("stone bricks", "#7A797A", _stone_bricks),
    ("andesite", "#888889", _speckle),
    ("diorite", "#BDBCBD", _speckle),
    ("calcite", "#DFE0DD", _noise),
    ("sand", "#DBD3A0", _speckle),
    ("oak planks", "#A2834F", _planks),
    ("spruce planks", "#6B4F30", _planks),
    ("birch planks", "#C5B57B", _planks),
    ("oak log", "#65502F", _log),
    ("bricks", "#96594A", _bricks),
    ("water", "#3F6FD8", _water),
    ("snow", "#F3FBFB", _noise),
    ("packed ice", "#8EB4F5", _noise),
    ("obsidian", "#15111F", _speckle),
    ("white wool", "#E9ECEC", _wool),
    ("light grey wool", "#8E8E86", _wool),
    ("grey wool", "#3F4447", _wool),
    ("black wool", "#1A1B1F", _wool),
    ("red wool", "#A12722", _wool),
    ("orange wool", "#F07613", _wool),
    ("yellow wool", "#F8C627", _wool),
    ("lime wool", "#70B919", _wool),
    ("green wool", "#546D1B", _wool),
    ("cyan wool", "#158991", _wool),
    ("light blue wool", "#3AAFD9", _wool),
    ("blue wool", "#35399D", _wool),
    ("purple wool", "#792AAC", _wool),
    ("magenta wool", "#BD44B3", _wool),
    ("pink wool", "#ED8DAC", _wool),
    ("brown wool", "#724728", _wool),
    ("white terracotta", "#D1B2A1", _noise),
    ("pink terracotta", "#A24E4F", _noise),
    ("orange terracotta", "#A15325", _noise),
    ("light grey terracotta", "#876A61", _noise),
    ("brown terracotta", "#4D3323", _noise),
    ("smooth sandstone", "#E0D6AA", _noise),
    ("gold block", "#F6D23D", _noise),
)


@lru_cache(maxsize=8)
def _textures(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(N × 16 × 16 × 3 textures, N × 3 average colours) of every block type for this seed."""
    colours = bgr_from_hex(*(hex_ for _, hex_, _ in BLOCKS)).astype(np.float32)
    textures = np.empty((len(BLOCKS), TEXELS, TEXELS, 3), np.uint8)
    for i, (_, _, pattern) in enumerate(BLOCKS):
        rng = np.random.default_rng([seed, i])
        shade = pattern(rng)
        # Shading is partly added, not only multiplied, so dark blocks (obsidian, black wool) still
        # show their grain.
        textured = colours[i] * shade[..., None] + (shade[..., None] - 1.0) * 40.0
        textures[i] = np.clip(textured + 0.5, 0, 255).astype(np.uint8)
    means = np.clip(textures.reshape(len(BLOCKS), -1, 3).mean(axis=1) + 0.5, 0, 255).astype(np.uint8)
    for shared in (textures, means):
        shared.setflags(write=False)  # shared by every caller through the cache
    return textures, means


def _blocks(*, seed: int, cell: int, smooth: bool = False) -> np.ndarray:
    """Textures scaled to the block size (nearest neighbour keeps texels crisp), edges darkened.

    `smooth` blocks are the concrete kind: the same colours with a faint grain and faint edges, as
    builders use for faces. Noisy textures and dark edges at that scale are a pattern the eye (and a
    face detector) no longer reads as a face."""
    textures, means = _textures(seed)
    idx = (np.arange(cell) * TEXELS) // cell
    big = textures[:, idx][:, :, idx].astype(np.float32)
    dark_top, dark_bottom = (0.55, 0.45)
    if smooth:
        flat = means.astype(np.float32)[:, None, None, :]
        big = flat + (big - flat) * SMOOTH_GRAIN
        dark_top, dark_bottom = (0.92, 0.86)
    edge = np.ones((cell, cell), np.float32)
    e = max(1, cell // 24)
    edge[:e, :] = edge[:, :e] = dark_top
    edge[-e:, :] = edge[:, -e:] = dark_bottom
    return np.clip(big * edge[None, :, :, None], 0, 255).astype(np.uint8)


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    h, w = image.shape[:2]
    _, palette = _textures(seed)

    def draw(means: np.ndarray, level: Grid, smooth: bool) -> np.ndarray:
        index = nearest_index(image=means, palette=palette, weights=LIGHTNESS_WEIGHTS)
        return tile_cells(tiles=_blocks(seed=seed, cell=level.cell, smooth=smooth), index=index, height=h, width=w)

    return focus_mosaic(image=image, focus=focus, across=BLOCKS_ACROSS, min_cell=MIN_BLOCK, min_detail_cell=MIN_BLOCK,
                        max_depth=DETAIL_DEPTH, saturation=1.2, contrast=1.08, draw=draw)
