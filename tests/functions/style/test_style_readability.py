"""What each look keeps of the photo, measured on every real photo at the style stage's working size.

`python bench/looks_sheet.py` prints the same figures (and draws the contact sheet in docs/looks/);
the floors below sit between what the looks measured before they were made to keep the subject
(2026-12-03, commit 752d7dc) and what they measure now, so a look that slides back fails here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.looks_sheet import PhotoResult, measure, paint, working_photo
from functions.style.looks import LOOKS

MIN_FACES_KEPT = 0.8
"""Share of the faces found on the photos that the detector must still find on each look."""

SUBJECT_SSIM_FLOOR = {
    # look: floor of the mean over the photos (before -> now)
    "ghibli": 0.80,  # 0.845 -> 0.830: painting instead of posterising keeps it about where it was
    "lego": 0.62,  # 0.524 -> 0.675: finer plates over the subject, colours picked after local contrast
    "minecraft": 0.70,  # 0.602 -> 0.755: finer blocks over the subject, lightness first
    "simpsons": 0.45,  # 0.431 -> 0.483: cel-shaded faces, skies without outlined bands
    "comic": 0.38,  # 0.371 -> 0.403: faces screened by their own light, greys left as paper
    "sketch": 0.62,  # 0.659 -> 0.659: unchanged
}


@pytest.fixture(scope="module")
def results(good_photos: list[Path]) -> list[PhotoResult]:
    out = []
    for path in good_photos:
        photo = working_photo(path)
        looks, seconds = paint(photo)
        out.append(measure(name=path.name, photo=photo, looks=looks, seconds=seconds))
    return out


def test_every_look_is_measured() -> None:
    assert set(SUBJECT_SSIM_FLOOR) == set(LOOKS)


def test_the_detector_still_finds_the_faces_in_every_look(results: list[PhotoResult]) -> None:
    """Of the faces the project's detector finds on the real photos, it finds at least 80 % at the same
    place on each look (judged on a grey copy: the look's colours are its own, its light is the photo's).
    Before, it found none on lego, minecraft, simpsons and comic."""
    found = sum(r.faces for r in results)
    assert found >= 1, "the real photos should hold at least one face the detector finds"
    for look in LOOKS:
        kept = sum(r.kept[look] for r in results)
        assert kept >= MIN_FACES_KEPT * found, f"{look}: the detector finds {kept} of {found} faces"


def test_the_subject_stays_readable(results: list[PhotoResult]) -> None:
    """The subject region keeps its structure: SSIM of its lightness, photo against look, with the look's
    own bricks, dots and strokes averaged out."""
    for look, floor in SUBJECT_SSIM_FLOOR.items():
        mean = float(np.mean([r.similarity[look] for r in results]))
        assert mean >= floor, f"{look}: subject SSIM {mean:.3f} < {floor}"


def test_ghibli_draws_no_stray_strokes(results: list[PhotoResult]) -> None:
    """Ghibli's line art runs along the photo's own edges: no strokes along clouds, across cheeks or
    through a sky's gradient (before: 0.0035 of the picture, 0.038 of the faces)."""
    assert np.mean([r.strokes["ghibli"] for r in results]) < 0.002
    with_faces = [r for r in results if r.faces]
    assert with_faces
    assert np.mean([r.face_strokes["ghibli"] for r in with_faces]) < 0.01


@pytest.mark.parametrize(("look", "limit"), [("ghibli", 0.01), ("simpsons", 0.04), ("comic", 0.11)])
def test_no_ink_across_faces(results: list[PhotoResult], look: str, limit: float) -> None:
    """A face is outlined, not crossed by lines of its own shading (before: ghibli 0.038, simpsons 0.060,
    comic 0.136 of the face drawn with strokes the photo does not have; comic's left are shading dots)."""
    with_faces = [r for r in results if r.faces]
    share = float(np.mean([r.face_strokes[look] for r in with_faces]))
    assert share < limit, f"{look}: {share:.4f} of the faces inked"


def test_ghibli_keeps_calm_areas_calm(results: list[PhotoResult]) -> None:
    """Where the photo is calm (a clear sky, a backdrop, deep shadow) the painting has (almost) no edges:
    no banding contours, no strokes."""
    assert np.mean([r.calm["ghibli"] for r in results]) < 0.003
