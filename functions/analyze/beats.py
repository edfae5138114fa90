"""Tempo, beats, downbeats and beat strength from a track's onset envelope.

librosa does the signal work. Its beat tracker (dynamic programming on an onset envelope) follows the
tempo it is given, so the tempo estimate decides most of the result; see `estimate_tempo`."""

from __future__ import annotations

import itertools
import logging
import math
import warnings

import numpy as np

from functions.analyze.audio import HOP, SR, frames_to_time, values_at

log = logging.getLogger(__name__)

DEFAULT_TEMPO = 120.0
# The octave beats are reported in. A 174 BPM groove is reported at 87 BPM (every other beat), a 55 BPM
# ballad at 110, so cuts fall at a pace that reads as "on the beat" in a video and bars (4 beats) have a
# length an editor can use.
TEMPO_RANGE = (76.0, 152.0)
TEMPO_EXCERPT_S = 60.0
# How much stronger the onsets at tracked beats must be than the onsets on average for the beats to be
# believed. Music measures 6-30x (the 808 loop, the madmom sample, generated tracks); white or pink
# noise, which the tracker will still "follow", 1.3-1.8x.
MIN_PULSE_CLARITY = 2.0


def estimate_tempo(*, onset: np.ndarray) -> float | None:
    """Global tempo, in TEMPO_RANGE, from the autocorrelation and Fourier tempograms (after Peeters, 2007).

    The autocorrelation peaks at the beat period and its multiples (half, third tempo...), the Fourier
    tempogram at the beat frequency and its harmonics (double, triple tempo). Their product keeps what
    both agree on, which removes the 3:2 and 4:3 confusions either one alone makes on syncopated
    rhythms. Because the answer is folded into one octave anyway, each candidate in that octave scores
    the evidence of its whole octave family (T/2, T, 2T) instead of letting a prior pick between them."""
    import librosa

    win = 384 * 512 // HOP  # ~8.9 s, librosa's default analysis window
    # The tempo is one number for the whole track: its middle minute tells it as well as ten minutes
    # would, at a tenth of the memory (the tempograms hold a window of lags for every frame).
    most = round(TEMPO_EXCERPT_S * SR / HOP)
    if len(onset) > most:
        first = (len(onset) - most) // 2
        onset = onset[first:first + most]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a clip shorter than the window is padded: fine
        ac = librosa.feature.tempogram(onset_envelope=onset, sr=SR, hop_length=HOP, win_length=win)
        ft = np.abs(librosa.feature.fourier_tempogram(onset_envelope=onset, sr=SR, hop_length=HOP,
                                                       win_length=win))
    ac_mean, ft_mean = ac.mean(axis=1), ft.mean(axis=1)
    ac_bpm = librosa.tempo_frequencies(len(ac_mean), sr=SR, hop_length=HOP)[1:][::-1]
    ft_bpm = librosa.fourier_tempo_frequencies(sr=SR, hop_length=HOP, win_length=win)
    lo, hi = TEMPO_RANGE
    band = np.exp(np.linspace(math.log(lo), math.log(hi), 240, endpoint=False))

    def product(bpm: np.ndarray) -> np.ndarray:
        a = np.maximum(np.interp(bpm, ac_bpm, ac_mean[1:][::-1], left=0.0, right=0.0), 0.0)
        f = np.interp(bpm, ft_bpm, ft_mean, left=0.0, right=0.0)
        return a * f

    score = product(band / 2) + product(band) + product(band * 2)
    if score.max() <= 0:
        return None
    return float(band[int(np.argmax(score))])


def track_beats(*, onset: np.ndarray, duration: float) -> tuple[float, list[float]] | None:
    """(tempo, beat times) or None when the onsets show no beat."""
    import librosa

    if len(onset) < 8 or float(onset.std()) <= 1e-6:
        return None
    tempo = estimate_tempo(onset=onset)
    if tempo is None:
        return None
    _, frames = librosa.beat.beat_track(onset_envelope=onset, sr=SR, hop_length=HOP, bpm=tempo,
                                        units="frames", trim=True)
    beats = frames_to_time(np.asarray(frames))
    if len(beats) < 2:
        return None
    clarity = float(values_at(onset, times=beats.tolist(), radius=1).mean() / (onset.mean() + 1e-12))
    if clarity < MIN_PULSE_CLARITY:
        log.info("beats found stand out of the onsets only %.1fx: no clear pulse", clarity)
        return None
    # The period over the whole run: single frame-quantised gaps would round the tempo by up to 2%, and
    # counting whole periods (not beats) keeps a beat the tracker skipped from stretching it.
    gaps = np.diff(beats)
    periods = int(np.maximum(1, np.round(gaps / float(np.median(gaps)))).sum())
    period = float(beats[-1] - beats[0]) / periods
    return 60.0 / period, _extend(beats=beats.tolist(), period=period, duration=duration)


def _extend(*, beats: list[float], period: float, duration: float) -> list[float]:
    """Continue the grid at the tracked period into the start and end the tracker left out.

    The tracker drops weak beats at both ends; the planner needs beats wherever a cut can fall, and a
    track's intro or outro keeps its tempo far more often than not."""
    head = []
    t = beats[0] - period
    while t >= -0.02 * period:
        head.append(max(0.0, t))
        t -= period
    tail = []
    t = beats[-1] + period
    while t < duration - 0.02 * period:
        tail.append(t)
        t += period
    return [*reversed(head), *beats, *tail]


def steady_grid(*, tempo: float, start: float, duration: float) -> list[float]:
    period = 60.0 / tempo
    count = max(1, math.ceil((duration - start) / period - 1e-9))
    return [start + i * period for i in range(count)]


def downbeat_phase(*, beats: list[float], low_onset: np.ndarray, onset: np.ndarray, chroma: np.ndarray) -> int:
    """Which beat of each 4/4 bar is the one (0..3).

    librosa has no downbeat tracker. In most popular music the bar starts where the bass drum and the
    bass land hardest and where the chords change, so each of the four phases is scored by the mean
    low-frequency (< 200 Hz) onset strength of its beats plus the chord change (chroma distance between
    the beat before and after) at them, and the best phase wins. Near-ties go to the earliest phase,
    so a track with four identical beats per bar starts its bars on its first beat."""
    if len(beats) < 2:
        return 0
    low = values_at(low_onset, times=beats) / (float(low_onset.max()) + 1e-9)
    full = values_at(onset, times=beats) / (float(onset.max()) + 1e-9)
    change = _chord_change(beats=beats, chroma=chroma)
    accent = low + 0.5 * full + change
    # The first frames have no onset envelope (nothing before them to differ from): a beat there is
    # left out of the vote rather than counted as unaccented.
    accent = np.where(np.asarray(beats) < 3 * HOP / SR, np.nan, accent)
    scores = [float(np.nanmean(accent[p::4])) if np.isfinite(accent[p::4]).any() else -1.0
              for p in range(min(4, len(beats)))]
    best = max(scores)
    return next(p for p, s in enumerate(scores) if s >= best - 0.05 * abs(best))


def _chord_change(*, beats: list[float], chroma: np.ndarray) -> np.ndarray:
    """Cosine distance (0..1) of the chroma of the beat before and the beat after each beat."""
    frames = np.clip(np.round(np.asarray(beats) * SR / HOP).astype(int), 0, chroma.shape[1] - 1)
    bounds = [0, *frames.tolist(), chroma.shape[1]]
    means = [chroma[:, a:max(a + 1, b)].mean(axis=1) for a, b in itertools.pairwise(bounds)]
    out = []
    for i in range(len(frames)):
        before, after = means[i], means[i + 1]
        denom = float(np.linalg.norm(before) * np.linalg.norm(after))
        out.append(1.0 - float(before @ after) / denom if denom > 1e-12 else 0.0)
    return np.clip(np.array(out), 0.0, 1.0)


def beat_strength(*, beats: list[float], onset: np.ndarray) -> list[float]:
    if not beats:
        return []
    values = values_at(onset, times=beats)
    top = float(values.max())
    if top <= 1e-9:
        return [0.0] * len(beats)
    return [round(float(v), 4) for v in np.clip(values / top, 0.0, 1.0)]
