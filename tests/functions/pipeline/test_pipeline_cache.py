"""Stage results are reused only while every artifact they point at is still in the store."""

from __future__ import annotations

import dataclasses

import pytest

from functions.pipeline.cache import artifact_keys, cached_result, run_stage_item
from functions.pipeline.stages import get_stage, stages
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


def test_a_stage_that_keeps_its_own_artifacts_leaves_no_result_record(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product's pieces reuse what they made themselves (the capture, the stored run, the frames): the
    registry's cache neither answers for them nor keeps a record of their results."""
    made: list[float] = []

    def entry(*, request: MusicRequest, store: LocalStore, report: object) -> MusicTrack:
        made.append(request.duration)
        store.put_bytes("own/track.wav", b"RIFF")
        return MusicTrack(audio_key="own/track.wav", name="track.wav", duration=request.duration, origin="generated")

    music = get_stage("music")
    monkeypatch.setitem(stages(), "own", dataclasses.replace(music, name="own", entry=entry, cached=False))
    request = MusicRequest(duration=2.0, seed=3)
    first = run_stage_item(stage_name="own", request=request, store=store)
    assert run_stage_item(stage_name="own", request=request, store=store) == first
    assert made == [2.0, 2.0], "asked twice, made twice"
    assert cached_result(stage=get_stage("own"), request=request, store=store) is None
    assert not (store.root / "results" / "own").exists()
