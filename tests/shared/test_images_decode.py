"""decode_photo over real third-party photos: every file gives a correct picture or a one-line PhotoError,
and the pictures it gives are upright, 8-bit sRGB and no larger than asked."""

from __future__ import annotations

import csv
import io
import random
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import psutil
import pytest
from PIL import Image, ImageDraw

from shared.errors import PhotoError
from shared.media.budget import MIB, DecodeBudget, decode_budget
from shared.media.photos import decode_photo
from shared.media.pngbands import PngBands
from shared.media.srgb import NEUTRAL_BACKGROUND
from shared.settings import PHOTO_MAX_PIXELS, get_settings

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"
PHOTOS = MEDIA / "photos"
CORPUS = sorted(f"{p.parent.name}/{p.name}" for p in PHOTOS.glob("*/*") if p.is_file()) if PHOTOS.is_dir() else []
LIMIT = 120_000_000

# What a user must see: these cannot give a correct picture and are refused; every other file decodes.
REFUSED = {
    "bad/broken.png",  # 80 bytes, no image data
    "bad/decompression_bomb.gif",  # claims 4.36 gigapixels
    "bad/png_decompression_dos.png",  # zlib bomb in a text chunk
    "bad/truncated_400B.jpg",
    "bad/truncated_image.png",
    "bad/ultrahdr_gainmap.jpg",  # data for only the first rows of 2688
    "bad/zero_bytes.jpg",
    "bad/zero_width.gif",
}


def decode(rel: str, *, max_side: int = 4096, max_pixels: int = LIMIT) -> np.ndarray:
    return decode_photo(path=PHOTOS / rel, max_pixels=max_pixels, max_side=max_side).rgb


def raw_rgb(rel: str) -> np.ndarray:
    """The stored pixels as Pillow gives them, with no orientation applied."""
    with Image.open(PHOTOS / rel) as im:
        return np.asarray(im.convert("RGB"))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, *, width: int, height: int, bit_depth: int, colour_type: int, rows: Iterable[bytes],
              before_data: bytes = b"") -> None:
    """A PNG written row by row (each row: its filter byte, then its bytes), never whole in memory."""
    with path.open("wb") as f:
        ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + before_data)
        deflate = zlib.compressobj(6)
        pending = bytearray()
        for row in rows:
            pending += deflate.compress(row)
            if len(pending) >= 1 << 20:
                f.write(png_chunk(b"IDAT", bytes(pending)))
                pending.clear()
        pending += deflate.flush()
        f.write(png_chunk(b"IDAT", bytes(pending)) + png_chunk(b"IEND", b""))


WORST_SIDE = 10950
"""Issue 10's worst photo: 16-bit grey, 10950 x 10950 (119.9 MP), a few hundred KB."""


def worst_case_png(path: Path, *, seed: int = 0, side: int = WORST_SIDE) -> None:
    """16-bit grey and mostly flat: a ramp of levels 291..694 (+ seed) across, its direction flipped every
    1024 rows; every other row repeats the one above (PNG's Up filter), so it compresses ~1000:1."""
    ramp = np.linspace(291 + seed, 694 + seed, side).round().astype(">u2")

    def rows() -> Iterable[bytes]:
        same = b"\x02" + bytes(2 * side)
        for y in range(side):
            if y % 1024 == 0:
                yield b"\x00" + (ramp if y // 1024 % 2 == 0 else ramp[::-1]).tobytes()
            else:
                yield same

    write_png(path, width=side, height=side, bit_depth=16, colour_type=0, rows=rows())


class RssSampler:
    """The peak resident memory of a process while the block runs, sampled in a thread every 2 ms."""

    def __init__(self, proc: psutil.Process | None = None) -> None:
        self.proc = proc or psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> RssSampler:
        self.start = self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def grew(self) -> int:
        return self.peak - self.start


def manifest() -> dict[str, dict[str, str]]:
    with (PHOTOS / "MANIFEST.csv").open(newline="") as f:
        return {row["file"].removeprefix("photos/"): row for row in csv.DictReader(f)}


# ---------------------------------------------------------------- the whole corpus


@pytest.mark.parametrize("rel", CORPUS)
def test_every_photo_decodes_correctly_or_is_refused_in_one_line(rel: str, media_dir: Path) -> None:
    path = PHOTOS / rel
    try:
        photo = decode_photo(path=path, max_pixels=LIMIT, max_side=1024)
    except PhotoError as err:
        message = str(err)
        assert rel in REFUSED, f"a usable photo was refused: {message}"
        assert "\n" not in message and message.startswith(f"{path.name}: ")
        assert len(message) < 250
        return
    assert rel not in REFUSED, f"{rel} should have been refused"
    rgb = photo.rgb
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.flags["C_CONTIGUOUS"]
    assert max(rgb.shape[:2]) <= 1024
    assert float(rgb.std()) > 5, "picture is blank"
    row = manifest()[rel]
    if row["width"]:
        stored = (int(row["width"]), int(row["height"]))
        # Pillow's AVIF and the JPEG plugins report the stored size and an orientation to apply;
        # pillow-heif has already applied it (the manifest then says 1).
        turned = row["exif_orientation"] in {"5", "6", "7", "8"}
        upright = (stored[1], stored[0]) if turned else stored
        assert (photo.original_width, photo.original_height) == upright
    scale = max(photo.width, photo.height) / max(photo.original_width, photo.original_height)
    assert abs(photo.width - photo.original_width * scale) <= 1
    assert abs(photo.height - photo.original_height * scale) <= 1


# ---------------------------------------------------------------- orientation


# EXIF 6: row 0 is the visual right side -> turn 90° clockwise; EXIF 8: row 0 is the visual left -> turn
# 90° counter-clockwise (EXIF 2.3, tag 0x0112). np.rot90 with k=-1 turns clockwise.
@pytest.mark.parametrize(
    ("rel", "turns"),
    [
        ("good/waterfall_landscape_orient6.jpg", -1),
        ("good/canon_lamp_orient6.jpg", -1),
        ("good/person_portrait_orient8.jpg", 1),
        ("bad/png_exif_orient3.png", 2),
    ],
)
def test_exif_orientation_turns_the_picture_as_the_spec_says(rel: str, turns: int, media_dir: Path) -> None:
    expected = np.rot90(raw_rgb(rel), k=turns)
    got = decode(rel)
    assert got.shape == expected.shape
    assert np.abs(got.astype(int) - expected).mean() < 0.5
    # ...and not mirrored: the mirror image of the right answer is far from it.
    assert np.abs(got[:, ::-1].astype(int) - expected).mean() > 5


@pytest.mark.parametrize("rel", ["good/waterfall_landscape_orient6.jpg", "good/person_portrait_orient8.jpg"])
def test_labelled_photos_have_their_sky_at_the_top(rel: str, media_dir: Path) -> None:
    # Both carry printed "top" labels above a bright sky / waterfall mist: upright, the top edge band is the
    # brightest of the four; turned 90° or 180° another edge would be.
    grey = decode(rel).mean(axis=2)
    h, w = grey.shape
    bands = {
        "top": grey[: h // 5].mean(),
        "bottom": grey[-h // 5 :].mean(),
        "left": grey[:, : w // 5].mean(),
        "right": grey[:, -w // 5 :].mean(),
    }
    assert max(bands, key=lambda k: bands[k]) == "top", bands


def test_avif_rotation_box_is_applied_once(media_dir: Path) -> None:
    # Link-U's kimono.rotate90.avif stores the picture turned and an `irot` box that turns it back:
    # displayed, it is the same picture as kimono.jpg (their README).
    got = decode("bad/kimono_irot90.avif").astype(int)
    reference = decode("good/kimono_portrait.jpg").astype(int)
    assert got.shape == reference.shape == (1024, 722, 3)
    assert np.abs(got - reference).mean() < 6
    assert np.abs(got[::-1, ::-1] - reference).mean() > 30


def test_iphone_heic_is_upright_and_not_turned_twice(media_dir: Path) -> None:
    photo = decode_photo(path=PHOTOS / "good/iphone13_kitchen.heic", max_pixels=LIMIT, max_side=1024)
    assert photo.orientation == 6  # the file asks for a turn, libheif makes it...
    assert (photo.original_width, photo.original_height) == (3024, 4032)  # ...and we do not make another
    assert (photo.width, photo.height) == (768, 1024)


def test_every_orientation_of_a_synthetic_jpeg(tmp_path: Path) -> None:
    # An asymmetric picture stored as each of the 8 EXIF orientations must always come back the same.
    upright = np.zeros((60, 90, 3), np.uint8)
    upright[:20, :30] = (250, 20, 20)  # red top-left
    upright[40:, 70:] = (20, 20, 250)  # blue bottom-right
    upright[:, 45:50] = (20, 250, 20)
    stored_as = {
        1: upright,
        2: upright[:, ::-1],
        3: upright[::-1, ::-1],
        4: upright[::-1],
        5: upright.transpose(1, 0, 2),
        6: np.rot90(upright, k=1),
        7: upright.transpose(1, 0, 2)[::-1, ::-1],
        8: np.rot90(upright, k=-1),
    }
    for orientation, pixels in stored_as.items():
        path = tmp_path / f"o{orientation}.png"
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(np.ascontiguousarray(pixels)).save(path, exif=exif)
        got = decode_photo(path=path, max_pixels=LIMIT, max_side=512)
        assert got.orientation == orientation
        assert np.array_equal(got.rgb, upright), f"orientation {orientation}"


# ---------------------------------------------------------------- colour


def test_cmyk_jpeg_colours_are_not_inverted(media_dir: Path) -> None:
    rgb = decode("bad/cmyk.jpg").astype(int)
    # Pillow's own test of this file: red in the upper left corner, black in the opposite one.
    r, g, b = rgb[0, 0]
    assert r > 200 and g < 60 and b < 60
    assert rgb[-1, -1].max() < 40
    reference = raw_rgb("bad/cmyk.jpg").reshape(-1, 3).mean(axis=0)
    assert np.abs(rgb.reshape(-1, 3).mean(axis=0) - reference).max() < 2


def test_lab_tiff_is_converted_to_srgb(media_dir: Path) -> None:
    # lab.tif and av1_in_heif.heif are both Pillow's 128 px "hopper": same picture, different encodings.
    lab = decode("bad/lab.tif").astype(int)
    reference = decode("bad/av1_in_heif.heif").astype(int)
    assert np.abs(lab - reference).mean() < 8
    with Image.open(PHOTOS / "bad/lab.tif") as im:
        read_as_rgb = np.asarray(im).astype(int)[..., :3]
    assert np.abs(read_as_rgb - reference).mean() > 40  # what skipping the conversion would give


def test_embedded_display_p3_profile_is_converted_to_srgb(tmp_path: Path, media_dir: Path) -> None:
    with Image.open(PHOTOS / "good/iphone13_kitchen.heic") as im:
        p3 = im.info["icc_profile"]
    path = tmp_path / "p3.png"
    Image.new("RGB", (16, 16), (200, 60, 60)).save(path, icc_profile=p3)
    got = decode_photo(path=path, max_pixels=LIMIT, max_side=64).rgb[8, 8].astype(float)
    # By hand: sRGB curve to linear, Display P3 -> sRGB (D65) matrix, back through the sRGB curve.
    lin = np.array([200, 60, 60]) / 255.0
    lin = np.where(lin <= 0.04045, lin / 12.92, ((lin + 0.055) / 1.055) ** 2.4)
    matrix = np.array([[1.2249, -0.2247, 0.0], [-0.0420, 1.0419, 0.0], [-0.0197, -0.0786, 1.0979]])
    srgb = np.clip(matrix @ lin, 0, 1)
    srgb = np.where(srgb <= 0.0031308, srgb * 12.92, 1.055 * srgb ** (1 / 2.4) - 0.055) * 255
    assert np.abs(got - srgb).max() < 3, (got, srgb)
    assert np.abs(got - [200, 60, 60]).max() > 10  # the conversion did something


def test_16bit_grey_uses_the_full_range_without_clipping(media_dir: Path) -> None:
    with Image.open(PHOTOS / "bad/gray16.tif") as im:
        source = np.asarray(im).astype(int)
    assert source.max() < 1024  # the values fill a sliver of 0..65535
    got = decode("bad/gray16.tif")[..., 0].astype(int)
    assert got.min() == 0 and got.max() == 255
    # Not clipped: only the brightest source pixels become white. Monotonic: tonal order is kept.
    assert (got == 255).sum() == (source == source.max()).sum()
    order = np.argsort(source, axis=None, kind="stable")
    assert np.all(np.diff(got.ravel()[order]) >= 0)
    assert len(np.unique(got)) > 150


def test_16bit_grey_with_transparency(media_dir: Path) -> None:
    with Image.open(PHOTOS / "bad/gray16_trns.png") as im:
        source = np.asarray(im).astype(int)
        transparent = im.info["transparency"]
    got = decode("bad/gray16_trns.png").astype(int)
    hidden = source == transparent
    assert hidden.any() and (~hidden).any()
    assert np.all(got[hidden] == NEUTRAL_BACKGROUND)
    visible = got[~hidden][:, 0]
    assert visible.min() == 0 and visible.max() == 255


def test_palette_transparency_is_composited_over_the_neutral_background(media_dir: Path) -> None:
    with Image.open(PHOTOS / "bad/palette_trns.png") as im:
        rgba = np.asarray(im.convert("RGBA")).astype(int)
    got = decode("bad/palette_trns.png").astype(int)
    clear, opaque = rgba[..., 3] == 0, rgba[..., 3] == 255
    assert clear.sum() > 100 and opaque.sum() > 100
    assert np.all(got[clear] == NEUTRAL_BACKGROUND)
    assert np.array_equal(got[opaque], rgba[..., :3][opaque])


@pytest.mark.parametrize("rel", ["bad/rgba.webp", "bad/animated.avifs", "bad/animated_16bit.apng"])
def test_alpha_is_composited_over_the_neutral_background(rel: str, media_dir: Path) -> None:
    with Image.open(PHOTOS / rel) as im:
        rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (*NEUTRAL_BACKGROUND, 255))
    expected = np.asarray(Image.alpha_composite(background, rgba).convert("RGB")).astype(int)
    assert np.abs(decode(rel).astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("rel", "frame"), [("bad/animated.gif", 1), ("bad/stereo.mpo", 1)])
def test_first_frame_of_multi_frame_files(rel: str, frame: int, media_dir: Path) -> None:
    with Image.open(PHOTOS / rel) as im:
        first = np.asarray(im.convert("RGB")).astype(int)
        frames = []
        for i in range(1, im.n_frames):
            im.seek(i)
            frames.append(np.asarray(im.convert("RGB")).astype(int))
    got = decode(rel).astype(int)
    assert np.abs(got - first).max() <= 1
    # The other frames really differ, so this tells frames apart.
    assert max(np.abs(f - first).mean() for f in frames) > 2


def test_first_frame_of_animated_png_is_its_red_frame(media_dir: Path) -> None:
    got = decode("bad/animated_16bit.apng")
    assert got.shape == (64, 128, 3)
    assert np.all(got == (255, 0, 0))


# ---------------------------------------------------------------- refusals, quickly and in one line


def test_pixel_bomb_is_refused_from_its_header(media_dir: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(PhotoError) as caught:
        decode_photo(path=PHOTOS / "bad/decompression_bomb.gif", max_pixels=LIMIT, max_side=1024)
    assert time.perf_counter() - start < 0.5
    assert str(caught.value) == "decompression_bomb.gif: claims 4364696535 pixels, over the limit of 120000000"


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_our_pixel_limit_applies_below_pillows(tmp_path: Path, media_dir: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(12_000, 12_000))  # 144 MP: under Pillow's hard limit, over ours
    start = time.perf_counter()
    with pytest.raises(PhotoError, match=r"claims 144000000 pixels \(12000x12000\), over the limit of 120000000"):
        decode_photo(path=path, max_pixels=LIMIT, max_side=1024)
    assert time.perf_counter() - start < 0.5
    with pytest.raises(PhotoError, match="over the limit of 1000000"):
        decode_photo(path=PHOTOS / "good/hato_pigeon.jpg", max_pixels=1_000_000, max_side=1024)


def test_png_text_chunk_bomb_is_refused_in_one_line(media_dir: Path) -> None:
    with pytest.raises(PhotoError, match="zlib bomb") as caught:
        decode_photo(path=PHOTOS / "bad/png_decompression_dos.png", max_pixels=LIMIT, max_side=1024)
    assert "\n" not in str(caught.value)


def test_truncated_jpeg_with_every_row_present_is_accepted(media_dir: Path) -> None:
    got = decode("bad/truncated_jpeg.jpg")
    assert got.shape == (100, 100, 3)
    assert got[-1].std() > 20  # its last row is real picture (noise), not grey fill


def test_truncated_jpeg_missing_most_rows_is_refused(media_dir: Path) -> None:
    with pytest.raises(PhotoError, match=r"truncated or corrupt: the file ends after \d+% of the picture's rows"):
        decode("bad/ultrahdr_gainmap.jpg")


def test_jpeg_cut_anywhere(tmp_path: Path, media_dir: Path) -> None:
    data = (PHOTOS / "good/rocket_launch.jpg").read_bytes()
    full = decode("good/rocket_launch.jpg")
    no_end_marker = tmp_path / "no_eoi.jpg"
    no_end_marker.write_bytes(data[:-2])
    assert np.array_equal(decode_photo(path=no_end_marker, max_pixels=LIMIT, max_side=4096).rgb, full)
    half = tmp_path / "half.jpg"
    half.write_bytes(data[: len(data) // 2])
    with pytest.raises(PhotoError, match="truncated or corrupt"):
        decode_photo(path=half, max_pixels=LIMIT, max_side=4096)


@pytest.mark.parametrize(
    "rel",
    [
        "good/astronaut.png",
        "good/rocket_launch.jpg",
        "bad/kimono_irot90.avif",
        "bad/av1_in_heif.heif",
        "bad/animated.gif",
        "bad/rgba.webp",
        "bad/lab.tif",
    ],
)
def test_damaged_copies_never_raise_anything_but_photo_error(rel: str, tmp_path: Path, media_dir: Path) -> None:
    data = (PHOTOS / rel).read_bytes()
    rng = random.Random(rel)
    path = tmp_path / Path(rel).name
    for trial in range(12):
        damaged = bytearray(data[: rng.randrange(1, len(data))] if trial % 2 else data)
        for _ in range(rng.randrange(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        path.write_bytes(bytes(damaged))
        try:
            photo = decode_photo(path=path, max_pixels=LIMIT, max_side=512)
        except PhotoError as err:
            assert "\n" not in str(err)
        else:
            assert photo.rgb.dtype == np.uint8 and photo.rgb.shape[2] == 3


def test_unreadable_inputs_have_plain_reasons(tmp_path: Path) -> None:
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    with pytest.raises(PhotoError, match=r"notes\.jpg: not a picture in a format we can read"):
        decode_photo(path=text, max_pixels=LIMIT, max_side=512)
    with pytest.raises(PhotoError, match=r"missing\.jpg: cannot read the file"):
        decode_photo(path=tmp_path / "missing.jpg", max_pixels=LIMIT, max_side=512)
    (tmp_path / "0.jpg").write_bytes(b"")
    with pytest.raises(PhotoError, match=r"^holiday\.jpg: empty file"):
        decode_photo(path=tmp_path / "0.jpg", max_pixels=LIMIT, max_side=512, name="holiday.jpg")


# ---------------------------------------------------------------- size and speed


def test_long_side_obeys_max_side(media_dir: Path) -> None:
    photo = decode_photo(path=PHOTOS / "good/nokia_harbour_wide.jpg", max_pixels=LIMIT, max_side=1000)
    assert (photo.width, photo.height) == (1000, 429)  # 4608 x 1976 scaled, aspect kept
    assert (photo.original_width, photo.original_height) == (4608, 1976)
    small = decode_photo(path=PHOTOS / "good/astronaut.png", max_pixels=LIMIT, max_side=1000)
    assert (small.width, small.height) == (512, 512)  # never enlarged


def test_downscale_keeps_detail(media_dir: Path) -> None:
    # The reduced decode (libjpeg DCT scaling + area averaging) matches a full decode resized with
    # area averaging: no aliasing, no shift.
    full = decode("good/hato_pigeon.jpg")
    reference = cv2.resize(full, (1000, 665), interpolation=cv2.INTER_AREA).astype(int)
    got = decode("good/hato_pigeon.jpg", max_side=1000).astype(int)
    assert got.shape == reference.shape
    assert np.abs(got - reference).mean() < 2


def test_16_megapixel_heif_decodes_quickly(media_dir: Path) -> None:
    start = time.perf_counter()
    photo = decode_photo(path=PHOTOS / "good/nokia_sunset_street.heif", max_pixels=LIMIT, max_side=3840)
    elapsed = time.perf_counter() - start
    assert (photo.width, photo.height) == (3840, 2880)
    assert elapsed < 2.0, f"{elapsed:.2f} s"


# ---------------------------------------------------------------- capture time


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("good/nokia_harbour_wide.jpg", datetime(2022, 8, 14, 14, 12, 31)),  # DateTimeOriginal
        ("good/iphone13_kitchen.heic", datetime(2022, 2, 16, 12, 55, 41, 762000)),  # + SubsecTimeOriginal
        ("good/canon_lamp_orient6.jpg", datetime(2015, 2, 9, 22, 48, 10)),
        ("good/nokia_sunset_street.heif", datetime(2022, 1, 12, 7, 30, 14, 364000)),  # only DateTime
        ("good/astronaut.png", None),
        ("bad/bad_exif.jpg", None),
    ],
)
def test_captured_at_from_exif(rel: str, expected: datetime | None, media_dir: Path) -> None:
    assert decode_photo(path=PHOTOS / rel, max_pixels=LIMIT, max_side=256).captured_at == expected


def test_placeholder_exif_dates_are_ignored(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0132] = "2021:05:04 03:02:01"  # DateTime in IFD0
    exif.get_ifd(0x8769)[0x9003] = "0000:00:00 00:00:00"  # DateTimeOriginal left blank by the camera
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, format="JPEG", exif=exif)
    path = tmp_path / "dated.jpg"
    path.write_bytes(buf.getvalue())
    assert decode_photo(path=path, max_pixels=LIMIT, max_side=64).captured_at == datetime(2021, 5, 4, 3, 2, 1)


# ---------------------------------------------------------------- memory: any photo, bounded memory


def _filtered(raw: np.ndarray, *, bpp: int) -> Iterator[bytes]:
    """The rows of `raw` (H x row bytes) with PNG filter y % 5 on row y: None, Sub, Up, Average, Paeth,
    so every filter meets every other across band boundaries."""
    above = np.zeros(raw.shape[1], np.int16)
    for y, row in enumerate(raw.astype(np.int16)):
        left = np.r_[np.zeros(bpp, np.int16), row[:-bpp]]
        corner = np.r_[np.zeros(bpp, np.int16), above[:-bpp]]
        kind = y % 5
        if kind == 4:
            guess = left + above - corner
            near_a, near_b, near_c = np.abs(guess - left), np.abs(guess - above), np.abs(guess - corner)
            predicted = np.where((near_a <= near_b) & (near_a <= near_c), left, np.where(near_b <= near_c, above,
                                                                                         corner))
        else:
            predicted = [np.zeros_like(row), left, above, (left + above) // 2][kind]
        yield bytes([kind]) + ((row - predicted) % 256).astype(np.uint8).tobytes()
        above = row


# (bit depth, colour type, extra chunks before the data): every layout PNG has, with a palette and tRNS
# where they apply.
_PALETTE = bytes(random.Random(7).randrange(256) for _ in range(3 * 256))
PNG_LAYOUTS = {
    "grey1": (1, 0, b""), "grey2": (2, 0, b""), "grey4": (4, 0, b""), "grey8": (8, 0, b""),
    "grey16": (16, 0, b""), "grey16_keyed": (16, 0, png_chunk(b"tRNS", struct.pack(">H", 1000))),
    "rgb8": (8, 2, b""), "rgb8_keyed": (8, 2, png_chunk(b"tRNS", struct.pack(">HHH", 10, 20, 30))),
    "rgb16": (16, 2, b""),
    "palette1": (1, 3, png_chunk(b"PLTE", _PALETTE[:6])), "palette2": (2, 3, png_chunk(b"PLTE", _PALETTE[:12])),
    "palette4": (4, 3, png_chunk(b"PLTE", _PALETTE[:48])),
    "palette8_alpha": (8, 3, png_chunk(b"PLTE", _PALETTE) + png_chunk(b"tRNS", _PALETTE[:256])),
    "grey_alpha8": (8, 4, b""), "grey_alpha16": (16, 4, b""), "rgba8": (8, 6, b""), "rgba16": (16, 6, b""),
}


@pytest.mark.parametrize("layout", list(PNG_LAYOUTS))
def test_png_bands_are_the_pixels_of_a_whole_decode(layout: str, tmp_path: Path) -> None:
    depth, colour, chunks = PNG_LAYOUTS[layout]
    width, height = 77, 150  # an odd width: rows of 1-, 2- and 4-bit pictures end inside a byte
    bits = depth * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    rng = np.random.default_rng(len(layout))
    raw = rng.integers(0, 256, (height, (width * bits + 7) // 8), dtype=np.uint8)
    if layout == "grey16_keyed":
        raw[::3, :8] = [0x03, 0xE8] * 4  # some pixels at the transparent level, 1000
    path = tmp_path / f"{layout}.png"
    write_png(path, width=width, height=height, bit_depth=depth, colour_type=colour,
              rows=_filtered(raw, bpp=max(1, bits // 8)), before_data=chunks)
    with Image.open(path) as whole:
        whole.load()
        expected = np.asarray(whole)
        bands = PngBands.of(im=Image.open(path), path=path, label=path.name, band_pixels=7 * width)
        assert bands is not None
        got = list(bands)
        assert len(got) == 22  # 150 rows, 7 a band
        assert all(band.mode == whole.mode for band in got)
        assert np.array_equal(np.concatenate([np.asarray(band) for band in got]), expected)
        assert got[-1].info.get("transparency") == whole.info.get("transparency")
        if whole.mode == "P":
            assert got[-1].getpalette() == whole.getpalette()


def test_worst_grey_png_decodes_a_band_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    worst_case_png(path)
    decode_photo(path=PHOTOS / "good/astronaut.png" if PHOTOS.is_dir() else path, max_pixels=LIMIT, max_side=64)
    with RssSampler() as rss:
        photo = decode_photo(path=path, max_pixels=PHOTO_MAX_PIXELS, max_side=512)
    # Decoded whole it took 3.9 GiB here (229 MiB of 16-bit pixels, then float64 copies of them).
    assert rss.grew < 150 * MIB, f"{rss.grew / MIB:.0f} MiB"
    assert (photo.original_width, photo.original_height) == (WORST_SIDE, WORST_SIDE)
    assert photo.rgb.shape == (512, 512, 3)
    # Its ramp of levels 291..694 runs left to right in the first 1024 rows (47 rows here), then back:
    # stretched to 0..255 whole, never clipped.
    first, second = photo.rgb[:46, :, 0].astype(int), photo.rgb[49:95, :, 0].astype(int)
    assert first[:, 0].max() <= 1 and first[:, -1].min() >= 254
    assert second[:, 0].min() >= 254 and second[:, -1].max() <= 1
    assert np.all(np.diff(first.mean(axis=0)) >= 0)


@pytest.fixture(scope="module")
def phone_200mp_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16320 x 12240 (199.8 MP) baseline 4:2:0 JPEG, as a 200 MP phone writes: yellow top-left quarter,
    blue elsewhere."""
    path = tmp_path_factory.mktemp("phone") / "phone_200mp.jpg"
    with Image.new("RGB", (16320, 12240), (40, 90, 160)) as im:
        ImageDraw.Draw(im).rectangle((0, 0, 8159, 6119), fill=(230, 200, 40))
        im.save(path, quality=90)
    return path


def test_a_200_megapixel_phone_jpeg_decodes_to_the_working_size(phone_200mp_jpeg: Path) -> None:
    decode_photo(path=phone_200mp_jpeg, max_pixels=PHOTO_MAX_PIXELS, max_side=512)  # warm up
    with RssSampler() as rss:
        photo = decode_photo(path=phone_200mp_jpeg, max_pixels=get_settings().max_pixels, max_side=3840)
    # libjpeg decodes it at 1/4 scale straight away; whole it is 762 MiB in Pillow (4 bytes a pixel).
    assert rss.grew < 300 * MIB, f"{rss.grew / MIB:.0f} MiB"
    assert (photo.original_width, photo.original_height) == (16320, 12240)
    assert (photo.width, photo.height) == (3840, 2880)
    assert np.abs(photo.rgb[:1400, :1900].astype(int) - (230, 200, 40)).max() <= 4
    assert np.abs(photo.rgb[1500:, 2000:].astype(int) - (40, 90, 160)).max() <= 4


def test_giga_pixel_headers_are_refused_with_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_png_header(16384, 16384))  # 268 MP: what no phone or camera writes
    start = time.perf_counter()
    with pytest.raises(PhotoError, match=rf"claims 268435456 pixels \(16384x16384\), over the limit of "
                                         rf"{PHOTO_MAX_PIXELS}$"):
        decode_photo(path=path, max_pixels=get_settings().max_pixels, max_side=1024)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_cut_off_heic_is_refused_in_one_line(keep: float, tmp_path: Path, media_dir: Path) -> None:
    data = (PHOTOS / "good/iphone13_kitchen.heic").read_bytes()
    cut = tmp_path / "kitchen.heic"
    cut.write_bytes(data[: int(len(data) * keep)])
    # Decoded, the cut file is a full-size picture with the missing tiles flat green.
    with pytest.raises(PhotoError, match=r"^kitchen\.heic: truncated or corrupt: the file ends after \d+% of the "
                                         r"picture's data \(\d+ of 2178942 bytes\)$"):
        decode_photo(path=cut, max_pixels=LIMIT, max_side=512)


@pytest.mark.parametrize("keep", [0.3, 0.99])
def test_cut_off_png_is_refused_with_the_share_of_rows_it_holds(keep: float, tmp_path: Path) -> None:
    path = tmp_path / "grey16.png"
    worst_case_png(path, side=2000)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(PhotoError, match=r"^grey16\.png: truncated or corrupt: the file ends after \d+% of the "
                                         r"picture's rows$"):
        decode_photo(path=path, max_pixels=LIMIT, max_side=512)


@pytest.fixture()
def budget_64_mib(monkeypatch: pytest.MonkeyPatch) -> Iterator[DecodeBudget]:
    monkeypatch.setenv("MOMENTLOOP_DECODE_MEMORY_MB", "64")
    get_settings.cache_clear()
    decode_budget.cache_clear()
    yield decode_budget()
    get_settings.cache_clear()
    decode_budget.cache_clear()


def test_what_only_decodes_whole_past_the_budget_decodes_alone_and_png_in_bands(
    budget_64_mib: DecodeBudget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ramp = np.linspace(0, 255, 3000, dtype=np.float32)
    pixels = np.dstack([np.broadcast_to(ramp, (2500, 3000)), np.broadcast_to(ramp[:2500, None], (2500, 3000)),
                        np.full((2500, 3000), 90.0)]).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "big.webp", quality=50, method=0)
    Image.fromarray(pixels).save(tmp_path / "big.png", compress_level=1)
    # libwebp hands Pillow the whole picture: 7.5 MP x (4 + 4 bytes), and the copy OpenCV shrinks > 64 MiB.
    # It used to be refused; now it waits for the other decodes and runs alone.
    with caplog.at_level("INFO", logger="shared.media.photos"):
        webp = decode_photo(path=tmp_path / "big.webp", max_pixels=LIMIT, max_side=512).rgb
        png = decode_photo(path=tmp_path / "big.png", max_pixels=LIMIT, max_side=512).rgb
    alone = [r.getMessage() for r in caplog.records if "decodes alone" in r.getMessage()]
    assert len(alone) == 1 and re.fullmatch(r"big\.webp: decoding this 3000x2500 WEBP takes about \d+ MiB at once, "
                                            r"over the 64 MiB budget: it decodes alone", alone[0]), alone
    assert webp.shape == png.shape == (427, 512, 3) and budget_64_mib.held == 0
    assert np.abs(webp.astype(int) - png.astype(int)).mean() < 3  # the same picture, lossy


def test_progressive_jpeg_counts_its_full_size_coefficients(
    budget_64_mib: DecodeBudget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Same picture twice: baseline decodes at 1/8 scale in little memory; progressive keeps 24 MP x 1.5
    # samples x 2 bytes of DCT coefficients until its last scan: more than 64 MiB, so it decodes alone.
    with Image.new("RGB", (6000, 4000), (200, 100, 50)) as im:
        im.save(tmp_path / "baseline.jpg")
        im.save(tmp_path / "progressive.jpg", progressive=True)
    with caplog.at_level("INFO", logger="shared.media.photos"):
        for name in ("baseline.jpg", "progressive.jpg"):
            photo = decode_photo(path=tmp_path / name, max_pixels=LIMIT, max_side=512)
            assert photo.rgb.shape == (341, 512, 3) and np.abs(photo.rgb.astype(int) - (200, 100, 50)).max() <= 2
    alone = [r.getMessage() for r in caplog.records if "decodes alone" in r.getMessage()]
    assert len(alone) == 1 and alone[0].startswith("progressive.jpg: decoding this 6000x4000 JPEG takes about ")


def test_decode_budget_makes_decodes_wait_for_room() -> None:
    budget = DecodeBudget(limit_bytes=100)
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with budget.hold(60):
            order.append("first in")
            first_in.set()
            release_first.wait(5)
            order.append("first out")

    def second() -> None:
        first_in.wait(5)
        with budget.hold(60):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_in.wait(5)
    time.sleep(0.2)
    assert order == ["first in"] and budget.held == 60  # 60 + 60 > 100: the second waits
    release_first.set()
    for t in threads:
        t.join(5)
    assert order == ["first in", "first out", "second in"] and budget.held == 0
    with budget.hold(40), budget.hold(60):  # what fits together runs together
        assert budget.held == 100


def test_a_decode_bigger_than_the_budget_waits_to_run_alone_and_goes_before_newcomers() -> None:
    budget = DecodeBudget(limit_bytes=100)
    order: list[str] = []
    small_in, release_small, big_waiting = threading.Event(), threading.Event(), threading.Event()

    def small(name: str, *, hold: threading.Event | None = None) -> None:
        with budget.hold(30):
            order.append(f"{name} in")
            small_in.set()
            if hold is not None:
                hold.wait(5)
            order.append(f"{name} out")

    def big() -> None:
        small_in.wait(5)
        big_waiting.set()
        with budget.hold(250):  # 2.5 budgets: once, it was refused outright
            order.append(f"big in, {budget.held} held")
            time.sleep(0.2)
            order.append("big out")

    first = threading.Thread(target=small, args=("first",), kwargs={"hold": release_small})
    heavy = threading.Thread(target=big)
    first.start()
    heavy.start()
    big_waiting.wait(5)
    time.sleep(0.2)
    late = threading.Thread(target=small, args=("late",))  # would fit beside `first`, but the big one waits
    late.start()
    time.sleep(0.2)
    assert order == ["first in"], order
    release_small.set()
    for t in (first, heavy, late):
        t.join(5)
    assert order == ["first in", "first out", "big in, 250 held", "big out", "late in", "late out"], order
    assert budget.held == 0


@pytest.fixture(scope="module")
def phone_200mp_heic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 16320 x 12240 (199.8 MP) HEIC as a phone saves one: HEVC tiles in a grid (one picture of this size is
    past HEVC's largest level; x265 refuses it). Yellow top-left quarter, blue elsewhere. Encoding it takes
    about 15 s here (x265's fastest preset, 4096-pixel tiles), 2 GB at the peak."""
    path = tmp_path_factory.mktemp("phone") / "phone_200mp.heic"
    with Image.new("RGB", (16320, 12240), (40, 90, 160)) as im:
        ImageDraw.Draw(im).rectangle((0, 0, 8159, 6119), fill=(230, 200, 40))
        im.save(path, format="HEIF", quality=30, tile_size=4096, enc_params={"preset": "ultrafast"})
    return path


def test_a_200_megapixel_phone_heic_decodes_with_the_default_budget(phone_200mp_heic: Path) -> None:
    assert decode_budget().limit == 512 * MIB, "the default budget"
    decode_photo(path=PHOTOS / "good/iphone13_kitchen.heic" if PHOTOS.is_dir() else phone_200mp_heic,
                 max_pixels=PHOTO_MAX_PIXELS, max_side=512)  # warm up libheif
    with RssSampler() as rss:
        photo = decode_photo(path=phone_200mp_heic, max_pixels=get_settings().max_pixels, max_side=3840)
    # libheif hands over the whole picture and Pillow copies it: 1.9 GiB here, over the
    # 512 MiB budget, so it ran alone; the pixel limit bounds it (210 MP: about 2.3 GiB estimated).
    assert rss.grew < 2400 * MIB, f"{rss.grew / MIB:.0f} MiB"
    assert (photo.original_width, photo.original_height, photo.format) == (16320, 12240, "HEIF")
    assert (photo.width, photo.height) == (3840, 2880)
    assert np.abs(photo.rgb[:1400, :1900].astype(int) - (230, 200, 40)).max() <= 6
    assert np.abs(photo.rgb[1500:, 2000:].astype(int) - (40, 90, 160)).max() <= 6
