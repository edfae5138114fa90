"""The instruments of the procedural track: one-shot drums and pitched voices, rendered with numpy.

Every sound starts at its first sample (no pre-delay), so a hit placed at a beat's sample is heard on it."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 48_000
_TABLE_SIZE = 4096


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _ramp(n: int, *, sr: int, attack: float) -> np.ndarray:
    """A linear attack of `attack` seconds over the first samples of `n` (avoids clicks)."""
    env = np.ones(n)
    a = min(n, max(1, round(attack * sr)))
    env[:a] = np.linspace(0.0, 1.0, a, endpoint=False) + 1.0 / a
    return env


def band_noise(rng: np.random.Generator, *, n: int, sr: int, lo_hz: float, hi_hz: float) -> np.ndarray:
    """White noise band-limited in the frequency domain, with soft (one-octave) skirts; unit peak."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    with np.errstate(divide="ignore"):
        octaves_below = np.log2(np.maximum(lo_hz / np.maximum(f, 1e-9), 1.0))
        octaves_above = np.log2(np.maximum(f / hi_hz, 1.0))
    gain = np.exp(-3.0 * (octaves_below + octaves_above))
    out = np.fft.irfft(spec * gain, n)
    return out / (np.abs(out).max() + 1e-12)


def kick(*, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A round electronic kick: a sine falling from ~160 Hz to ~48 Hz, plus a short beater click."""
    n = round(0.42 * sr)
    t = np.arange(n) / sr
    freq = 48.0 + 112.0 * np.exp(-t / 0.035)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.22)
    click = band_noise(rng, n=n, sr=sr, lo_hz=1500, hi_hz=8000) * np.exp(-t / 0.004) * 0.35
    return (body + click) * _ramp(n, sr=sr, attack=0.001)


def snare(*, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Noise snares over a short 190 Hz drum body."""
    n = round(0.3 * sr)
    t = np.arange(n) / sr
    rattle = band_noise(rng, n=n, sr=sr, lo_hz=1800, hi_hz=9000) * np.exp(-t / 0.07)
    body = np.sin(2 * np.pi * 190.0 * t) * np.exp(-t / 0.045)
    return (0.7 * rattle + 0.6 * body) * _ramp(n, sr=sr, attack=0.0008)


def clap(*, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Three quick noise bursts and a tail: the hand-clap layered on the snare."""
    n = round(0.25 * sr)
    t = np.arange(n) / sr
    noise = band_noise(rng, n=n, sr=sr, lo_hz=900, hi_hz=5000)
    env = np.exp(-t / 0.06) * 0.6
    for start in (0.0, 0.009, 0.018):
        env += np.where(t >= start, np.exp(-(t - start) / 0.006), 0.0)
    return noise * env * _ramp(n, sr=sr, attack=0.0005) / 2.0


def hat(*, rng: np.random.Generator, open_: bool = False, sr: int = SAMPLE_RATE) -> np.ndarray:
    n = round((0.35 if open_ else 0.08) * sr)
    t = np.arange(n) / sr
    noise = band_noise(rng, n=n, sr=sr, lo_hz=7000, hi_hz=16000)
    return noise * np.exp(-t / (0.12 if open_ else 0.018)) * _ramp(n, sr=sr, attack=0.0005)


def shaker(*, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A soft shaker: a swelling then fading band of noise, for the calm parts' pulse."""
    n = round(0.09 * sr)
    t = np.arange(n) / sr
    noise = band_noise(rng, n=n, sr=sr, lo_hz=4000, hi_hz=11000)
    return noise * np.exp(-t / 0.025) * _ramp(n, sr=sr, attack=0.004)


def crash(*, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    n = round(2.0 * sr)
    t = np.arange(n) / sr
    return band_noise(rng, n=n, sr=sr, lo_hz=4000, hi_hz=15000) * np.exp(-t / 0.55) * _ramp(
        n, sr=sr, attack=0.001)


@lru_cache(maxsize=8)
def soft_saw_table(*, harmonics: int) -> np.ndarray:
    """One cycle of a band-limited saw with its upper harmonics rolled off: a warm pad timbre."""
    phase = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    k = np.arange(1, harmonics + 1)[:, None]
    wave = (np.sin(2 * np.pi * k * phase) / k * np.exp(-k / (harmonics / 3))).sum(axis=0)
    return wave / np.abs(wave).max()


def oscillator(*, table: np.ndarray, freq: float, n: int, phase: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Wavetable playback: cheap enough to run every pad voice at full rate."""
    cycles = phase + freq * np.arange(n) / sr
    idx = ((cycles % 1.0) * len(table)).astype(np.int64)
    return table[idx]


def pad_envelope(*, n: int, attack: float, release: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Rise over `attack`, hold, then fall over the last `release` seconds of `n` samples (cosine shapes)."""
    env = np.ones(n)
    a = min(n, round(attack * sr))
    r = min(n - a, round(release * sr))
    if a:
        env[:a] = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, a))
    if r:
        env[n - r:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, r))
    return env


@lru_cache(maxsize=64)
def pluck(*, note: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A plucked, bell-ish note: a few harmonics, the higher ones dying faster."""
    n = round(0.5 * sr)
    t = np.arange(n) / sr
    f = midi_hz(note)
    out = np.zeros(n)
    for k, amp in ((1, 1.0), (2, 0.45), (3, 0.2), (4, 0.1)):
        out += amp * np.sin(2 * np.pi * k * f * t) * np.exp(-t * (5.0 + 4.0 * k))
    out *= _ramp(n, sr=sr, attack=0.002)
    out.flags.writeable = False
    return out / np.abs(out).max()


@lru_cache(maxsize=128)
def bass_note(*, note: float, length: float, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A round synth bass: sine plus a gently saturated copy for harmonics a phone speaker can play."""
    n = max(1, round(length * sr))
    t = np.arange(n) / sr
    f = midi_hz(note)
    sine = np.sin(2 * np.pi * f * t)
    tone = 0.75 * sine + 0.25 * np.tanh(3.0 * sine)
    env = np.exp(-t / max(0.25, length)) * pad_envelope(n=n, attack=0.004, release=min(0.03, length / 4), sr=sr)
    out = tone * env
    out.flags.writeable = False
    return out
