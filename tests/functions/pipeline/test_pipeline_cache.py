"""Stage results are reused only while every artifact they point at is still in the store."""

from __future__ import annotations

from functions.pipeline.cache import artifact_keys, cached_result, run_stage_item
from functions.pipeline.stages import get_stage
from shared.models.media import MusicRequest, MusicTrack
from shared.store import LocalStore


def test_a_result_whose_artifact_is_gone_is_computed_again(store: LocalStore) -> None:
    request = MusicRequest(duration=2.0, seed=3)
    first = run_stage_item(stage_name="music", request=request, store=store)
    assert isinstance(first, MusicTrack)
    assert artifact_keys(first) == [first.audio_key]
    assert cached_result(stage=get_stage("music"), request=request, store=store) == first

    store.path(first.audio_key).unlink()  # a user cleared part of the artifact folder
    assert cached_result(stage=get_stage("music"), request=request, store=store) is None
    again = run_stage_item(stage_name="music", request=request, store=store)
    assert again == first and store.exists(first.audio_key)
