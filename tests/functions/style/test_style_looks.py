"""The looks, measured from their pixels: each must be recognisable by what it does to a real photo,
not by its name."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.style import list_looks
from functions.style.looks import LOOKS
from functions.style.looks.focus import find_focus
from functions.style.providers import LocalStyleProvider
from shared.errors import OptionError
from shared.models.base import Box

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
SIMPSONS_YELLOW = (15, 217, 254)  # BGR of the show's skin colour


# ---------------------------------------------------------------- helpers


def load(media_dir: Path, name: str, *, long_side: int) -> np.ndarray:
    image = cv2.imread(str(media_dir / "photos" / "good" / name), cv2.IMREAD_COLOR)
    assert image is not None, name
    scale = long_side / max(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def colours_covering(image: np.ndarray, share: float = 0.95) -> int:
    """How many distinct colours it takes to cover `share` of the pixels."""
    flat = image.reshape(-1, 3).astype(np.int64)
    packed = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    _, counts = np.unique(packed, return_counts=True)
    cumulative = np.cumsum(np.sort(counts)[::-1])
    return int(np.searchsorted(cumulative, share * len(packed)) + 1)


def fine_detail(image: np.ndarray) -> float:
    """Typical (median) fine-scale contrast: texture, grain and noise, not the few outlines."""
    g = gray(image)
    return float(np.median(np.abs(g - cv2.GaussianBlur(g, (0, 0), 1.5))))


def hard_edges(image: np.ndarray) -> float:
    """Share of pixels on an abrupt, strong edge (as an inked outline makes)."""
    g = gray(image)
    magnitude = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    return float(np.mean(magnitude > 300))


def layout_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of the two pictures' luminance at 64×64: does the styled one keep the composition?"""

    def small(x: np.ndarray) -> np.ndarray:
        return cv2.resize(gray(x), (64, 64), interpolation=cv2.INTER_AREA).ravel()

    return float(np.corrcoef(small(a), small(b))[0, 1])


def _periodicity(profile: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of a 1-D profile after removing its slow trend."""
    x = profile.astype(np.float32)
    x = x - cv2.GaussianBlur(x.reshape(1, -1), (0, 0), 3).ravel()
    r = np.correlate(x, x, "full")[len(x) - 1 :]
    return r / r[0]


def grid_pitch(image: np.ndarray) -> tuple[int, float]:
    """(pitch in px, strength 0..1) of the strongest repeating vertical/horizontal structure.

    Column and row profiles of gradient energy are autocorrelated; the first lag reaching 80 % of the
    best peak is the pitch (later peaks are its multiples)."""
    g = gray(image)
    cols = np.abs(np.diff(g, axis=1)).mean(axis=0)
    rows = np.abs(np.diff(g, axis=0)).mean(axis=1)
    n = min(len(cols), len(rows)) // 8
    r = (_periodicity(cols)[:n] + _periodicity(rows)[:n]) / 2
    best = 4 + int(np.argmax(r[4:]))
    for lag in range(4, n - 1):
        if r[lag] >= 0.8 * r[best] and r[lag] >= r[lag - 1] and r[lag] >= r[lag + 1]:
            return lag, float(r[lag])
    return best, float(r[best])


def cells_at(image: np.ndarray, pitch: int) -> tuple[np.ndarray, np.ndarray]:
    """The picture cut into its grid cells (n × pitch × pitch × 3), keeping only whole cells, and each
    cell's top-left corner (n × 2, y and x in pixels). The grid's phase is where the darkest line of each
    period lies (the seam), the cell beginning just after it."""
    g = gray(image)
    cols, rows = g.mean(axis=0), g.mean(axis=1)
    x0 = (int(np.argmin([cols[k::pitch].mean() for k in range(pitch)])) + 1) % pitch
    y0 = (int(np.argmin([rows[k::pitch].mean() for k in range(pitch)])) + 1) % pitch
    ny, nx = (image.shape[0] - y0) // pitch, (image.shape[1] - x0) // pitch
    block = image[y0 : y0 + ny * pitch, x0 : x0 + nx * pitch]
    yy, xx = np.mgrid[0:ny, 0:nx]
    corners = np.stack([y0 + yy.ravel() * pitch, x0 + xx.ravel() * pitch], axis=1)
    return block.reshape(ny, pitch, nx, pitch, 3).transpose(0, 2, 1, 3, 4).reshape(-1, pitch, pitch, 3), corners


def cells(image: np.ndarray, pitch: int) -> np.ndarray:
    return cells_at(image, pitch)[0]


def away_from(corners: np.ndarray, pitch: int, boxes: list[Box], shape: tuple[int, ...]) -> np.ndarray:
    """Which cells (bool per corner) lie wholly outside every box (normalised) grown by one cell."""
    h, w = shape[:2]
    keep = np.ones(len(corners), bool)
    for b in boxes:
        x0, x1 = b.x * w - pitch, (b.x + b.w) * w + pitch
        y0, y1 = b.y * h - pitch, (b.y + b.h) * h + pitch
        ys, xs = corners[:, 0], corners[:, 1]
        keep &= (xs + pitch <= x0) | (xs >= x1) | (ys + pitch <= y0) | (ys >= y1)
    return keep


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def astronaut(media_dir: Path) -> np.ndarray:
    return load(media_dir, "astronaut.png", long_side=512)


@pytest.fixture(scope="module")
def photos(media_dir: Path) -> dict[str, np.ndarray]:
    return {
        "astronaut": load(media_dir, "astronaut.png", long_side=512),
        "coffee": load(media_dir, "coffee.png", long_side=480),
        "cat": load(media_dir, "chelsea_cat.png", long_side=451),
    }


@pytest.fixture(scope="module")
def styled(photos: dict[str, np.ndarray]) -> dict[tuple[str, str], np.ndarray]:
    provider = LocalStyleProvider()
    return {
        (photo, look): provider.stylize(image=image, look=look, seed=0)
        for photo, image in photos.items()
        for look in LOOKS
    }


@pytest.fixture(scope="module")
def large(media_dir: Path) -> dict[str, np.ndarray]:
    """The astronaut at 1024 px, where bricks and blocks are big enough to inspect one by one."""
    image = load(media_dir, "astronaut.png", long_side=1024)
    provider = LocalStyleProvider()
    return {look: provider.stylize(image=image, look=look, seed=0) for look in ("lego", "minecraft", "comic")}


# ---------------------------------------------------------------- the catalogue


def test_at_least_six_looks_with_one_line_descriptions() -> None:
    looks = list_looks()
    names = [look.name for look in looks]
    assert {"ghibli", "lego", "minecraft", "simpsons"} <= set(names)
    assert len(set(names)) == len(names) >= 6
    for look in looks:
        assert look.description and "\n" not in look.description


def test_unknown_look_is_an_option_error_listing_the_looks(astronaut: np.ndarray) -> None:
    with pytest.raises(OptionError) as err:
        LocalStyleProvider().stylize(image=astronaut, look="vaporwave", seed=0)
    for name in LOOKS:
        assert name in str(err.value)


# ---------------------------------------------------------------- every look


@pytest.mark.parametrize("look", list(LOOKS))
def test_output_keeps_the_size_of_odd_and_tiny_pictures(look: str, photos: dict[str, np.ndarray]) -> None:
    provider = LocalStyleProvider()
    for image in (photos["coffee"][:331, :467], photos["cat"][:50, :71]):
        out = provider.stylize(image=image, look=look, seed=3)
        assert out.shape == image.shape and out.dtype == np.uint8


@pytest.mark.parametrize("look", list(LOOKS))
def test_same_input_and_seed_give_identical_pixels(look: str, photos: dict[str, np.ndarray]) -> None:
    provider = LocalStyleProvider()
    first = provider.stylize(image=photos["coffee"], look=look, seed=7)
    second = provider.stylize(image=photos["coffee"].copy(), look=look, seed=7)
    assert first.tobytes() == second.tobytes()


@pytest.mark.parametrize("look", list(LOOKS))
def test_the_photo_stays_recognisable(look: str, photos: dict[str, np.ndarray], styled: dict) -> None:
    for photo, image in photos.items():
        assert layout_correlation(image, styled[(photo, look)]) > 0.7, photo


def test_every_pair_of_looks_gives_clearly_different_pictures(styled: dict) -> None:
    for photo in ("astronaut", "coffee", "cat"):
        for a, b in itertools.combinations(LOOKS, 2):
            lab_a = cv2.cvtColor(styled[(photo, a)], cv2.COLOR_BGR2Lab).astype(np.float32)
            lab_b = cv2.cvtColor(styled[(photo, b)], cv2.COLOR_BGR2Lab).astype(np.float32)
            distance = float(np.abs(lab_a - lab_b).mean())
            assert distance > 10.0, f"{photo}: {a} and {b} differ by only {distance:.1f}"


# ---------------------------------------------------------------- palettes


@pytest.mark.parametrize("look", ["lego", "minecraft", "simpsons", "comic"])
def test_limited_palette(look: str, photos: dict[str, np.ndarray], styled: dict) -> None:
    for photo, image in photos.items():
        original = colours_covering(image)
        ours = colours_covering(styled[(photo, look)])
        assert original > 20_000, photo
        assert ours * 40 < original, f"{photo}: {ours} colours vs {original}"


@pytest.mark.parametrize("look", ["simpsons", "comic"])
def test_cartoon_colours_are_a_handful(look: str, styled: dict) -> None:
    for photo in ("astronaut", "coffee", "cat"):
        assert colours_covering(styled[(photo, look)]) <= 16, photo


# ---------------------------------------------------------------- lego


@pytest.mark.parametrize(("look", "least", "most"), [("lego", 40, 60), ("minecraft", 48, 80)])
def test_block_looks_are_a_grid_of_so_many_cells_across(look: str, least: int, most: int,
                                                       large: dict[str, np.ndarray]) -> None:
    """LEGO: 40 to 60 studs across; Minecraft: 48 to 80 blocks."""
    out = large[look]
    pitch, strength = grid_pitch(out)
    assert least <= out.shape[1] / pitch <= most, pitch
    assert strength > 0.8


def test_lego_plates_are_flat_cells_of_few_colours(large: dict[str, np.ndarray], media_dir: Path) -> None:
    out = large["lego"]
    pitch, _ = grid_pitch(out)
    plates = cells(out, pitch)
    # The same spot of every plate (its flat top-left area) shows the plate's colour: few of them.
    spot = plates[:, pitch // 6, pitch // 6].reshape(-1, 3)
    plate_colours = len(np.unique(spot, axis=0))
    original = cells(load(media_dir, "astronaut.png", long_side=1024), pitch)[:, pitch // 6, pitch // 6]
    assert len(plates) > 1500
    assert plate_colours <= 40
    assert len(np.unique(original.reshape(-1, 3), axis=0)) > 10 * plate_colours


def test_lego_cells_carry_a_round_stud_and_a_dark_seam(large: dict[str, np.ndarray]) -> None:
    out = large["lego"]
    pitch, _ = grid_pitch(out)
    plates = cells(out, pitch).astype(np.float32).mean(axis=3)
    # Divide out each plate's colour so dark and light plates count alike, then average them.
    plates /= np.maximum(np.median(plates.reshape(len(plates), -1), axis=1), 8.0)[:, None, None]
    tile = plates.mean(axis=0)

    gy, gx = np.gradient(tile)
    weight = np.hypot(gx, gy)
    yy, xx = np.mgrid[0:pitch, 0:pitch]
    centre = (pitch - 1) / 2
    radius = np.hypot(yy - centre, xx - centre)
    inner = radius < 0.42 * pitch  # inside the plate, away from its bevel and seam
    w, r = weight[inner], radius[inner]
    mean_r = float((w * r).sum() / w.sum())
    spread = float(np.sqrt((w * (r - mean_r) ** 2).sum() / w.sum()))
    # The interior's edges lie on one circle, about 0.3 pitch from the centre...
    assert 0.22 * pitch < mean_r < 0.38 * pitch
    assert spread < 0.09 * pitch
    # ...all the way round (each of 8 directions holds part of the edge), not a line or a square.
    angle = np.arctan2((yy - centre)[inner], (xx - centre)[inner])
    sector = ((angle + np.pi) / (2 * np.pi) * 8).astype(int) % 8
    shares = np.bincount(sector, weights=w, minlength=8) / w.sum()
    assert shares.min() > 0.05
    # The seam: the cell's last row and column are much darker than the plate around the stud.
    assert tile[-1, :].mean() < 0.6 * tile[1 : pitch // 5, 1 : pitch // 5].mean()


# ---------------------------------------------------------------- minecraft


def test_minecraft_blocks_are_a_few_noisy_pixel_art_textures(large: dict[str, np.ndarray], media_dir: Path) -> None:
    out = large["minecraft"]
    pitch, _ = grid_pitch(out)
    assert pitch == 16  # one texel per pixel at this size: the textures can be read exactly
    # Where the subject is, blocks are halved (test_block_looks_are_finer_where_the_subject_is); the
    # rest of the picture is whole blocks.
    focus = find_focus(image=load(media_dir, "astronaut.png", long_side=1024))
    blocks, corners = cells_at(out, pitch)
    blocks = blocks[away_from(corners, pitch, [focus.subject, *focus.faces], out.shape)]
    patterns, first = np.unique(blocks.reshape(len(blocks), -1), axis=0, return_index=True)
    # Thousands of blocks, drawn from a few dozen textures (one per block type in the palette).
    assert len(blocks) > 3000
    assert len(patterns) <= 48
    luminance = cv2.cvtColor(blocks[first].reshape(-1, pitch, 3), cv2.COLOR_BGR2GRAY).reshape(-1, pitch, pitch)
    interior = luminance[:, 1:-1, 1:-1].astype(np.int32)
    # Per-pixel noise: neighbouring texels differ often, in a few shades (pixel art, not a gradient).
    changes = (np.diff(interior, axis=2) != 0).mean(axis=(1, 2))
    shades = np.array([len(np.unique(t)) for t in interior])
    assert np.median(changes) > 0.3
    assert np.median(shades) >= 3
    assert np.all(shades <= 12)
    # Dark block edges.
    ring = np.concatenate([luminance[:, 0, :], luminance[:, -1, :]], axis=1).mean(axis=1)
    assert np.all(ring < 0.8 * interior.mean(axis=(1, 2)) + 1)


def test_minecraft_seed_changes_the_textures_not_the_layout(photos: dict[str, np.ndarray]) -> None:
    provider = LocalStyleProvider()
    a = provider.stylize(image=photos["coffee"], look="minecraft", seed=1)
    b = provider.stylize(image=photos["coffee"], look="minecraft", seed=2)
    assert a.tobytes() != b.tobytes()
    assert layout_correlation(a, b) > 0.95


@pytest.mark.parametrize("look", ["lego", "minecraft"])
def test_block_looks_are_finer_where_the_subject_is(look: str, large: dict[str, np.ndarray], media_dir: Path) -> None:
    """Over the astronaut's face the blocks are halved (or quartered): a face a dozen blocks across is
    mush. Away from the subject they keep their size, so the mosaic still reads as one."""
    out = large[look]
    pitch, _ = grid_pitch(out)
    focus = find_focus(image=load(media_dir, "astronaut.png", long_side=1024))
    assert len(focus.faces) == 1
    face = focus.faces[0]
    h, w = out.shape[:2]
    crop = out[int(face.y * h) : int((face.y + face.h) * h), int(face.x * w) : int((face.x + face.w) * w)]
    fine, _ = grid_pitch(crop)
    assert fine <= pitch // 2, (fine, pitch)
    # Away from the subject: whole cells of the coarse pitch.
    _, corners = cells_at(out, pitch)
    assert away_from(corners, pitch, [focus.subject, *focus.faces], out.shape).mean() > 0.8


# ---------------------------------------------------------------- drawn looks


def test_simpsons_inks_thick_outlines(photos: dict[str, np.ndarray], styled: dict) -> None:
    for photo, image in photos.items():
        out = styled[(photo, "simpsons")]
        assert hard_edges(out) > max(2 * hard_edges(image), 0.02), photo
        # The ink is black and takes a real share of the picture.
        ink = np.all(out < 40, axis=2).mean()
        assert ink > 0.04, photo


def test_simpsons_turns_a_face_yellow_but_not_a_cat(styled: dict) -> None:
    """A face is painted in the show's yellow, cel-shaded in lighter and darker yellows of the same hue
    (its shadows are what keeps it a face); a cat's ginger fur stays fur."""

    def yellowness(region: np.ndarray) -> float:
        hsv = cv2.cvtColor(region, cv2.COLOR_BGR2HSV).astype(int)
        show = cv2.cvtColor(np.uint8([[SIMPSONS_YELLOW]]), cv2.COLOR_BGR2HSV).astype(int)[0, 0]
        return float(((np.abs(hsv[..., 0] - show[0]) <= 3) & (hsv[..., 1] > 180) & (hsv[..., 2] > 60)).mean())

    face = styled[("astronaut", "simpsons")][90:150, 195:255]  # the astronaut's cheeks and nose
    assert yellowness(face) > 0.8
    # The show's own yellow itself, not only its hue, covers a good part of the face.
    assert np.all(face == SIMPSONS_YELLOW, axis=2).mean() > 0.2
    assert yellowness(styled[("cat", "simpsons")]) < 0.05


def test_comic_prints_halftone_dots(large: dict[str, np.ndarray], media_dir: Path) -> None:
    out = large["comic"]
    pitch, strength = grid_pitch(out)
    # A fine regular screen (about 120 dots across on the diagonal), far stronger than any photo has.
    assert 100 <= out.shape[1] / pitch <= 260, pitch
    assert strength > 0.6
    assert grid_pitch(load(media_dir, "astronaut.png", long_side=1024))[1] < 0.4
    assert hard_edges(out) > 0.05


def test_ghibli_is_smoother_than_the_photo_but_keeps_its_structure(
    photos: dict[str, np.ndarray], styled: dict
) -> None:
    for photo, image in photos.items():
        out = styled[(photo, "ghibli")]
        assert fine_detail(out) < 0.6 * fine_detail(image), photo
        assert layout_correlation(image, out) > 0.9, photo
        # Lifted shadows: the darkest tones are lighter than the photo's.
        assert np.percentile(gray(out), 5) > np.percentile(gray(image), 5) + 8, photo


def test_sketch_is_graphite_on_paper(photos: dict[str, np.ndarray], styled: dict) -> None:
    for photo, image in photos.items():
        out = styled[(photo, "sketch")]
        saturation = cv2.cvtColor(out, cv2.COLOR_BGR2HSV)[..., 1]
        assert saturation.mean() < 30 < cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[..., 1].mean(), photo
        assert np.median(gray(out)) > 150, photo  # mostly paper
        assert layout_correlation(image, out) > 0.75, photo


# ---------------------------------------------------------------- contact sheet


def contact_sheet(image: np.ndarray, *, tile: int = 512, columns: int = 4) -> np.ndarray:
    """The photo and every look on it, in a grid of labelled tiles."""
    provider = LocalStyleProvider()
    tiles = [("original", image)] + [(look, provider.stylize(image=image, look=look, seed=0)) for look in LOOKS]
    h = tile * image.shape[0] // max(image.shape[:2])
    w = tile * image.shape[1] // max(image.shape[:2])
    cells_ = []
    for label, picture in tiles:
        small = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA)
        cv2.rectangle(small, (0, 0), (14 + 15 * len(label), 32), (255, 255, 255), cv2.FILLED)
        cv2.putText(small, label, (7, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (0, 0, 0), 2, cv2.LINE_AA)
        cells_.append(small)
    cells_ += [np.zeros_like(cells_[0])] * (-len(cells_) % columns)
    return np.vstack([np.hstack(cells_[i : i + columns]) for i in range(0, len(cells_), columns)])


def test_contact_sheet_of_all_looks(media_dir: Path) -> None:
    """Writes test-artifacts/looks.png (every look on the astronaut) and looks_street.png (on a street
    scene with trees and sky) for a person to judge."""
    ARTIFACTS.mkdir(exist_ok=True)
    for name, out in (("astronaut.png", "looks.png"), ("hato_pigeon.jpg", "looks_street.png")):
        sheet = contact_sheet(load(media_dir, name, long_side=1024))
        path = ARTIFACTS / out
        assert cv2.imwrite(str(path), sheet)
        written = cv2.imread(str(path))
        assert written is not None and written.shape == sheet.shape
