"""The procedural soundtrack: chords, bass and drums on an exact beat grid, calm and energetic parts.

Everything is numpy at 48 kHz stereo and deterministic for a (seed, mood, duration): the same request
always renders the same samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from functions.music import sounds
from functions.music.grid import BEATS_PER_BAR, BeatGrid, plan_grid
from functions.music.sounds import SAMPLE_RATE

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Scale degrees (0 = tonic), one chord per bar. I–V–vi–IV first: the progression most pop is built on.
_MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4))
_MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 5, 4), (0, 6, 5, 6))
# Tonic pitch classes the seed picks from (C, D, Eb, F, G, A): keys that sit well for pad and bass.
_KEYS = (0, 2, 3, 5, 7, 9)
_PEAK_DBFS = -1.0


@dataclass(frozen=True)
class Mood:
    name: str
    minor: bool
    target_bpm: float
    drive: float  # how hard the drums hit in the energetic parts, 0..1


_MOODS: tuple[tuple[tuple[str, ...], Mood], ...] = (
    (("sad", "melanchol", "dark", "moody", "nostalg"), Mood("melancholic", True, 96, 0.7)),
    (("epic", "cinematic", "dramatic"), Mood("epic", True, 112, 1.0)),
    (("calm", "chill", "relax", "soft", "gentle", "lofi", "lo-fi"), Mood("calm", False, 94, 0.6)),
    (("energetic", "party", "dance", "hype", "upbeat"), Mood("energetic", False, 126, 1.0)),
    (("happy", "fun", "joy", "summer", "bright"), Mood("happy", False, 120, 0.9)),
)
_DEFAULT_MOOD = Mood("uplifting", False, 116, 0.85)


def pick_mood(text: str) -> Mood:
    """The first mood whose keyword appears in `text`; uplifting major otherwise."""
    low = text.lower()
    for words, mood in _MOODS:
        if any(w in low for w in words):
            return mood
    return _DEFAULT_MOOD


def arrangement(*, bars: int) -> list[str]:
    """Each bar's part: 'calm' (intro, breakdowns), 'energetic', and the final 'ring' bar after the end.

    A calm intro, then the full groove broken by calm breakdowns (2 bars in short tracks, 4 in long ones)
    after every 8 (or, past 32 bars, 16) energetic bars, so the edit gets quieter stretches to breathe
    in. The last 4 bars before the end are always energetic. Calm parts are at least two bars, like the
    sections analysis reports."""
    if bars < 4:
        return ["energetic"] * bars + ["ring"]
    intro = 2 if bars < 12 else 4
    parts = ["calm"] * intro + ["energetic"] * (bars - intro)
    groove = 8 if bars < 32 else 16
    brk = 2 if bars < 24 else 4
    start = intro + groove
    while start + brk + 4 <= bars:
        parts[start:start + brk] = ["calm"] * brk
        start += brk + groove
    return [*parts, "ring"]


def _chord(*, tonic: int, scale: tuple[int, ...], degree: int) -> list[int]:
    """A triad on `degree` of the scale, as pitch classes above `tonic` (may exceed 12)."""
    return [tonic + scale[(degree + step) % 7] + 12 * ((degree + step) // 7) for step in (0, 2, 4)]


def _voice(pitches: list[int], *, centre: int) -> list[int]:
    """Place each chord tone in the octave nearest `centre`: close voicing, smooth between chords."""
    return sorted(p + 12 * round((centre - p) / 12) for p in pitches)


_CHUNK = 1 << 20  # samples per step when touching the whole buffer: keeps temporaries small


class _Mix:
    """A float32 stereo bus that sounds are added into at sample positions."""

    def __init__(self, *, n: int, sr: int) -> None:
        self.buf = np.zeros((2, n), dtype=np.float32)
        self.sr = sr

    def add(self, sound: np.ndarray, *, at: float, gain: float, pan: float = 0.0) -> None:
        """Add mono `sound` starting at `at` seconds; `pan` -1 (left) .. 1 (right), equal-power."""
        angle = (pan + 1.0) * np.pi / 4
        self.add_stereo(np.stack([sound * np.cos(angle), sound * np.sin(angle)]), at=at, gain=gain)

    def add_stereo(self, sound: np.ndarray, *, at: float, gain: float) -> None:
        start = round(at * self.sr)
        if not 0 <= start < self.buf.shape[1]:
            return
        seg = sound[:, : self.buf.shape[1] - start]
        self.buf[:, start:start + seg.shape[1]] += gain * seg


@dataclass(frozen=True)
class Rendered:
    audio: np.ndarray  # (2, samples) float32 in -1..1
    grid: BeatGrid
    mood: Mood
    key_name: str


_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def musical_key(*, seed: int, mood: str) -> tuple[int, str]:
    """The tonic pitch class (0 = C) and the key's name, e.g. 'A major'."""
    m = pick_mood(mood)
    tonic = _KEYS[int(np.random.default_rng([seed, 7]).integers(len(_KEYS)))]
    return tonic, f"{_NOTE_NAMES[tonic]} {'minor' if m.minor else 'major'}"


def rendered_seconds(grid: BeatGrid, *, sr: int = SAMPLE_RATE) -> float:
    """The exact length of the file `render` writes for `grid`."""
    return round(grid.total_duration * sr) / sr


@dataclass(frozen=True)
class _Kit:
    kick: np.ndarray
    snare: np.ndarray
    clap: np.ndarray
    hat: np.ndarray
    open_hat: np.ndarray
    shaker: np.ndarray
    crash: np.ndarray

    @classmethod
    def make(cls, *, rng: np.random.Generator, sr: int) -> _Kit:
        return cls(
            kick=sounds.kick(rng=rng, sr=sr),
            snare=sounds.snare(rng=rng, sr=sr),
            clap=sounds.clap(rng=rng, sr=sr),
            hat=sounds.hat(rng=rng, sr=sr),
            open_hat=sounds.hat(rng=rng, open_=True, sr=sr),
            shaker=sounds.shaker(rng=rng, sr=sr),
            crash=sounds.crash(rng=rng, sr=sr),
        )


@dataclass(frozen=True)
class _Bar:
    """One bar to play: where it starts, what part it belongs to, its chord."""

    start: float
    beat: float
    part: str
    prev: str
    next: str
    chord: list[int]  # MIDI notes of the pad voicing
    root: int  # MIDI bass note

    @property
    def calm(self) -> bool:
        return self.part == "calm"


def render(*, duration: float, seed: int, mood: str, sr: int = SAMPLE_RATE) -> Rendered:
    """Render `duration` seconds (whole bars) plus one ring-out bar."""
    m = pick_mood(mood)
    grid = plan_grid(duration=duration, target_bpm=m.target_bpm)
    rng = np.random.default_rng(seed)
    tonic, key_name = musical_key(seed=seed, mood=mood)
    scale = _MINOR if m.minor else _MAJOR
    progressions = _MINOR_PROGRESSIONS if m.minor else _MAJOR_PROGRESSIONS
    # The default seed gets the classic progression; other seeds vary it.
    progression = progressions[0] if seed == 0 else progressions[int(rng.integers(len(progressions)))]
    parts = arrangement(bars=grid.bars)
    kit = _Kit.make(rng=rng, sr=sr)
    pad_phase = rng.random((4, 2))

    n = round(rendered_seconds(grid, sr=sr) * sr)
    mix = _Mix(n=n, sr=sr)
    for b, part in enumerate(parts):
        degree = 0 if part == "ring" else progression[b % len(progression)]
        bar = _Bar(
            start=b * grid.bar_period,
            beat=grid.beat_period,
            part=part,
            prev=parts[b - 1] if b else "calm",
            next=parts[b + 1] if b + 1 < len(parts) else "ring",
            chord=_voice(_chord(tonic=tonic, scale=scale, degree=degree), centre=66),
            root=36 + (tonic + scale[degree]) % 12,  # bass octave: C2..B2
        )
        _pad(mix, bar=bar, parts=parts, bar_period=grid.bar_period, phase=pad_phase)
        _bass(mix, bar=bar)
        _drums(mix, bar=bar, kit=kit, drive=m.drive)
        if not bar.calm:
            _arpeggio(mix, bar=bar)

    # Fade the second half of the ring-out bar so the file ends in silence, not on a cut note.
    fade_start = round((grid.duration + grid.bar_period / 2) * sr)
    mix.buf[:, fade_start:] *= (np.cos(np.linspace(0.0, np.pi / 2, n - fade_start)) ** 2).astype(np.float32)
    _master(mix.buf)
    return Rendered(audio=mix.buf, grid=grid, mood=m, key_name=key_name)


def _pad(mix: _Mix, *, bar: _Bar, parts: list[str], bar_period: float, phase: np.ndarray) -> None:
    """The chord held for the bar, overlapping the next by a short release so changes are smooth.

    In energetic parts it ducks under every beat (sidechain pumping), which makes the groove breathe."""
    sr = mix.sr
    length = round((bar_period + 0.25) * sr)
    env = sounds.pad_envelope(n=length, attack=0.12 if bar.calm else 0.03, release=0.3, sr=sr)
    t = bar.start + np.arange(length) / sr
    bar_index = np.minimum((t / bar_period).astype(int), len(parts) - 1)
    pumping = np.array([p != "calm" for p in parts])[bar_index]
    env = env * np.where(pumping, 1.0 - 0.45 * np.exp(-np.mod(t, bar.beat) / 0.12), 1.0)
    table = sounds.soft_saw_table(harmonics=18)
    voices = np.zeros((2, length))
    for v, note in enumerate([*bar.chord, bar.chord[0] + 12]):
        f = sounds.midi_hz(note)
        for ch, cents in ((0, -7.0), (1, 7.0)):  # detuned left/right: a wide, soft pad
            tone = sounds.oscillator(table=table, freq=f * 2 ** (cents / 1200), n=length,
                                     phase=float(phase[v, ch]), sr=sr)
            voices[ch] += tone * (0.07 if v < 3 else 0.04)
    mix.add_stereo(voices * env, at=bar.start, gain=0.45 if bar.calm else 1.0)


def _bass(mix: _Mix, *, bar: _Bar) -> None:
    """Long notes when calm, driving eighths (with an octave jump) otherwise."""
    if bar.calm:
        for k in (0, 2):
            note = sounds.bass_note(note=bar.root, length=2 * bar.beat * 0.95, sr=mix.sr)
            mix.add(note, at=bar.start + k * bar.beat, gain=0.16)
        return
    for k in range(BEATS_PER_BAR * 2):
        note = sounds.bass_note(note=bar.root + (12 if k in (3, 7) else 0), length=bar.beat / 2 * 0.85, sr=mix.sr)
        mix.add(note, at=bar.start + k * bar.beat / 2, gain=0.42)


def _drums(mix: _Mix, *, bar: _Bar, kit: _Kit, drive: float) -> None:
    t0, beat = bar.start, bar.beat
    if bar.calm:
        # A soft kick on the one and a shaker on the beats: the pulse stays, the weight goes.
        mix.add(kit.kick, at=t0, gain=0.3)
        for k in range(BEATS_PER_BAR):
            mix.add(kit.shaker, at=t0 + k * beat, gain=0.05 if k % 2 == 0 else 0.07, pan=0.3)
        if bar.next == "energetic":  # a snare build into the groove
            for k in range(4):
                mix.add(kit.snare, at=t0 + 3 * beat + k * beat / 4, gain=0.12 + 0.08 * k)
        return
    if bar.prev == "calm" or bar.part == "ring":
        mix.add(kit.crash, at=t0, gain=0.16, pan=-0.2)
    for k in (0, 2):
        mix.add(kit.kick, at=t0 + k * beat, gain=0.95)
    if drive >= 0.9:  # a pickup kick before beat 3 on busier moods
        mix.add(kit.kick, at=t0 + 1.5 * beat, gain=0.45)
    for k in (1, 3):
        mix.add(kit.snare, at=t0 + k * beat, gain=0.42 * drive + 0.1)
        mix.add(kit.clap, at=t0 + k * beat, gain=0.35 * drive, pan=0.1)
    for k in range(BEATS_PER_BAR * 2):
        mix.add(kit.open_hat if k == 7 else kit.hat, at=t0 + k * beat / 2, gain=0.16 if k % 2 else 0.10, pan=0.35)


def _arpeggio(mix: _Mix, *, bar: _Bar) -> None:
    """Plucked eighths through the chord an octave up, alternating sides."""
    arp = [bar.chord[0] + 12, bar.chord[1] + 12, bar.chord[2] + 12, bar.chord[1] + 12]
    for k in range(BEATS_PER_BAR * 2):
        mix.add(sounds.pluck(note=arp[k % 4], sr=mix.sr), at=bar.start + k * bar.beat / 2,
                gain=0.13 if k % 2 else 0.17, pan=-0.4 if k % 2 else 0.4)


def _master(buf: np.ndarray) -> None:
    """In place: soft-clip the drum peaks (tanh), then set the sample peak to -1 dBFS.

    Driving the mix to a fixed RMS before the tanh gives every track the same loudness (about -12 LUFS)
    with only the tallest transients rounded; the peak gain afterwards guarantees no clipping."""
    n = buf.shape[1]
    power = sum(float(np.sum(np.square(buf[:, i:i + _CHUNK], dtype=np.float64))) for i in range(0, n, _CHUNK))
    rms = math.sqrt(power / max(1, buf.size))
    if rms <= 1e-9:
        return
    drive = np.float32(0.25 / rms)
    peak = 0.0
    for i in range(0, n, _CHUNK):
        chunk = buf[:, i:i + _CHUNK]
        np.tanh(chunk * drive, out=chunk)
        peak = max(peak, float(np.abs(chunk).max()))
    if peak > 0:
        buf *= np.float32(10 ** (_PEAK_DBFS / 20) / peak)


def write_wav(*, rendered: Rendered, path: Path, sr: int = SAMPLE_RATE) -> None:
    """16-bit PCM WAV, written in blocks so no second full-length copy of the audio is made."""
    import soundfile as sf

    audio = rendered.audio
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16", format="WAV") as f:
        for i in range(0, audio.shape[1], _CHUNK):
            f.write(audio[:, i:i + _CHUNK].T)
