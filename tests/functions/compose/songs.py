"""Songs synthesised for the loudness tests, each a hard case for the soundtrack's normaliser: a punchy
drum track whose transients stand far above its loudness, a quiet dynamic piece with peaks near full
scale, a brick-walled master, and a mono file. Deterministic (seeded), written as float WAVs.

`python -m tests.functions.compose.songs` composes a tiny video under each and prints what the final
MP4's soundtrack measures (the table of the loudness fix)."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from shared.media.ffmpeg import ffmpeg_exe

TEMPO = 120.0
BEAT = 60.0 / TEMPO


def _db(x: float) -> float:
    return 20 * math.log10(x)


def _kick(rate: int) -> np.ndarray:
    t = np.arange(int(0.3 * rate)) / rate
    pitch = 48 + 110 * np.exp(-t / 0.025)  # the thump's falling pitch
    body = np.sin(2 * np.pi * np.cumsum(pitch) / rate) * np.exp(-t / 0.11)
    click = np.exp(-t / 0.001) * np.sin(2 * np.pi * 5000 * t)
    out: np.ndarray = body + 1.0 * click
    return out


def _snare(rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.22 * rate)) / rate
    noise = rng.standard_normal(t.size) * np.exp(-t / 0.045)
    tone = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)
    out: np.ndarray = 0.55 * noise + 0.7 * tone
    return out


def _hat(rate: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.05 * rate)) / rate
    out: np.ndarray = np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.008)
    return out


def _place(track: np.ndarray, sound: np.ndarray, *, at: float, rate: int, gain: float = 1.0) -> None:
    i = int(at * rate)
    if i >= track.size:
        return
    seg = sound[: track.size - i]
    track[i : i + seg.size] += gain * seg


def _pad(t: np.ndarray, *, notes: tuple[float, ...]) -> np.ndarray:
    """A soft sustained chord with a slow swell, so that its loudness is steady but not a test tone."""
    swell = 0.8 + 0.2 * np.sin(2 * np.pi * 0.25 * t)
    out: np.ndarray = swell * sum(np.sin(2 * np.pi * f * t + k) for k, f in enumerate(notes)) / len(notes)
    return out


def _scaled_to_peak(x: np.ndarray, *, peak_db: float) -> np.ndarray:
    out: np.ndarray = x * (10 ** (peak_db / 20) / float(np.max(np.abs(x))))
    return out


def _drum_bar(seconds: float, *, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Kick on every beat, snare on the back beats, hats on the off-beats."""
    track = np.zeros(int(seconds * rate))
    beat, k = 0.0, 0
    while beat < seconds:
        _place(track, _kick(rate), at=beat, rate=rate)
        if k % 2 == 1:
            _place(track, _snare(rate, rng), at=beat, rate=rate, gain=0.8)
        _place(track, _hat(rate, rng), at=beat + BEAT / 2, rate=rate, gain=0.25)
        beat += BEAT
        k += 1
    return track


def punchy_drums(path: Path, *, seconds: float, rate: int = 44_100) -> Path:
    """Stereo drums over a bass pad, sample peaks at -1.9 dBFS, about -17.7 LUFS (true peaks 16 dB above
    the loudness): like the issue's song (-17.4 LUFS, peaks at -1.9 dBFS), whose transients the gain to
    -14 LUFS pushes past full scale."""
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * rate)) / rate
    drums = _drum_bar(seconds, rate=rate, rng=rng)
    bass = 0.8 * _pad(t, notes=(110.0, 165.0, 220.0))
    left = drums + bass
    right = 0.9 * drums + bass  # a little width, so the channels are not identical
    stereo = _scaled_to_peak(np.stack([left, right], axis=1), peak_db=-1.9)
    sf.write(str(path), stereo.astype(np.float32), rate, subtype="FLOAT")
    return path


def quiet_dynamic(path: Path, *, seconds: float, rate: int = 44_100) -> Path:
    """A soft chord at -30 LUFS struck through by two sharp hits near full scale (30 dB above the
    loudness): reaching -14 LUFS needs ~16 dB of gain, which only a limiter can give."""
    rng = np.random.default_rng(11)
    t = np.arange(int(seconds * rate)) / rate
    chord = _pad(t, notes=(261.6, 329.6, 392.0, 523.3))
    hits = np.zeros_like(t)
    for at in (0.9, seconds * 0.55):
        h = np.arange(int(0.15 * rate)) / rate
        hit = (np.sin(2 * np.pi * 1500 * h) + rng.standard_normal(h.size)) * np.exp(-h / 0.0015)
        _place(hits, hit, at=at, rate=rate)
    hits = _scaled_to_peak(hits, peak_db=-0.3)
    mix = 0.072 * chord + hits
    stereo = np.stack([mix, np.roll(mix, 7)], axis=1)
    sf.write(str(path), stereo.astype(np.float32), rate, subtype="FLOAT")
    return path


def brick_walled(path: Path, *, seconds: float, rate: int = 44_100) -> Path:
    """A dense mix driven into a clipper: peak only a few dB above its RMS (crest factor under 6 dB),
    louder than -14 LUFS, so it must come down, never up."""
    rng = np.random.default_rng(13)
    t = np.arange(int(seconds * rate)) / rate
    saw = sum(((f * t) % 1.0 - 0.5) * 2 / (i + 1) for i, f in enumerate((110.0, 164.8, 220.0)))
    mix = _drum_bar(seconds, rate=rate, rng=rng) + 0.8 * saw + 0.15 * rng.standard_normal(t.size)
    mix = np.tanh(4.0 * mix / np.max(np.abs(mix)))  # the loudness war, in one line
    stereo = _scaled_to_peak(np.stack([mix, 0.97 * mix], axis=1), peak_db=-0.1)
    sf.write(str(path), stereo.astype(np.float32), rate, subtype="FLOAT")
    return path


def mono_drums(path: Path, *, seconds: float, rate: int = 48_000) -> Path:
    """One channel of drums and pad at 48 kHz, sample peaks at -0.5 dBFS, true peaks about 22 dB above
    its loudness."""
    rng = np.random.default_rng(17)
    t = np.arange(int(seconds * rate)) / rate
    mono = _drum_bar(seconds, rate=rate, rng=rng) + 0.04 * _pad(t, notes=(65.4, 98.0))
    sf.write(str(path), _scaled_to_peak(mono, peak_db=-0.5).astype(np.float32), rate, subtype="FLOAT")
    return path


SONGS: dict[str, Callable[..., Path]] = {
    "punchy drums": punchy_drums,
    "quiet dynamic": quiet_dynamic,
    "brick-walled": brick_walled,
    "mono": mono_drums,
}


def crest_factor_db(path: Path) -> float:
    """Peak over RMS of the file's samples, dB."""
    data, _ = sf.read(str(path), dtype="float64", always_2d=True)
    return _db(float(np.max(np.abs(data)))) - _db(float(np.sqrt(np.mean(np.square(data)))))


def sample_peak_db(path: Path) -> float:
    """The highest sample of a file's first audio stream as decoded (any container), dBFS."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
           "-f", "f32le", "-acodec", "pcm_f32le", "-"]
    samples = np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.float32)
    return _db(float(np.max(np.abs(samples))))


def compose_under(*, song: Path, root: Path, seconds: float = 5.0) -> Path:
    """Compose a tiny video (64x64, two scenes, a crossfade) under `song`, starting 0.5 s into it; the
    final MP4's path."""
    from functions.compose import clip_windows, run_compose
    from shared.models.base import OutputSpec
    from shared.models.plan import Transition
    from shared.models.render import ComposeRequest
    from shared.store import LocalStore
    from tests.functions.compose.compose_inputs import make_clip, make_plan

    store = LocalStore(root / "artifacts")
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=30, duration=seconds)
    half = round(seconds / 2 / BEAT) * BEAT
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0.5, fade_out=0.5,
                     scenes=[(0, half, Transition.cut, 0), (half, seconds, Transition.crossfade, 0.5)])
    clips = [make_clip(store, key=f"clips/{w.index}.mp4", colours=[(colour, w.frames)], size=(64, 64), fps=30)
             for w, colour in zip(clip_windows(plan=plan), ("0x2040C0", "0xE0E020"), strict=True)]
    store.put_file("music/song.wav", song)
    request = ComposeRequest(plan=plan, clips=clips, audio_key="music/song.wav", preset="veryfast")
    return store.path(run_compose(request=request, store=store).video_key)


def _main() -> None:
    import tempfile

    from tests.videocheck import integrated_loudness, true_peak

    rows = []
    with tempfile.TemporaryDirectory(prefix="momentloop-songs-") as tmp:
        root = Path(tmp)
        for name, make in SONGS.items():
            song = make(root / f"{name.replace(' ', '_')}.wav", seconds=6.0)
            video = compose_under(song=song, root=root / name.replace(" ", "_"))
            rows.append((name, song, video))
        print(f"{'song':<14} {'':>6} {'I LUFS':>7} {'TP dBTP':>8} {'SP dBFS':>8} {'crest dB':>8}")
        for name, song, video in rows:
            for label, path in (("input", song), ("output", video)):
                crest = f"{crest_factor_db(path):8.1f}" if label == "input" else ""
                print(f"{name:<14} {label:>6} {integrated_loudness(path):7.1f} {true_peak(path):8.1f} "
                      f"{sample_peak_db(path):8.2f} {crest}")


if __name__ == "__main__":
    _main()
