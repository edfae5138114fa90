"""MusicGen on Replicate against a fake that speaks Replicate's API: a song from the mood, converted to
48 kHz stereo and beat-analysed like any user track; never generated (or paid for) twice."""

from __future__ import annotations

import pytest
import soundfile as sf
from fakes.replicate_server import MUSICGEN_VERSION, ReplicateServer

from functions.analyze import analyze_music
from functions.music import run_music
from shared.models.media import AnalyzeMusicRequest, MusicRequest
from shared.store import LocalStore

pytest_plugins = ["fakes.fixtures"]


def test_a_generated_song_is_converted_and_its_beats_come_from_analysis(replicate_fake: ReplicateServer,
                                                                        store: LocalStore) -> None:
    track = run_music(request=MusicRequest(duration=8.0, mood="happy summer", provider="replicate"), store=store)
    [create] = replicate_fake.calls("create_version")
    body = create.json()
    assert body["version"] == MUSICGEN_VERSION
    assert body["input"]["duration"] == 12 and "happy" in body["input"]["prompt"]  # 8 s + a margin to end on a bar
    assert track.origin == "generated" and track.provider == "replicate:meta/musicgen"
    assert track.tempo is None and track.beats is None  # no exact grid: analysis finds the beats
    assert track.cost_usd == pytest.approx(0.01 + 12 * 0.0025)
    with store.local_path(track.audio_key) as path:
        info = sf.info(str(path))
    assert info.samplerate == 48_000 and info.channels == 2
    assert info.duration == pytest.approx(12.0, abs=0.05)
    music = analyze_music(request=AnalyzeMusicRequest(track=track), store=store)
    assert music.tempo == pytest.approx(120.0, rel=0.03)  # the fake's song is a 120 BPM click track


def test_the_same_song_is_never_generated_twice(replicate_fake: ReplicateServer, store: LocalStore) -> None:
    request = MusicRequest(duration=5.0, provider="replicate")
    first = run_music(request=request, store=store)
    again = run_music(request=request, store=store)
    assert again.audio_key == first.audio_key and again.duration == pytest.approx(first.duration)
    assert replicate_fake.count("create_version") == 1


def test_a_failed_generation_falls_back_to_the_local_synth_with_the_reason(replicate_fake: ReplicateServer,
                                                                           store: LocalStore) -> None:
    replicate_fake.fail("create_version", "failed")
    track = run_music(request=MusicRequest(duration=5.0, provider="replicate,local"), store=store)
    assert track.provider == "local" and track.tempo is not None  # the synth's exact grid
    [attempt] = track.attempts
    assert attempt.kind == "failed" and "E8765" in attempt.reason
