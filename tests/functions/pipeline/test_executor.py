"""The LocalExecutor: per-item failure isolation, ordered outcomes, content-addressed reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.pipeline import stages as stages_module
from functions.pipeline.executor import LocalExecutor
from functions.pipeline.ingest import ingest_photos
from shared.models.media import AnalyzePhotoRequest, PhotoInfo
from shared.store import LocalStore


def test_one_bad_item_never_fails_the_others_and_results_are_reused(
    store: LocalStore, good_photos: list[Path], bad_photos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    picks = [good_photos[0], next(p for p in bad_photos if p.name == "zero_bytes.jpg"), good_photos[1]]
    sources = ingest_photos(store=store, paths=picks)
    requests = [AnalyzePhotoRequest(source=s) for s in sources]
    executor = LocalExecutor(store=store, workers=2)
    seen: list[int] = []
    outcomes = executor.map(stage="analyze_photo", requests=requests, on_done=lambda o: seen.append(o.index))
    assert [o.index for o in outcomes] == [0, 1, 2] and sorted(seen) == [0, 1, 2]
    assert outcomes[0].ok and outcomes[2].ok and not outcomes[1].ok
    assert outcomes[1].error is not None and "zero_bytes.jpg" in outcomes[1].error
    assert "\n" not in outcomes[1].error

    # The good items are now cached: a second pass must not call the stage at all.
    real = stages_module.stages()["analyze_photo"]

    def explode(**_: object) -> PhotoInfo:
        raise AssertionError("cached item was recomputed")

    monkeypatch.setitem(stages_module.stages(), "analyze_photo", stages_module.Stage(
        real.name, explode, real.request, real.result, real.version, real.identity, real.rebind))
    again = executor.map(stage="analyze_photo", requests=[requests[0], requests[2]])
    assert all(o.ok for o in again)
    assert again[0].result == outcomes[0].result


def test_reordering_photos_reuses_their_analysis(store: LocalStore, good_photos: list[Path]) -> None:
    executor = LocalExecutor(store=store, workers=1)
    first = ingest_photos(store=store, paths=good_photos[:2])
    executor.map(stage="analyze_photo", requests=[AnalyzePhotoRequest(source=s) for s in first])
    swapped = ingest_photos(store=store, paths=[good_photos[1], good_photos[0]])
    from functions.pipeline.cache import cached_result

    spec = stages_module.get_stage("analyze_photo")
    for src in swapped:
        hit = cached_result(stage=spec, request=AnalyzePhotoRequest(source=src), store=store)
        assert isinstance(hit, PhotoInfo)
        assert hit.source == src, "a cached analysis carries the photo's current name and place"
