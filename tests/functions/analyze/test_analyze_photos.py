"""analyze_photo on real photos: the stored upright copy, faces, subject, sharpness, perceptual hash and
capture time, measured from what it writes and returns."""

from __future__ import annotations

import io
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import imagehash
import numpy as np
import pytest
from PIL import Image

from functions.analyze import ANALYZE_VERSION, analyze_photo
from shared.errors import PhotoError
from shared.hashing import content_key
from shared.models.base import Box
from shared.models.media import AnalyzePhotoRequest, PhotoInfo, PhotoSource
from shared.store import LocalStore


def analyze(store: LocalStore, path: Path, *, name: str | None = None, max_side: int = 2048) -> PhotoInfo:
    key = f"uploads/{path.name}"
    store.put_file(key, path)
    request = AnalyzePhotoRequest(source=PhotoSource(key=key, name=name or path.name, index=0), max_side=max_side)
    return analyze_photo(request=request, store=store)


def stored_rgb(store: LocalStore, info: PhotoInfo) -> np.ndarray:
    with store.local_path(info.image_key) as path:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def contains(box: Box, x: float, y: float) -> bool:
    return box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h


def hamming(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def save_copy(rgb: np.ndarray, path: Path, **params: Any) -> Path:
    Image.fromarray(rgb).save(path, **params)
    return path


# ---------------------------------------------------------------- the stored picture


def test_stores_an_upright_srgb_jpeg_under_a_content_key(store: LocalStore, good_photos: list[Path]) -> None:
    path = next(p for p in good_photos if p.name == "waterfall_landscape_orient6.jpg")
    info = analyze(store, path)
    request = AnalyzePhotoRequest(source=info.source, max_side=2048)
    expected_key = f"analyze/{content_key(stage='analyze', version=ANALYZE_VERSION, request=request)}/photo.jpg"
    assert info.image_key == expected_key
    with store.local_path(info.image_key) as stored:
        assert stored.read_bytes()[:3] == b"\xff\xd8\xff"
        with Image.open(stored) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            assert 0x0112 not in im.getexif()  # upright pixels, no orientation left to apply twice
    rgb = stored_rgb(store, info)
    assert (info.width, info.height) == (rgb.shape[1], rgb.shape[0]) == (1800, 1200)  # EXIF 6 applied
    # JPEG q95 of the decoded picture: close to the file's own pixels turned upright.
    with Image.open(path) as im:
        reference = np.rot90(np.asarray(im.convert("RGB")), k=-1).astype(float)
    mse = float(np.mean((rgb.astype(float) - reference) ** 2))
    assert 10 * np.log10(255**2 / mse) > 38


def test_same_request_same_key_other_size_other_key(store: LocalStore, good_photos: list[Path]) -> None:
    path = next(p for p in good_photos if p.name == "coffee.png")
    first, again = analyze(store, path), analyze(store, path)
    assert first == again
    smaller = analyze(store, path, max_side=300)
    assert smaller.image_key != first.image_key and (smaller.width, smaller.height) == (300, 200)


def test_bad_photo_raises_photo_error_with_the_users_name(store: LocalStore, bad_photos: list[Path]) -> None:
    path = next(p for p in bad_photos if p.name == "decompression_bomb.gif")
    with pytest.raises(PhotoError, match=r"^Holiday 01\.gif: claims 4364696535 pixels"):
        analyze(store, path, name="Holiday 01.gif")
    assert not any(k.startswith("analyze/") for k in _keys(store))


def _keys(store: LocalStore) -> list[str]:
    return [p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- faces and subject


def test_face_found_on_the_astronaut(store: LocalStore, good_photos: list[Path]) -> None:
    info = analyze(store, next(p for p in good_photos if p.name == "astronaut.png"))
    assert info.subject_kind == "face" and len(info.faces) == 1
    face = info.faces[0]
    # Eileen Collins' face: upper middle-left of the 512 px picture, about a fifth of its width.
    assert 0.35 < face.cx < 0.55 and 0.15 < face.cy < 0.35
    assert 0.12 < face.w < 0.3
    assert contains(info.subject, face.x, face.y) and contains(info.subject, face.x + face.w, face.y + face.h)
    assert info.subject.w > face.w  # margin for hair and shoulders


def test_face_follows_exif_orientation(store: LocalStore, good_photos: list[Path], tmp_path: Path) -> None:
    # The astronaut stored turned and tagged EXIF 8: the face must be found where it is once upright.
    with Image.open(next(p for p in good_photos if p.name == "astronaut.png")) as im:
        upright = np.asarray(im.convert("RGB"))
    exif = Image.Exif()
    exif[0x0112] = 8
    path = save_copy(np.ascontiguousarray(np.rot90(upright, k=-1)), tmp_path / "turned.jpg", quality=95, exif=exif)
    info = analyze(store, path)
    assert len(info.faces) == 1
    assert 0.35 < info.faces[0].cx < 0.55 and 0.15 < info.faces[0].cy < 0.35


def test_small_face_in_a_landscape_is_found_in_place(
    store: LocalStore, good_photos: list[Path], tmp_path: Path
) -> None:
    with Image.open(next(p for p in good_photos if p.name == "astronaut.png")) as im:
        portrait = np.asarray(im.convert("RGB"))[:240, 120:360]  # head and shoulders
    with Image.open(next(p for p in good_photos if p.name == "hato_pigeon.jpg")) as im:
        scene = np.asarray(im.convert("RGB").resize((1500, 997))).copy()
    scene[600:840, 1100:1340] = portrait
    info = analyze(store, save_copy(scene, tmp_path / "composite.png"))
    assert len(info.faces) == 1 and info.subject_kind == "face"
    assert contains(info.faces[0], 1220 / 1500, 700 / 997)


@pytest.mark.parametrize(
    ("name", "inside"),
    [
        ("coffee.png", (0.45, 0.35)),  # the cup
        ("rocket_launch.jpg", (0.5, 0.85)),  # the launch pad, centred
        ("person_portrait_orient8.jpg", (0.5, 0.75)),  # the figure seen from behind: no face to find
    ],
)
def test_no_face_means_subject_from_saliency(
    name: str, inside: tuple[float, float], store: LocalStore, good_photos: list[Path]
) -> None:
    info = analyze(store, next(p for p in good_photos if p.name == name))
    assert info.faces == []
    assert info.subject_kind == "saliency"
    assert contains(info.subject, *inside), info.subject
    assert info.subject.w * info.subject.h < 0.8  # a region, not the whole photo


def test_uniform_picture_has_a_centre_subject(store: LocalStore, tmp_path: Path) -> None:
    path = save_copy(np.full((300, 400, 3), 90, np.uint8), tmp_path / "grey.png")
    info = analyze(store, path)
    assert info.faces == [] and info.subject_kind == "center"
    assert abs(info.subject.cx - 0.5) < 1e-9 and abs(info.subject.cy - 0.5) < 1e-9


# ---------------------------------------------------------------- sharpness and perceptual hash


def test_blurred_copy_is_less_sharp(store: LocalStore, good_photos: list[Path], tmp_path: Path) -> None:
    path = next(p for p in good_photos if p.name == "hato_pigeon.jpg")
    original = analyze(store, path)
    rgb = stored_rgb(store, original)
    blurred = analyze(store, save_copy(cv2.GaussianBlur(rgb, (0, 0), 3), tmp_path / "blurred.png"))
    assert blurred.sharpness < 0.5 * original.sharpness
    # Measured at a fixed size, a smaller copy of the same photo measures about the same.
    smaller = analyze(
        store, save_copy(cv2.resize(rgb, (1400, 930), interpolation=cv2.INTER_AREA), tmp_path / "smaller.png")
    )
    assert abs(smaller.sharpness - original.sharpness) < 0.25 * original.sharpness


def test_phash_matches_a_recompressed_copy_not_another_photo(
    store: LocalStore, good_photos: list[Path], tmp_path: Path
) -> None:
    path = next(p for p in good_photos if p.name == "berlin_cathedral.jpg")
    original = analyze(store, path)
    rgb = stored_rgb(store, original)
    copy = cv2.resize(rgb, (rgb.shape[1] // 3, rgb.shape[0] // 3), interpolation=cv2.INTER_AREA)
    recompressed = analyze(store, save_copy(copy, tmp_path / "copy.jpg", quality=60))
    other = analyze(store, next(p for p in good_photos if p.name == "fox_parade.jpg"))
    assert re.fullmatch(r"[0-9a-f]{16}", original.phash)
    assert hamming(original.phash, recompressed.phash) <= 6
    assert hamming(original.phash, other.phash) >= 20


# ---------------------------------------------------------------- capture time


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nokia_harbour_wide.jpg", datetime(2022, 8, 14, 14, 12, 31)),
        ("iphone13_kitchen.heic", datetime(2022, 2, 16, 12, 55, 41, 762000)),
        ("coffee.png", None),
    ],
)
def test_captured_at(name: str, expected: datetime | None, store: LocalStore, good_photos: list[Path]) -> None:
    assert analyze(store, next(p for p in good_photos if p.name == name)).captured_at == expected


def test_captured_at_from_a_written_exif(store: LocalStore, tmp_path: Path) -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2019:07:21 18:04:09"  # DateTimeOriginal
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buf, format="JPEG", exif=exif)
    path = tmp_path / "dated.jpg"
    path.write_bytes(buf.getvalue())
    assert analyze(store, path).captured_at == datetime(2019, 7, 21, 18, 4, 9)


# ---------------------------------------------------------------- the whole folder


def test_whole_good_folder(store: LocalStore, good_photos: list[Path]) -> None:
    timings: dict[str, float] = {}
    for path in good_photos:
        start = time.perf_counter()
        info = analyze(store, path, max_side=3840)
        timings[path.name] = time.perf_counter() - start
        assert store.exists(info.image_key)
        assert max(info.width, info.height) <= 3840
        assert 0 <= info.subject.x <= 1 and info.subject.x + info.subject.w <= 1 + 1e-9
        assert info.sharpness > 0
    assert len(timings) == len(good_photos) == 15
    report = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.items())
    print(
        f"\nanalyze_photo per photo (max_side 3840): {report}; "
        f"mean {np.mean(list(timings.values())):.2f}s, max {max(timings.values()):.2f}s"
    )
    assert max(timings.values()) < 5.0, report
