"""The analyze stage's entries: a photo -> PhotoInfo (decoded once, stored upright in sRGB, measured for
what the planner needs), a track -> MusicInfo (beat grid, energy, sections). What is measured lives
beside this file: photos.py and subject.py for photos, audio.py, beats.py and sections.py for music."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from functions.analyze.audio import HOP, N_FFT, SR, load_mono, onset_envelope, rms_db, sample_every, smooth
from functions.analyze.beats import DEFAULT_TEMPO, beat_strength, downbeat_phase, steady_grid, track_beats
from functions.analyze.kernels import FIRST_RUN_MESSAGE, kernels_cached
from functions.analyze.photos import perceptual_hash, sharpness
from functions.analyze.sections import energy_curve, find_sections
from functions.analyze.subject import detect_faces, find_subject
from functions.music.user_track import SILENT_DBFS
from shared.errors import MusicError
from shared.hashing import content_key
from shared.media.photos import decode_photo
from shared.models.media import AnalyzeMusicRequest, AnalyzePhotoRequest, MusicInfo, PhotoInfo
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

ANALYZE_VERSION = "2"
"""Bump when decoding or analysis changes what is stored or measured: it is part of every output key."""
MUSIC_ANALYSIS_VERSION = "1"

JPEG_QUALITY = 95
ENERGY_HOP = 0.1


def analyze_photo(*, request: AnalyzePhotoRequest, store: ArtifactStore, report: Reporter = silent) -> PhotoInfo:
    """Decode, store and measure one photo. Raises PhotoError (named after the user's file) for a photo
    that cannot be used."""
    name = request.source.name
    report(percent=0, message=f"decoding {name}")
    with store.local_path(request.source.key) as path:
        photo = decode_photo(path=path, max_pixels=request.max_pixels, max_side=request.max_side, name=name)
    rgb = photo.rgb

    image_key = f"analyze/{content_key(stage='analyze', version=ANALYZE_VERSION, request=request)}/photo.jpg"
    if not store.exists(image_key):
        with store.write_path(image_key) as tmp:
            # 4:4:4 chroma: this copy is the master every later stage restyles and moves over.
            Image.fromarray(rgb).save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    report(percent=40, message=f"finding faces in {name}")

    faces = detect_faces(rgb=rgb)
    subject, kind = find_subject(rgb=rgb, faces=faces)
    report(percent=80, message=f"measuring {name}")
    info = PhotoInfo(
        source=request.source,
        image_key=image_key,
        width=photo.width,
        height=photo.height,
        captured_at=photo.captured_at,
        faces=faces,
        subject=subject,
        subject_kind=kind,
        sharpness=sharpness(rgb=rgb),
        phash=perceptual_hash(rgb=rgb),
    )
    log.debug("analysed %s: %dx%d, %d face(s), subject %s", name, info.width, info.height, len(faces), kind)
    report(percent=100, message=f"analysed {name}")
    return info


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
        y, duration = load_mono(path=path)
    if len(y) == 0:
        raise MusicError(f"{track.name}: no audio samples")
    peak = float(np.abs(y).max())
    silent_track = peak <= 10 ** (SILENT_DBFS / 20)

    report(percent=20, message=step("measuring onsets and energy"))
    import librosa

    # Beats are found on a peak-normalised copy, so a quietly mastered track is tracked like a loud one;
    # energy is measured on the samples as they are.
    y_norm = y / peak if peak > 0 else y
    spec = np.abs(librosa.stft(y_norm, n_fft=N_FFT, hop_length=HOP))
    np.square(spec, out=spec)
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=spec, sr=SR, n_mels=96), ref=1.0)
    onset = onset_envelope(mel_db)
    levels_db = rms_db(spec=spec, gain=peak)

    report(percent=50, message=step("tracking beats"))
    if exact:
        # The generator knows its grid exactly; tracking could only blur it.
        tempo, beats, downbeats = float(track.tempo or 0), list(track.beats or []), list(track.downbeats or [])
    else:
        grid = None if silent_track else track_beats(onset=onset, duration=duration)
        if grid is None:
            log.info("%s: no beat found (%s); using a steady %.0f BPM grid", track.name,
                     "silent" if silent_track else "no regular onsets", DEFAULT_TEMPO)
            tempo, beats = DEFAULT_TEMPO, steady_grid(tempo=DEFAULT_TEMPO, start=0.0, duration=duration)
            downbeats = beats[::4]
        else:
            tempo, beats = grid
            low_bands = int(np.searchsorted(librosa.mel_frequencies(n_mels=96, fmax=SR / 2), 200.0))
            phase = downbeat_phase(
                beats=beats,
                low_onset=onset_envelope(mel_db[: max(2, low_bands)]),
                onset=onset,
                chroma=librosa.feature.chroma_stft(S=spec, sr=SR, hop_length=HOP, tuning=0.0),
            )
            downbeats = beats[phase::4]

    report(percent=80, message=step("energy and sections"))
    strength = beat_strength(beats=beats, onset=onset)
    smooth_db = smooth(levels_db, seconds=0.4)
    curve = energy_curve(smooth_db=smooth_db, silent_track=silent_track)
    energy = sample_every(curve, hop_s=ENERGY_HOP, duration=duration)
    sections = find_sections(
        smooth_db=smooth(levels_db, seconds=2.0),
        energy=curve,
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
