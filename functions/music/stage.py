"""The music stage: the user's file made ready for the edit, or a track generated for the video."""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict

from functions.music.providers import GeneratedMusic, get_provider
from functions.music.user_track import convert_user_track
from shared.hashing import content_key
from shared.models.media import MusicRequest, MusicTrack
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

# Bump when the synth or the conversion changes what is written: it is part of every track's key.
MUSIC_VERSION = "1"


class _UserSource(BaseModel):
    """What a converted user file depends on: only the file (its key is a content hash) and our code."""

    model_config = ConfigDict(frozen=True)
    user_key: str


def track_key(request: MusicRequest) -> str:
    if request.user_key:
        basis: BaseModel = _UserSource(user_key=request.user_key)
    else:
        basis = request.model_copy(update={"user_name": None})
    return f"music/{content_key(stage='music', version=MUSIC_VERSION, request=basis)}/track.wav"


def run_music(*, request: MusicRequest, store: ArtifactStore, report: Reporter = silent) -> MusicTrack:
    """A 48 kHz stereo WAV in the store: the user's file converted, or a generated track with its grid.

    Raises MusicError (one line) for a user file that has no sound, cannot be decoded or is under 2 s."""
    key = track_key(request)
    if request.user_key:
        return _user_track(request=request, key=key, store=store, report=report)
    return _generated_track(request=request, key=key, store=store, report=report)


def _user_track(*, request: MusicRequest, key: str, store: ArtifactStore, report: Reporter) -> MusicTrack:
    import soundfile as sf

    assert request.user_key is not None
    name = request.user_name or PurePosixPath(request.user_key).name
    if store.exists(key):
        with store.local_path(key) as path:
            seconds = sf.info(str(path)).duration
        report(percent=100, message=f"{name}: already converted")
    else:
        report(percent=0, message=f"{name}: checking and converting")
        with store.local_path(request.user_key) as src, store.write_path(key) as dst:
            seconds = convert_user_track(src=src, dst=dst, name=name)
        report(percent=100, message=f"{name}: {seconds:.1f} s")
    if seconds < request.duration:
        log.info("%s is %.1f s, shorter than the %.1f s asked for", name, seconds, request.duration)
    return MusicTrack(audio_key=key, name=name, origin="user", duration=seconds)


def _generated_track(*, request: MusicRequest, key: str, store: ArtifactStore, report: Reporter) -> MusicTrack:
    provider = get_provider(request.provider)
    made: GeneratedMusic | None = None
    if store.exists(key):
        made = provider.plan(duration=request.duration, seed=request.seed, mood=request.mood)
        if made is None:
            # A paid generator's song is never made twice: the file is reused and only measured.
            import soundfile as sf

            with store.local_path(key) as path:
                made = GeneratedMusic(name="generated song", duration=sf.info(str(path)).duration,
                                      provider=provider.name)
        report(percent=100, message=f"{made.name}: already generated")
    if made is None:
        report(percent=0, message=f"generating {request.duration:.1f} s of {request.mood} music")
        with store.write_path(key) as dst:
            made = provider.generate(duration=request.duration, seed=request.seed, mood=request.mood, path=dst)
        report(percent=100, message=f"{made.name}: {made.duration:.1f} s")
    return made.as_track(audio_key=key)
