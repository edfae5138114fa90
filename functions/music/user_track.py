"""The user's own soundtrack: any file ffmpeg reads, checked and converted once to 48 kHz stereo WAV."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from shared.errors import FFmpegError, InputError, MusicError
from shared.media.ffmpeg import run_ffmpeg
from shared.media.probe import MediaProbe, probe

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
MIN_SECONDS = 2.0
SILENT_DBFS = -60.0  # a track whose loudest sample is below this is silence (or a muted phone video)
SONG_HINT = "give an MP3, WAV, M4A, OGG/WebM or a video with a sound track, at least 2 s long"
_MAX_VOLUME = re.compile(r"max_volume:\s*(-?inf|-?[0-9.]+) dB")


def conversion_args(*, src: Path, dst: Path, channels: int | None) -> list[str]:
    """ffmpeg arguments: the first audio stream as stereo 48 kHz 16-bit PCM WAV.

    Mono is copied to both sides at full level (ffmpeg's own upmix pans it 3 dB down); more channels
    are downmixed by ffmpeg. `volumedetect` rides along so the same decode also says whether there is
    any sound at all."""
    filters = "volumedetect,pan=stereo|c0=c0|c1=c0" if channels == 1 else "volumedetect"
    return [
        "-y", "-i", str(src),
        "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-af", filters,
        "-ac", "2", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le",
        "-f", "wav", str(dst),
    ]


def max_volume_db(stderr: str) -> float | None:
    """The loudest sample (dBFS) that volumedetect reported, or None when it reported none."""
    found = _MAX_VOLUME.findall(stderr)
    if not found:
        return None
    return float(found[-1])


def check_song(*, path: Path, name: str) -> MediaProbe:
    """What `path` says of itself, when it can be a soundtrack: readable, with an audio stream, not shorter
    than MIN_SECONDS when it tells its length (a recording without one is measured once converted).
    Raises MusicError with one line otherwise: the same answer whether a song is uploaded or converted."""
    try:
        info = probe(path)
    except InputError:
        raise MusicError(f"{name}: not a readable audio or video file", hint=SONG_HINT) from None
    if not info.has_audio:
        raise MusicError(f"{name}: has no audio stream", hint=SONG_HINT)
    if 0 < info.duration < MIN_SECONDS - 0.05:
        raise MusicError(f"{name}: only {info.duration:.1f} s long; a soundtrack needs at least "
                         f"{MIN_SECONDS:.0f} s", hint=SONG_HINT)
    return info


def convert_user_track(*, src: Path, dst: Path, name: str) -> float:
    """Convert `src` into `dst`; return its length in seconds. Refuse, with one line, what cannot be music."""
    import soundfile as sf

    info = check_song(path=src, name=name)
    try:
        args = conversion_args(src=src, dst=dst, channels=info.channels)
        stderr = run_ffmpeg(args, what=f"converting {name}", timeout=600)
    except FFmpegError as exc:
        raise MusicError(f"{name}: its audio cannot be decoded ({exc})", hint=SONG_HINT) from None
    try:
        out = sf.info(str(dst))
    except (sf.LibsndfileError, RuntimeError):
        raise MusicError(f"{name}: decoding produced no audio", hint=SONG_HINT) from None
    seconds = out.frames / out.samplerate if out.samplerate else 0.0
    if seconds < MIN_SECONDS:
        raise MusicError(f"{name}: only {seconds:.1f} s of audio; a soundtrack needs at least "
                         f"{MIN_SECONDS:.0f} s", hint=SONG_HINT)
    peak = max_volume_db(stderr)
    if peak is None or peak <= SILENT_DBFS:
        level = "no level measured" if peak is None else f"loudest sample {peak:.0f} dBFS"
        raise MusicError(f"{name}: its audio is silent ({level})", hint=SONG_HINT)
    log.info("%s: %.1f s of audio, peak %.1f dBFS, converted to %d Hz stereo", name, seconds, peak, SAMPLE_RATE)
    return seconds
