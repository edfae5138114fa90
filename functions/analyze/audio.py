"""The track as music analysis sees it: mono samples at SR, their spectrogram in frames of HOP samples,
and the curves measured on those frames (onset strength, loudness)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from shared.errors import FFmpegError, MusicError
from shared.media.ffmpeg import run_ffmpeg

SR = 22_050
HOP = 256  # 11.6 ms frames: beat times are quantised to this
N_FFT = 1024  # 46 ms: sharp enough in time for beats, fine enough in frequency for bass
# The onset envelope marks a frame by the change into it; with a 46 ms window that change peaks about a
# frame before the sound is heard. One frame of delay puts tracked beats within ~5 ms of the 808 loop's
# kicks and of the madmom sample's hand annotations (librosa's default shift of half a window puts
# them 15-30 ms late).
ONSET_DELAY_FRAMES = 1


def load_mono(*, path: Path) -> tuple[np.ndarray, float]:
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


def onset_envelope(mel_db: np.ndarray) -> np.ndarray:
    import librosa

    raw = librosa.onset.onset_strength(S=mel_db, sr=SR, hop_length=HOP, center=False)
    return np.concatenate([np.zeros(ONSET_DELAY_FRAMES), raw])[: mel_db.shape[1]]


def frames_to_time(frames: np.ndarray) -> np.ndarray:
    return np.asarray(frames, dtype=float) * HOP / SR


def values_at(curve: np.ndarray, *, times: list[float], radius: int = 2) -> np.ndarray:
    """The curve's maximum within `radius` frames of each time: beats sit within a frame of their onset."""
    frames = np.clip(np.round(np.asarray(times) * SR / HOP).astype(int), 0, len(curve) - 1)
    return np.array([curve[max(0, f - radius): f + radius + 1].max() for f in frames])


def rms_db(*, spec: np.ndarray, gain: float) -> np.ndarray:
    """Per-frame RMS level (dBFS) from the power spectrogram (Parseval), times `gain`.

    The spectrogram is already there; framing the waveform again would copy it N_FFT/HOP = 4 times."""
    window_power = float(np.sum(np.hanning(N_FFT + 1)[:-1] ** 2))
    power = (2 * spec.sum(axis=0) - spec[0] - spec[-1]) / (N_FFT * window_power)
    return 10 * np.log10(np.maximum(power * gain**2, 1e-20))


def smooth(x: np.ndarray, *, seconds: float) -> np.ndarray:
    width = max(1, round(seconds * SR / HOP))
    if width <= 1 or len(x) < 2:
        return x.astype(float)
    kernel = np.hanning(width + 2)[1:-1]
    padded = np.pad(x.astype(float), (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def sample_every(curve: np.ndarray, *, hop_s: float, duration: float) -> list[float]:
    count = max(1, math.ceil(duration / hop_s - 1e-9))
    times = (np.arange(count) + 0.5) * hop_s
    frame_times = frames_to_time(np.arange(len(curve)))
    values = np.interp(np.minimum(times, duration), frame_times, curve) if len(curve) else np.zeros(count)
    return [round(float(v), 4) for v in values]
