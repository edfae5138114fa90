"""Which photos make the cut, and in what order."""

from __future__ import annotations

import imagehash

from shared.models.media import PhotoInfo
from shared.models.plan import DroppedPhoto, PhotoOrder

NEAR_DUPLICATE_BITS = 6
"""Perceptual-hash distance (of 64 bits) at or under which two photos count as the same moment."""


def capture_order(photos: list[PhotoInfo], *, order: PhotoOrder = "capture_time") -> list[PhotoInfo]:
    """The photos in story order. `capture_time`: dated photos in capture-time order, undated ones keep
    their given place in the sequence. `manual`: the given order, whatever the dates say (the user put
    them in order by hand, and that choice wins)."""
    given = sorted(photos, key=lambda p: p.source.index)
    if order == "manual":
        return given
    dated = sorted((p for p in given if p.captured_at is not None), key=lambda p: p.captured_at)  # type: ignore[arg-type, return-value]
    fill = iter(dated)
    return [p if p.captured_at is None else next(fill) for p in given]


def drop_near_duplicates(photos: list[PhotoInfo]) -> tuple[list[PhotoInfo], list[DroppedPhoto]]:
    """Keep the sharpest photo of each group of near-duplicates, in the order given."""
    hashes = [imagehash.hex_to_hash(p.phash) for p in photos]
    keep = [True] * len(photos)
    dropped: list[DroppedPhoto] = []
    by_sharpness = sorted(range(len(photos)), key=lambda i: -photos[i].sharpness)
    for rank, i in enumerate(by_sharpness):
        if not keep[i]:
            continue
        for j in by_sharpness[rank + 1 :]:
            if keep[j] and hashes[i] - hashes[j] <= NEAR_DUPLICATE_BITS:
                keep[j] = False
                dropped.append(
                    DroppedPhoto(
                        photo=photos[j].source.name,
                        reason=f"near-duplicate of {photos[i].source.name} (kept the sharper one)",
                    )
                )
    return [p for p, k in zip(photos, keep, strict=True) if k], dropped


def photo_score(photo: PhotoInfo, *, median_sharpness: float) -> float:
    """How much a photo deserves a scene: sharp beats blurry, people beat objects."""
    sharp = photo.sharpness / median_sharpness if median_sharpness > 0 else 1.0
    return min(sharp, 3.0) + (1.0 if photo.faces else 0.0)


def pick_best(photos: list[PhotoInfo], *, count: int) -> tuple[list[PhotoInfo], list[DroppedPhoto]]:
    """The `count` best photos, still in story order; the rest are dropped with a reason."""
    if len(photos) <= count:
        return photos, []
    ranked = sorted(photos, key=lambda p: p.sharpness)
    median = ranked[len(ranked) // 2].sharpness
    scores = {id(p): photo_score(p, median_sharpness=median) for p in photos}
    chosen = set(sorted(scores, key=lambda k: -scores[k])[:count])
    kept = [p for p in photos if id(p) in chosen]
    dropped = [
        DroppedPhoto(photo=p.source.name, reason=f"only {count} scenes fit the duration; this one scored lower")
        for p in photos
        if id(p) not in chosen
    ]
    return kept, dropped


def sequence_for_slots(photos: list[PhotoInfo], *, slots: int) -> list[PhotoInfo]:
    """Fill `slots` scenes from fewer photos by cycling through them: never the same photo twice in a row."""
    if not photos:
        return []
    if len(photos) == 1:
        return photos[:1]
    return [photos[i % len(photos)] for i in range(slots)]
