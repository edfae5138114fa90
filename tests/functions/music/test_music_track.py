"""The music stage on real files and on the generated track, measured from the audio written."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from functions.analyze import analyze_music
from functions.music import run_music
from shared.errors import MusicError, OptionError
from shared.models.media import AnalyzeMusicRequest, MusicRequest, MusicTrack
from shared.store import LocalStore

FRAME_30FPS = 1 / 30


@pytest.fixture(scope="module")
def gen_store(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    return LocalStore(tmp_path_factory.mktemp("music-gen"))


@pytest.fixture(scope="module")
def generated(gen_store: LocalStore) -> MusicTrack:
    return run_music(request=MusicRequest(duration=16.0, seed=3), store=gen_store)


def _audio(store: LocalStore, key: str) -> tuple[np.ndarray, int]:
    with store.local_path(key) as path:
        data, rate = sf.read(str(path), always_2d=True)
    return data, rate


def _put(store: LocalStore, src: Path) -> str:
    key = f"uploads/{src.name}"
    store.put_file(key, src)
    return key


# ---------------------------------------------------------------- generated


@pytest.mark.parametrize("duration", [16.0, 30.0, 7.3, 45.5])
def test_generated_grid_ends_on_a_downbeat_at_a_pleasant_tempo(duration: float, store: LocalStore) -> None:
    track = run_music(request=MusicRequest(duration=duration), store=store)
    assert track.origin == "generated"
    assert track.tempo is not None and track.beats and track.downbeats
    assert 90 <= track.tempo <= 128
    assert duration in track.downbeats  # exactly, so the video can end on it
    assert track.downbeats == track.beats[::4]
    period = 60 / track.tempo
    assert np.allclose(np.diff(track.beats), period, atol=1e-9)
    assert track.beats[0] == 0.0
    # one ring-out bar after `duration`, so a fade at the end fades music
    assert track.duration == pytest.approx(duration + 4 * period, abs=1 / 48_000)
    with store.local_path(track.audio_key) as path:
        assert sf.info(str(path)).duration == pytest.approx(track.duration, abs=1 / 48_000)


def test_generated_file_is_48k_stereo_loud_and_unclipped(generated: MusicTrack, gen_store: LocalStore) -> None:
    import pyloudnorm

    audio, rate = _audio(gen_store, generated.audio_key)
    assert rate == 48_000 and audio.shape[1] == 2
    peak_db = 20 * math.log10(float(np.abs(audio).max()))
    assert peak_db < -0.5  # never clips
    lufs = pyloudnorm.Meter(rate).integrated_loudness(audio)
    assert -18 < lufs < -9  # a finished-sounding level, not a whisper
    assert not np.allclose(audio[:, 0], audio[:, 1])  # a stereo image, not mono twice


def test_ring_out_bar_is_music_not_silence(generated: MusicTrack, gen_store: LocalStore) -> None:
    audio, rate = _audio(gen_store, generated.audio_key)
    bar = 4 * 60 / (generated.tempo or 1)
    end = round(16.0 * rate)

    def rms_db(a: np.ndarray) -> float:
        return 10 * math.log10(float(np.mean(a**2)) + 1e-12)

    last_bar = rms_db(audio[end - round(bar * rate):end])
    ring = rms_db(audio[end:end + round(bar / 2 * rate)])
    assert ring > last_bar - 6
    assert rms_db(audio[-round(0.05 * rate):]) < last_bar - 30  # and the file itself ends quietly


def test_beat_tracker_hears_the_exported_beats(generated: MusicTrack, gen_store: LocalStore) -> None:
    as_user = generated.model_copy(update={"origin": "user", "tempo": None, "beats": None, "downbeats": None})
    info = analyze_music(request=AnalyzeMusicRequest(track=as_user), store=gen_store)
    assert info.tempo == pytest.approx(generated.tempo, rel=0.003)
    tracked = np.array(info.beats)
    exported = np.array(generated.beats or [])
    errors = np.array([np.abs(tracked - b).min() for b in exported])
    assert np.mean(errors <= FRAME_30FPS) >= 0.85, np.round(errors * 1000)
    assert np.median(errors) < 0.02
    # the tracker's bars start where the generator's do
    downs = np.array(generated.downbeats or [])
    assert np.mean([np.abs(downs - d).min() <= FRAME_30FPS for d in info.downbeats]) >= 0.8


def test_generated_track_has_calm_and_energetic_parts(generated: MusicTrack, gen_store: LocalStore) -> None:
    info = analyze_music(request=AnalyzeMusicRequest(track=generated), store=gen_store)
    kinds = [s.kind for s in info.sections]
    assert "calm" in kinds and "energetic" in kinds
    assert info.sections[0].kind == "calm"  # the intro
    calm = max(s.energy for s in info.sections if s.kind == "calm")
    energetic = min(s.energy for s in info.sections if s.kind == "energetic")
    assert energetic - calm > 0.15
    assert info.beats == generated.beats  # the exact grid is kept, not re-tracked


def test_same_seed_same_track_other_seed_other_track(tmp_path: Path) -> None:
    a = LocalStore(tmp_path / "a")
    b = LocalStore(tmp_path / "b")
    one = run_music(request=MusicRequest(duration=8.0, seed=5, mood="happy"), store=a)
    two = run_music(request=MusicRequest(duration=8.0, seed=5, mood="happy"), store=b)
    other = run_music(request=MusicRequest(duration=8.0, seed=6, mood="happy"), store=b)
    assert a.get_bytes(one.audio_key) == b.get_bytes(two.audio_key)
    assert one.beats == two.beats
    assert b.get_bytes(other.audio_key) != b.get_bytes(two.audio_key)


def test_mood_chooses_a_minor_key_for_sad_music(store: LocalStore) -> None:
    """A minor key puts a minor third above the tonic: its chroma outweighs the major third's."""
    import librosa

    sad = run_music(request=MusicRequest(duration=8.0, mood="sad"), store=store)
    happy = run_music(request=MusicRequest(duration=8.0, mood="happy"), store=store)
    for track, minor in ((sad, True), (happy, False)):
        audio, rate = _audio(store, track.audio_key)
        chroma = librosa.feature.chroma_stft(y=audio.mean(axis=1).astype(np.float32), sr=rate).mean(axis=1)
        tonic = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"].index(
            track.name.split(", ")[1].split()[0])
        assert (chroma[(tonic + 3) % 12] > chroma[(tonic + 4) % 12]) == minor, track.name


def test_generated_track_is_reused_not_rendered_again(store: LocalStore) -> None:
    req = MusicRequest(duration=6.0, seed=1)
    first = run_music(request=req, store=store)
    path = store.path(first.audio_key)
    stamp = path.stat().st_mtime_ns
    again = run_music(request=req, store=store)
    assert again == first
    assert path.stat().st_mtime_ns == stamp


def test_unknown_provider_is_an_option_error(store: LocalStore) -> None:
    with pytest.raises(OptionError, match="unknown music provider"):
        run_music(request=MusicRequest(duration=6.0, provider="nope"), store=store)


# ---------------------------------------------------------------- user files


def test_user_wav_is_converted_to_48k_stereo(tmp_path: Path, store: LocalStore) -> None:
    rate = 44_100
    t = np.arange(round(3.0 * rate)) / rate
    src = tmp_path / "tone.wav"
    sf.write(str(src), 0.5 * np.sin(2 * np.pi * 440 * t), rate)  # mono 44.1 kHz
    track = run_music(request=MusicRequest(duration=10, user_key=_put(store, src), user_name="tone.wav"),
                      store=store)
    assert track.origin == "user" and track.name == "tone.wav"
    assert track.tempo is None and track.beats is None
    assert track.duration == pytest.approx(3.0, abs=0.01)
    audio, out_rate = _audio(store, track.audio_key)
    assert out_rate == 48_000 and audio.shape[1] == 2
    assert np.allclose(audio[:, 0], audio[:, 1], atol=1e-4)
    spectrum = np.abs(np.fft.rfft(audio[:, 0]))
    assert np.fft.rfftfreq(len(audio), 1 / out_rate)[int(np.argmax(spectrum))] == pytest.approx(440, abs=1)
    assert float(np.abs(audio).max()) == pytest.approx(0.5, abs=0.01)


def test_user_mp3_is_accepted(media_dir: Path, store: LocalStore) -> None:
    src = media_dir / "beats" / "beatnet_808kick" / "808kick120bpm.mp3"
    track = run_music(request=MusicRequest(duration=10, user_key=_put(store, src)), store=store)
    assert track.duration == pytest.approx(10.0, abs=0.05)
    _, rate = _audio(store, track.audio_key)
    assert rate == 48_000


def test_video_audio_track_too_short(media_dir: Path, store: LocalStore) -> None:
    key = _put(store, media_dir / "videos" / "big_buck_bunny_1s.webm")
    with pytest.raises(MusicError, match=re.escape("big_buck_bunny_1s.webm: only 1.0 s")):
        run_music(request=MusicRequest(duration=10, user_key=key), store=store)
    assert not any(store.root.joinpath("music").rglob("*.wav"))


def test_video_with_a_silent_audio_track_is_refused(media_dir: Path, store: LocalStore) -> None:
    key = _put(store, media_dir / "videos" / "cockatoo.mp4")
    with pytest.raises(MusicError, match=re.escape("cockatoo.mp4: its audio is silent")):
        run_music(request=MusicRequest(duration=10, user_key=key), store=store)


def test_empty_file_is_refused(media_dir: Path, store: LocalStore) -> None:
    key = "uploads/zero_bytes.webm"
    store.path(key).parent.mkdir(parents=True, exist_ok=True)
    store.path(key).write_bytes((media_dir / "videos" / "bad" / "zero_bytes.webm").read_bytes())
    with pytest.raises(MusicError, match=re.escape("zero_bytes.webm: not a readable")) as err:
        run_music(request=MusicRequest(duration=10, user_key=key), store=store)
    assert "\n" not in str(err.value)


def test_picture_without_sound_is_refused(good_photos: list[Path], store: LocalStore) -> None:
    photo = next(p for p in good_photos if p.suffix.lower() == ".png")
    with pytest.raises(MusicError, match="has no audio stream"):
        run_music(request=MusicRequest(duration=10, user_key=_put(store, photo)), store=store)
