"""What the web app does with uploaded files: tell photos from songs, check they can be used, and make
the small pictures and waveforms the UI shows. Everything is stored by content, so doing it twice costs
a lookup."""

from __future__ import annotations

import itertools
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from functions.music.user_track import SONG_HINT, check_song
from shared.errors import InputError, MomentLoopError, MusicError, PhotoError
from shared.models.media import MusicTrack
from shared.projects import Waveform
from shared.settings import Settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

THUMB_SIDE = 384
PREVIEW_SIDE = 512
WAVEFORM_PEAKS = 800

PHOTO_HINT = "give a JPEG, PNG, HEIC, WebP or AVIF photo"

_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif",
                           b"avis", b"mif2", b"MiHE"})


class UnsupportedMediaError(InputError):
    """The file is neither a photo nor a song (HTTP 415)."""


class UndecodableError(InputError):
    """The file looks like a photo or a song but cannot be used (HTTP 422)."""


def sniff(head: bytes) -> Literal["photo", "music"] | None:
    """What the first bytes of a file say it is; None for anything else (a PDF, a text file, ...)."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")):
        return "photo"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "photo"
    if head[4:8] == b"ftyp":
        brands = {head[8:12]} | {head[i:i + 4] for i in range(16, min(len(head), 64) - 3, 4)}
        return "photo" if head[8:12] in _IMAGE_BRANDS or (brands & _IMAGE_BRANDS and head[8:12] != b"isom") \
            else "music"
    if head.startswith((b"ID3", b"OggS", b"fLaC", b"\x1aE\xdf\xa3", b"#!AMR", b"\x30\x26\xb2\x75")):
        return "music"
    if head[:4] == b"RIFF" and head[8:12] in (b"WAVE", b"AVI "):
        return "music"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "music"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "music"  # an MPEG audio or ADTS frame header
    return None


@dataclass(frozen=True)
class CheckedUpload:
    kind: Literal["photo", "music"]
    key: str
    thumb_key: str | None
    preview_key: str | None
    width: int | None
    height: int | None
    duration: float | None


def _suffix(name: str, kind: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix and len(suffix) <= 6 and suffix[1:].isalnum():
        return suffix
    return ".jpg" if kind == "photo" else ".audio"


def check_upload(*, path: Path, name: str, size: int, digest: str, store: ArtifactStore,
                 settings: Settings) -> CheckedUpload:
    """Decide what the received file at `path` is, check it can be used, and put it in the store.

    Raises UnsupportedMediaError (not a photo or a song) or UndecodableError (one line saying why)."""
    if size == 0:
        raise UndecodableError(f"{name}: empty file (0 bytes)", hint=PHOTO_HINT)
    with path.open("rb") as f:
        head = f.read(64)
    kind = sniff(head)
    if kind is None:
        raise UnsupportedMediaError(f"{name}: not a photo or a song", hint=f"{PHOTO_HINT}, or a song")
    key = f"inputs/{digest}{_suffix(name, kind)}"
    if kind == "photo":
        return _check_photo(path=path, name=name, key=key, digest=digest, store=store, settings=settings)
    return _check_song(path=path, name=name, key=key, store=store)


def _check_photo(*, path: Path, name: str, key: str, digest: str, store: ArtifactStore,
                 settings: Settings) -> CheckedUpload:
    from shared.media.photos import decode_photo

    try:
        photo = decode_photo(path=path, max_pixels=settings.max_pixels, max_side=PREVIEW_SIDE, name=name)
    except PhotoError as err:
        raise UndecodableError(str(err), hint=err.hint or PHOTO_HINT) from None
    preview_key = f"uploads/{digest}/preview.jpg"
    thumb_key = f"uploads/{digest}/thumb.jpg"
    image = Image.fromarray(photo.rgb)
    if not store.exists(preview_key):
        with store.write_path(preview_key) as tmp:
            image.save(tmp, format="JPEG", quality=92)
    if not store.exists(thumb_key):
        thumb = image.copy()
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
        with store.write_path(thumb_key) as tmp:
            thumb.save(tmp, format="JPEG", quality=85)
    if not store.exists(key):
        store.put_file(key, path)
    return CheckedUpload(kind="photo", key=key, thumb_key=thumb_key, preview_key=preview_key,
                         width=photo.original_width, height=photo.original_height, duration=None)


def _check_song(*, path: Path, name: str, key: str, store: ArtifactStore) -> CheckedUpload:
    try:
        info = check_song(path=path, name=name)
    except MusicError as err:
        raise UndecodableError(str(err), hint=err.hint) from None
    if not store.exists(key):
        store.put_file(key, path)
    return CheckedUpload(kind="music", key=key, thumb_key=None, preview_key=None, width=None, height=None,
                         duration=round(info.duration, 3))


# ---------------------------------------------------------------- waveforms


def peaks_of(samples: np.ndarray, *, count: int = WAVEFORM_PEAKS) -> list[float]:
    """The loudest |sample| of each of `count` equal slices, scaled so the loudest slice is 1."""
    if samples.size == 0:
        return [0.0] * count
    edges = np.linspace(0, samples.size, count + 1).astype(np.int64)
    mags = np.abs(samples)
    peaks = np.array([mags[a:b].max() if b > a else 0.0 for a, b in itertools.pairwise(edges)])
    top = float(peaks.max())
    return [round(float(p) / top, 4) if top > 0 else 0.0 for p in peaks]


def song_waveform(*, store: ArtifactStore, key: str, scratch: Path) -> Waveform:
    """The whole song's waveform (decoded once with ffmpeg, then kept beside the upload)."""
    wave_key = f"uploads/{Path(key).stem}/waveform.json"
    if store.exists(wave_key):
        return Waveform.model_validate_json(store.get_bytes(wave_key))
    from shared.media.ffmpeg import run_ffmpeg

    scratch.mkdir(parents=True, exist_ok=True)
    with store.local_path(key) as src, tempfile.TemporaryDirectory(dir=scratch) as tmp:
        raw = Path(tmp) / "mono.f32"
        try:
            run_ffmpeg(["-i", str(src), "-vn", "-ac", "1", "-ar", "8000", "-f", "f32le", "-y", str(raw)],
                       what="decoding the song", timeout=300)
        except MomentLoopError as exc:
            raise UndecodableError(f"the song cannot be decoded ({exc})", hint=SONG_HINT) from None
        samples = np.fromfile(raw, dtype="<f4")
    wave = Waveform(duration=round(samples.size / 8000, 3), peaks=peaks_of(samples))
    store.put_bytes(wave_key, wave.model_dump_json().encode())
    return wave


def window_waveform(*, store: ArtifactStore, track: MusicTrack, offset: float, duration: float) -> Waveform:
    """The soundtrack as heard in the video: `duration` seconds from `offset` of the converted track."""
    import soundfile as sf

    with store.local_path(track.audio_key) as path:
        info = sf.info(str(path))
        start = round(offset * info.samplerate)
        stop = min(info.frames, start + round(duration * info.samplerate))
        data, _ = sf.read(str(path), start=start, stop=max(start, stop), dtype="float32", always_2d=True)
    return Waveform(duration=round(duration, 6), peaks=peaks_of(data.mean(axis=1)))
