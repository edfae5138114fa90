"""Every offline look on every real photo, side by side, and how readable each keeps the photo.

Each photo is decoded as the pipeline decodes it (upright sRGB) and scaled to the style stage's working
size (StyleRequest.max_side); every look paints it with the local provider. The script writes one
labelled JPEG row per photo (the photo, then each look) to `docs/looks/` and prints, per look:

- faces kept: of the faces the project's detector (analysis) finds on the photo, how many it still finds
  at the same place on a grey copy of the look. A look's colours are its own (Simpsons skin is yellow,
  which the detector's skin test rejects by design), so the look is shown to the detector as a black and
  white photo: no skin test, and more of its windows must agree than for a colour photo;
- subject SSIM: structural similarity of the subject region's lightness, photo against look, both shrunk
  so the subject is SUBJECT_SAMPLES pixels across (a look's own bricks, dots or strokes average out, what
  the subject looks like stays);
- stray strokes: the share of the picture (and of its faces) where the look draws a thin dark stroke
  that the photo does not have: ink across a cheek, a line along a cloud;
- calm edges: the share of the photo's calm areas (a clear sky, a plain wall) where the look has edges;
- seconds per look per photo.

    python bench/looks_sheet.py [--media ../shared/media] [--out docs/looks] [--tile 160] [--photo NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from skimage.metrics import structural_similarity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.analyze.subject import detect_faces, find_subject  # noqa: E402
from functions.style.looks import LOOKS  # noqa: E402
from functions.style.providers import LocalStyleProvider  # noqa: E402
from functions.style.stage import fit_long_side  # noqa: E402
from shared.media.photos import decode_photo  # noqa: E402
from shared.models.base import Box  # noqa: E402
from shared.models.render import StyleRequest  # noqa: E402
from shared.settings import Settings  # noqa: E402

WORKING_SIDE: int = StyleRequest.model_fields["max_side"].default
"""The style stage paints photos at this long side (the request's default), so they are measured there."""
SUBJECT_SAMPLES = 64
"""Subject similarity compares the subject region shrunk to this many pixels across its long side."""
FACE_MATCH_IOU = 0.3
"""A face found on a look is the same face when its box overlaps the photo's by this IoU (or holds its centre)."""
STROKE_SIDE = 1024
"""Strokes and edges are looked for on copies with this long side (the working size of most photos)."""
STROKE_DARKNESS = 30
"""A stroke: a thin (under 7 px) line darker than its surroundings by this much (0..255)..."""
STROKE_UNDRAWN = 12
"""...where the photo's own thin dark lines are fainter than this."""
CALM_SIDE = 512
"""Calm areas are found on copies with this long side."""
CALM_STD = 6.0
"""A calm area: the photo's lightness varies less than this (std, 0..255) in a 9 × 9 window..."""
CALM_MIN_SHARE = 0.02
"""...over a connected area of at least this share of the picture."""


# ---------------------------------------------------------------- photos


def working_photo(path: Path) -> np.ndarray:
    """The photo as the style stage receives it: decoded upright like analysis does, BGR, working size."""
    settings = Settings()
    rgb = decode_photo(path=path, max_pixels=settings.max_pixels, max_side=settings.max_photo_side).rgb
    return fit_long_side(image=np.ascontiguousarray(rgb[..., ::-1]), max_side=WORKING_SIDE)


def paint(photo: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Every look of the local provider on `photo`, and the seconds each took."""
    provider = LocalStyleProvider()
    looks: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for look in LOOKS:
        start = time.perf_counter()
        looks[look] = provider.stylize(image=photo, look=look, seed=0)
        seconds[look] = time.perf_counter() - start
    return looks, seconds


# ---------------------------------------------------------------- faces


def faces_on(image: np.ndarray) -> list[Box]:
    """Faces the project's detector (analysis) finds on a BGR picture."""
    return detect_faces(rgb=np.ascontiguousarray(image[..., ::-1]))


def grey(image: np.ndarray) -> np.ndarray:
    """A black and white copy (BGR, three equal channels)."""
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0.0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    return inter / (a.w * a.h + b.w * b.h - inter)


def faces_kept(*, before: list[Box], after: list[Box]) -> int:
    """How many of `before` have a face in `after` at the same place (IoU, or its centre inside)."""
    return sum(
        any(iou(b, a) >= FACE_MATCH_IOU or (abs(a.cx - b.cx) < b.w / 2 and abs(a.cy - b.cy) < b.h / 2) for a in after)
        for b in before
    )


# ---------------------------------------------------------------- the subject


def subject_box(image: np.ndarray) -> Box:
    """The photo's subject as analysis finds it: the faces with a margin, else the salient region."""
    rgb = np.ascontiguousarray(image[..., ::-1])
    box, _ = find_subject(rgb=rgb, faces=detect_faces(rgb=rgb))
    return box


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    h, w = image.shape[:2]
    x0, y0 = int(box.x * w), int(box.y * h)
    x1, y1 = max(x0 + 1, round((box.x + box.w) * w)), max(y0 + 1, round((box.y + box.h) * h))
    return image[y0:y1, x0:x1]


def subject_similarity(*, photo: np.ndarray, look: np.ndarray, subject: Box) -> float:
    """SSIM of the subject's lightness, photo against look, at SUBJECT_SAMPLES pixels across."""

    def small(image: np.ndarray) -> np.ndarray:
        part = cv2.cvtColor(crop(image, subject), cv2.COLOR_BGR2GRAY)
        scale = SUBJECT_SAMPLES / max(part.shape)
        size = (max(7, round(part.shape[1] * scale)), max(7, round(part.shape[0] * scale)))
        return cv2.resize(part, size, interpolation=cv2.INTER_AREA)

    return float(structural_similarity(small(photo), small(look), data_range=255, gaussian_weights=True, sigma=1.5))


# ---------------------------------------------------------------- strokes and calm areas


def _thin_dark(image: np.ndarray) -> np.ndarray:
    """How much darker than its surroundings each pixel is, counting thin (under 7 px) shapes only."""
    gray = cv2.cvtColor(fit_long_side(image=image, max_side=STROKE_SIDE), cv2.COLOR_BGR2GRAY)
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    return cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, brush).astype(np.float32)


def stray_strokes(*, photo: np.ndarray, look: np.ndarray) -> np.ndarray:
    """Mask (bool, at STROKE_SIDE) of thin dark strokes the look draws where the photo has none."""
    drawn = _thin_dark(look) > STROKE_DARKNESS
    photo_lines = cv2.dilate(_thin_dark(photo), np.ones((3, 3), np.uint8))  # a stroke may sit a pixel aside
    return drawn & (photo_lines < STROKE_UNDRAWN)


def face_mask(*, faces: list[Box], height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    for b in faces:
        mask[int(b.y * height) : round((b.y + b.h) * height), int(b.x * width) : round((b.x + b.w) * width)] = True
    return mask


def calm_areas(photo: np.ndarray) -> np.ndarray:
    """Mask (bool, at CALM_SIDE) of the photo's large calm areas: a clear sky, a plain wall, a backdrop."""
    g = cv2.cvtColor(fit_long_side(image=photo, max_side=CALM_SIDE), cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(g, (9, 9))
    std = np.sqrt(np.maximum(cv2.blur(g * g, (9, 9)) - mean * mean, 0))
    calm = (std < CALM_STD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(calm, connectivity=4)
    big = np.zeros(n, bool)
    big[1:] = stats[1:, cv2.CC_STAT_AREA] >= CALM_MIN_SHARE * calm.size
    return big[labels]


def calm_edges(*, calm: np.ndarray, look: np.ndarray) -> float:
    """Share of the photo's calm areas where the look has an edge (Canny at STROKE_SIDE); 0 without any."""
    if not calm.any():
        return 0.0
    gray = cv2.cvtColor(fit_long_side(image=look, max_side=STROKE_SIDE), cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 20, 60) > 0
    inside = cv2.resize(calm.astype(np.uint8), (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    return float(edges[inside > 0].mean())


# ---------------------------------------------------------------- one photo


@dataclass
class PhotoResult:
    name: str
    faces: int
    kept: dict[str, int] = field(default_factory=dict)
    kept_in_colour: dict[str, int] = field(default_factory=dict)
    similarity: dict[str, float] = field(default_factory=dict)
    strokes: dict[str, float] = field(default_factory=dict)
    face_strokes: dict[str, float] = field(default_factory=dict)
    calm: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def measure(*, name: str, photo: np.ndarray, looks: dict[str, np.ndarray], seconds: dict[str, float]) -> PhotoResult:
    before = faces_on(photo)
    subject = subject_box(photo)
    calm = calm_areas(photo)
    result = PhotoResult(name=name, faces=len(before), seconds=seconds)
    for look, out in looks.items():
        result.kept[look] = faces_kept(before=before, after=faces_on(grey(out))) if before else 0
        result.kept_in_colour[look] = faces_kept(before=before, after=faces_on(out)) if before else 0
        result.similarity[look] = subject_similarity(photo=photo, look=out, subject=subject)
        strokes = stray_strokes(photo=photo, look=out)
        result.strokes[look] = float(strokes.mean())
        on_faces = face_mask(faces=before, height=strokes.shape[0], width=strokes.shape[1])
        result.face_strokes[look] = float(strokes[on_faces].mean()) if on_faces.any() else 0.0
        result.calm[look] = calm_edges(calm=calm, look=out)
    return result


# ---------------------------------------------------------------- the sheet


def sheet_row(*, name: str, photo: np.ndarray, looks: dict[str, np.ndarray], tile: int) -> np.ndarray:
    """One row: the photo and each look, `tile` px on the long side, each under its label."""
    h, w = photo.shape[:2]
    scale = tile / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    cells = []
    for label, picture in [(name, photo), *looks.items()]:
        strip = np.full((18, size[0], 3), 255, np.uint8)
        cv2.putText(strip, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        cell = np.vstack([strip, cv2.resize(picture, size, interpolation=cv2.INTER_AREA)])
        cells.append(cv2.copyMakeBorder(cell, 0, 3, 0, 3, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
    return np.hstack(cells)


def summary(results: list[PhotoResult]) -> list[str]:
    """The table printed at the end: one line per look, figures over all photos."""
    faces = sum(r.faces for r in results)
    face_photos = [r for r in results if r.faces]
    lines = [f"{'look':10} {'faces kept':>10} {'(in colour)':>11} {'subject SSIM':>18} {'stray strokes':>14}"
             f" {'on faces':>9} {'calm edges':>11} {'s/photo':>8}"]
    for look in LOOKS:
        kept = sum(r.kept[look] for r in results)
        in_colour = sum(r.kept_in_colour[look] for r in results)
        sim = [r.similarity[look] for r in results]
        on_faces = np.mean([r.face_strokes[look] for r in face_photos]) if face_photos else 0.0
        lines.append(
            f"{look:10} {kept:>4}/{faces:<5} {in_colour:>6}/{faces:<4} {np.mean(sim):>7.3f} (min {np.min(sim):.2f})"
            f" {np.mean([r.strokes[look] for r in results]):>14.4f} {on_faces:>9.4f}"
            f" {np.mean([r.calm[look] for r in results]):>11.4f} {np.mean([r.seconds[look] for r in results]):>8.2f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "looks")
    parser.add_argument("--tile", type=int, default=160, help="long side of each picture on the sheet, px")
    parser.add_argument("--quality", type=int, default=52, help="JPEG quality of the sheets")
    parser.add_argument("--photo", action="append", help="only these photos (file names); all by default")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    paths = sorted(p for p in (args.media / "photos" / "good").iterdir() if p.is_file())
    if args.photo:
        paths = [p for p in paths if p.name in args.photo]
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[PhotoResult] = []
    for path in paths:
        photo = working_photo(path)
        looks, seconds = paint(photo)
        results.append(measure(name=path.name, photo=photo, looks=looks, seconds=seconds))
        row = sheet_row(name=path.stem, photo=photo, looks=looks, tile=args.tile)
        jpeg = [cv2.IMWRITE_JPEG_QUALITY, args.quality, cv2.IMWRITE_JPEG_OPTIMIZE, 1, cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
        cv2.imwrite(str(args.out / f"{path.stem}.jpg"), row, jpeg)
        print(f"{path.name}: {photo.shape[1]}x{photo.shape[0]}, {results[-1].faces} face(s)", flush=True)
    print()
    print("\n".join(summary(results)))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))


if __name__ == "__main__":
    main()
