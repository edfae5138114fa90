"""Music analysis: tempo, beats, downbeats, beat strength, an energy curve and calm/energetic sections.

librosa does the signal work. Its beat tracker (dynamic programming on an onset envelope) follows the
tempo it is given, so the tempo estimate decides most of the result; see `_estimate_tempo`."""

from __future__ import annotations

import itertools
import logging
import math
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from functions.analyze.kernels import FIRST_RUN_MESSAGE, kernels_cached
from shared.errors import FFmpegError, MusicError
from shared.media.ffmpeg import run_ffmpeg
from shared.models import AnalyzeMusicRequest, MusicInfo, Section
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

MUSIC_ANALYSIS_VERSION = "1"

SR = 22_050
HOP = 256  # 11.6 ms frames: beat times are quantised to this
N_FFT = 1024  # 46 ms: sharp enough in time for beats, fine enough in frequency for bass
# The onset envelope marks a frame by the change into it; with a 46 ms window that change peaks about a
# frame before the sound is heard. One frame of delay puts tracked beats within ~5 ms of the 808 loop's
# kicks and of the madmom sample's hand annotations (librosa's default shift of half a window puts
# them 15-30 ms late).
ONSET_DELAY_FRAMES = 1
ENERGY_HOP = 0.1
DEFAULT_TEMPO = 120.0
SILENT_PEAK_DBFS = -60.0
# The octave beats are reported in. A 174 BPM groove is reported at 87 BPM (every other beat), a 55 BPM
# ballad at 110, so cuts fall at a pace that reads as "on the beat" in a video and bars (4 beats) have a
# length an editor can use.
TEMPO_RANGE = (76.0, 152.0)
ENERGY_RANGE_DB = 24.0  # energy 0 = this far below the track's loud parts, or quieter
QUIETEST_TOP_DBFS = -46.0  # a track whose loud parts are below this is quiet everywhere
MIN_CONTRAST_DB = 4.0  # calm and energetic parts differ by at least this much, or the track is one section
ENERGETIC_TRACK_DBFS = -20.0  # a uniform track this loud (RMS of its loud parts) is energetic
MIN_SECTION_BARS = 2
TEMPO_EXCERPT_S = 60.0
# How much stronger the onsets at tracked beats must be than the onsets on average for the beats to be
# believed. Music measures 6-30x (the 808 loop, the madmom sample, generated tracks); white or pink
# noise, which the tracker will still "follow", 1.3-1.8x.
MIN_PULSE_CLARITY = 2.0


def analyze_music(
    *, request: AnalyzeMusicRequest, store: ArtifactStore, report: Reporter = silent
) -> MusicInfo:
    """Beat grid and energy of `request.track`.

    Generated tracks that carry their exact beat grid keep it; everything else is beat-tracked. A track
    with no detectable beat (silence, a drone) gets a steady grid at 120 BPM, never an empty one."""
    track = request.track
    exact = track.origin == "generated" and bool(track.beats and track.downbeats and track.tempo)
    # librosa's kernels are compiled on a machine's first analysis (~45 s), then loaded from numba's
    # cache: a first run says so, before the wait, for as long as it waits.
    first_run = not kernels_cached(beat_tracking=not exact)

    def step(message: str) -> str:
        return FIRST_RUN_MESSAGE if first_run else message

    report(percent=0, message=step(f"loading {track.name}"))
    with store.local_path(track.audio_key) as path:
        y, duration = _load_mono(path=path)
    if len(y) == 0:
        raise MusicError(f"{track.name}: no audio samples")
    peak = float(np.abs(y).max())
    silent_track = peak <= 10 ** (SILENT_PEAK_DBFS / 20)

    report(percent=20, message=step("measuring onsets and energy"))
    import librosa

    # Beats are found on a peak-normalised copy, so a quietly mastered track is tracked like a loud one;
    # energy is measured on the samples as they are.
    y_norm = y / peak if peak > 0 else y
    spec = np.abs(librosa.stft(y_norm, n_fft=N_FFT, hop_length=HOP))
    np.square(spec, out=spec)
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=spec, sr=SR, n_mels=96), ref=1.0)
    onset = _onset_envelope(mel_db)
    rms_db = _rms_db(spec=spec, gain=peak)

    report(percent=50, message=step("tracking beats"))
    if exact:
        # The generator knows its grid exactly; tracking could only blur it.
        tempo, beats, downbeats = float(track.tempo or 0), list(track.beats or []), list(track.downbeats or [])
    else:
        grid = None if silent_track else _track_beats(onset=onset, duration=duration)
        if grid is None:
            log.info("%s: no beat found (%s); using a steady %.0f BPM grid", track.name,
                     "silent" if silent_track else "no regular onsets", DEFAULT_TEMPO)
            tempo, beats = DEFAULT_TEMPO, _steady_grid(tempo=DEFAULT_TEMPO, start=0.0, duration=duration)
            downbeats = beats[::4]
        else:
            tempo, beats = grid
            low_bands = int(np.searchsorted(librosa.mel_frequencies(n_mels=96, fmax=SR / 2), 200.0))
            phase = _downbeat_phase(
                beats=beats,
                low_onset=_onset_envelope(mel_db[: max(2, low_bands)]),
                onset=onset,
                chroma=librosa.feature.chroma_stft(S=spec, sr=SR, hop_length=HOP, tuning=0.0),
            )
            downbeats = beats[phase::4]

    report(percent=80, message=step("energy and sections"))
    strength = _beat_strength(beats=beats, onset=onset)
    smooth_db = _smooth(rms_db, seconds=0.4)
    energy_curve = _energy(smooth_db=smooth_db, silent_track=silent_track)
    energy = _sample_every(energy_curve, hop_s=ENERGY_HOP, duration=duration)
    sections = _sections(
        smooth_db=_smooth(rms_db, seconds=2.0),
        energy=energy_curve,
        duration=duration,
        downbeats=downbeats,
        bar=4 * 60.0 / tempo,
        silent_track=silent_track,
    )
    report(percent=100, message=f"{tempo:.0f} BPM, {len(beats)} beats, {len(sections)} sections")
    return MusicInfo(
        track=track,
        duration=duration,
        tempo=tempo,
        beats=beats if exact else [round(b, 4) for b in beats],
        downbeats=downbeats if exact else [round(d, 4) for d in downbeats],
        beat_strength=strength,
        energy_hop=ENERGY_HOP,
        energy=energy,
        sections=sections,
    )


# ---------------------------------------------------------------- loading

def _load_mono(*, path: Path) -> tuple[np.ndarray, float]:
    """(mono float samples at SR, the file's exact length in seconds).

    WAV/FLAC/MP3/OGG go through libsndfile; anything else (M4A, WebM...) through ffmpeg."""
    import librosa
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as f:
            rate = f.samplerate
            # Downmixed block by block: a 10-minute 48 kHz stereo file never sits in memory twice.
            blocks = [b.mean(axis=1) for b in f.blocks(blocksize=1 << 18, dtype="float32", always_2d=True)]
    except (sf.LibsndfileError, RuntimeError, TypeError):
        mono = _load_with_ffmpeg(path=path)
        return mono, len(mono) / SR
    mono = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    seconds = len(mono) / rate
    if rate != SR and len(mono):
        mono = librosa.resample(mono, orig_sr=rate, target_sr=SR)
    return np.asarray(mono, dtype=np.float32), seconds


def _load_with_ffmpeg(*, path: Path) -> np.ndarray:
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="momentloop-music-") as tmp:
        wav = Path(tmp) / "mono.wav"
        try:
            run_ffmpeg(["-y", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(SR),
                        "-c:a", "pcm_f32le", str(wav)], what="decoding music for analysis", timeout=300)
        except FFmpegError as exc:
            raise MusicError(f"{path.name}: cannot decode audio ({exc})") from None
        data, _ = sf.read(str(wav), dtype="float32")
    return np.asarray(data, dtype=np.float32)


# ---------------------------------------------------------------- tempo and beats

def _onset_envelope(mel_db: np.ndarray) -> np.ndarray:
    import librosa

    raw = librosa.onset.onset_strength(S=mel_db, sr=SR, hop_length=HOP, center=False)
    return np.concatenate([np.zeros(ONSET_DELAY_FRAMES), raw])[: mel_db.shape[1]]


def _frames_to_time(frames: np.ndarray) -> np.ndarray:
    return np.asarray(frames, dtype=float) * HOP / SR


def _estimate_tempo(*, onset: np.ndarray) -> float | None:
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


def _track_beats(*, onset: np.ndarray, duration: float) -> tuple[float, list[float]] | None:
    """(tempo, beat times) or None when the onsets show no beat."""
    import librosa

    if len(onset) < 8 or float(onset.std()) <= 1e-6:
        return None
    tempo = _estimate_tempo(onset=onset)
    if tempo is None:
        return None
    _, frames = librosa.beat.beat_track(onset_envelope=onset, sr=SR, hop_length=HOP, bpm=tempo,
                                        units="frames", trim=True)
    beats = _frames_to_time(np.asarray(frames))
    if len(beats) < 2:
        return None
    clarity = float(_values_at(onset, times=beats.tolist(), radius=1).mean() / (onset.mean() + 1e-12))
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


def _steady_grid(*, tempo: float, start: float, duration: float) -> list[float]:
    period = 60.0 / tempo
    count = max(1, math.ceil((duration - start) / period - 1e-9))
    return [start + i * period for i in range(count)]


def _values_at(curve: np.ndarray, *, times: list[float], radius: int = 2) -> np.ndarray:
    """The curve's maximum within `radius` frames of each time: beats sit within a frame of their onset."""
    frames = np.clip(np.round(np.asarray(times) * SR / HOP).astype(int), 0, len(curve) - 1)
    return np.array([curve[max(0, f - radius): f + radius + 1].max() for f in frames])


def _downbeat_phase(*, beats: list[float], low_onset: np.ndarray, onset: np.ndarray, chroma: np.ndarray) -> int:
    """Which beat of each 4/4 bar is the one (0..3).

    librosa has no downbeat tracker. In most popular music the bar starts where the bass drum and the
    bass land hardest and where the chords change, so each of the four phases is scored by the mean
    low-frequency (< 200 Hz) onset strength of its beats plus the chord change (chroma distance between
    the beat before and after) at them, and the best phase wins. Near-ties go to the earliest phase,
    so a track with four identical beats per bar starts its bars on its first beat."""
    if len(beats) < 2:
        return 0
    low = _values_at(low_onset, times=beats) / (float(low_onset.max()) + 1e-9)
    full = _values_at(onset, times=beats) / (float(onset.max()) + 1e-9)
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


def _beat_strength(*, beats: list[float], onset: np.ndarray) -> list[float]:
    if not beats:
        return []
    values = _values_at(onset, times=beats)
    top = float(values.max())
    if top <= 1e-9:
        return [0.0] * len(beats)
    return [round(float(v), 4) for v in np.clip(values / top, 0.0, 1.0)]


# ---------------------------------------------------------------- energy and sections

def _rms_db(*, spec: np.ndarray, gain: float) -> np.ndarray:
    """Per-frame RMS level (dBFS) from the power spectrogram (Parseval), times `gain`.

    The spectrogram is already there; framing the waveform again would copy it N_FFT/HOP = 4 times."""
    window_power = float(np.sum(np.hanning(N_FFT + 1)[:-1] ** 2))
    power = (2 * spec.sum(axis=0) - spec[0] - spec[-1]) / (N_FFT * window_power)
    return 10 * np.log10(np.maximum(power * gain**2, 1e-20))


def _smooth(x: np.ndarray, *, seconds: float) -> np.ndarray:
    width = max(1, round(seconds * SR / HOP))
    if width <= 1 or len(x) < 2:
        return x.astype(float)
    kernel = np.hanning(width + 2)[1:-1]
    padded = np.pad(x.astype(float), (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def _energy(*, smooth_db: np.ndarray, silent_track: bool) -> np.ndarray:
    """0..1 per frame: 1 at the track's loud parts, 0 at ENERGY_RANGE_DB below them (or in silence)."""
    if silent_track or len(smooth_db) == 0:
        return np.zeros(len(smooth_db))
    top = max(float(np.percentile(smooth_db, 95)), QUIETEST_TOP_DBFS)
    return np.clip(1.0 - (top - smooth_db) / ENERGY_RANGE_DB, 0.0, 1.0)


def _sample_every(curve: np.ndarray, *, hop_s: float, duration: float) -> list[float]:
    count = max(1, math.ceil(duration / hop_s - 1e-9))
    times = (np.arange(count) + 0.5) * hop_s
    frame_times = _frames_to_time(np.arange(len(curve)))
    values = np.interp(np.minimum(times, duration), frame_times, curve) if len(curve) else np.zeros(count)
    return [round(float(v), 4) for v in values]


@dataclass
class _Run:
    """A stretch of one loudness class while sections are being worked out."""

    start: float
    end: float
    loud: bool

    @property
    def length(self) -> float:
        return self.end - self.start


def _sections(
    *,
    smooth_db: np.ndarray,
    energy: np.ndarray,
    duration: float,
    downbeats: list[float],
    bar: float,
    silent_track: bool,
) -> list[Section]:
    """Calm and energetic stretches covering [0, duration], each at least two bars, on downbeats."""
    if silent_track or len(smooth_db) == 0:
        return [Section(start=0.0, end=duration, kind="calm", energy=0.0)]
    level = _energy(smooth_db=smooth_db, silent_track=False)
    whole = Section(
        start=0.0,
        end=duration,
        # One dynamic all through: how loud it is mastered is then the best hint of its character.
        kind="energetic" if float(np.percentile(smooth_db, 95)) >= ENERGETIC_TRACK_DBFS else "calm",
        energy=round(float(np.clip(energy.mean(), 0, 1)), 4),
    )
    threshold = _split_level(level)
    if threshold is None:
        return [whole]
    loud = level >= threshold
    times = _frames_to_time(np.arange(len(level)))
    edges = np.flatnonzero(np.diff(loud.astype(int))) + 1
    bounds = [0.0, *times[edges].tolist(), duration]
    runs = [_Run(a, b, bool(loud[s])) for a, b, s in zip(bounds[:-1], bounds[1:], [0, *edges.tolist()], strict=True)]
    # Snap first: a calm intro measured at 1.9 bars is a 2-bar intro once its end sits on the downbeat.
    runs = _merge_short(_snap(runs, downbeats=downbeats, bar=bar), min_len=(MIN_SECTION_BARS - 0.1) * bar)
    if len(runs) == 1:
        return [whole]
    frame_times = _frames_to_time(np.arange(len(energy)))
    sections = []
    for run in runs:
        inside = energy[(frame_times >= run.start) & (frame_times < run.end)]
        mean = float(inside.mean()) if len(inside) else float(energy.mean())
        sections.append(Section(start=round(run.start, 4), end=round(run.end, 4),
                                kind="energetic" if run.loud else "calm", energy=round(min(1.0, max(0.0, mean)), 4)))
    return sections


def _split_level(level: np.ndarray) -> float | None:
    """The level that best separates quiet from loud frames (Otsu's method), or None when the two groups
    differ by less than MIN_CONTRAST_DB: then the track has one dynamic throughout.

    Otsu rather than percentiles, so that a calm intro that is 3% of a long song is still found."""
    hist, edges = np.histogram(level, bins=64, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)[:-1].astype(float)
    w1 = float(hist.sum()) - w0
    m0 = np.cumsum(hist * centres)[:-1]
    valid = (w0 > 0) & (w1 > 0)
    if not valid.any():
        return None
    mu0 = np.where(valid, m0 / np.maximum(w0, 1), 0.0)
    mu1 = np.where(valid, (float((hist * centres).sum()) - m0) / np.maximum(w1, 1), 0.0)
    between = np.where(valid, w0 * w1 * (mu1 - mu0) ** 2, -1.0)
    k = int(np.argmax(between))
    if (mu1[k] - mu0[k]) * ENERGY_RANGE_DB < MIN_CONTRAST_DB:
        return None
    return float(edges[k + 1])


def _merge_short(runs: list[_Run], *, min_len: float) -> list[_Run]:
    """Fold runs shorter than `min_len` into a neighbour (the shortest first), then join equal labels."""
    while len(runs) > 1:
        i = min(range(len(runs)), key=lambda k: runs[k].length)
        if runs[i].length >= min_len:
            break
        # Into the longer neighbour: a blip inside a long stretch takes that stretch's label.
        left = runs[i - 1].length if i > 0 else -1.0
        right = runs[i + 1].length if i + 1 < len(runs) else -1.0
        j = i - 1 if left >= right else i + 1
        lo, hi = min(i, j), max(i, j)
        runs = _join([*runs[:lo], _Run(runs[lo].start, runs[hi].end, runs[j].loud), *runs[hi + 1:]])
    return runs


def _join(runs: list[_Run]) -> list[_Run]:
    out: list[_Run] = []
    for r in runs:
        if out and out[-1].loud == r.loud:
            out[-1] = _Run(out[-1].start, r.end, r.loud)
        else:
            out.append(r)
    return out


def _snap(runs: list[_Run], *, downbeats: list[float], bar: float) -> list[_Run]:
    """Move inner boundaries to the nearest downbeat within a bar; drop runs that vanish."""
    if not downbeats:
        return runs
    down = np.asarray(downbeats)
    runs = [_Run(r.start, r.end, r.loud) for r in runs]
    for k in range(1, len(runs)):
        b = runs[k].start
        nearest = float(down[int(np.argmin(np.abs(down - b)))])
        if abs(nearest - b) <= bar and runs[k - 1].start < nearest < runs[k].end:
            runs[k - 1].end = runs[k].start = nearest
    return _join([r for r in runs if r.length > 1e-6])
