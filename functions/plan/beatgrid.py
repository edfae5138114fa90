"""The music window a video uses, and its beat grid on the video timeline."""

from __future__ import annotations

import logging

from pydantic import BaseModel

from shared.models.media import MusicInfo

log = logging.getLogger(__name__)

_EPS = 1e-6


class BeatWindow(BaseModel):
    """Which part of the track plays, and where its beats fall on the video timeline (0..duration)."""

    offset: float
    duration: float
    beat_period: float
    beats: list[float]
    downbeats: list[float]
    strengths: list[float]


def beats_in(*, window: BeatWindow, start: float, end: float) -> int:
    """A scene's length in beats: the beats of `window` after `start`, up to and with `end`; at least one."""
    return max(1, sum(1 for b in window.beats if start + _EPS < b <= end + _EPS))


def choose_window(*, music: MusicInfo, duration: float) -> BeatWindow:
    """Pick the track offset so that the video's last frame lands on a downbeat.

    The track starts `offset` seconds in, where `offset = d - duration` for the first downbeat `d` at or
    after `duration`: the video ends exactly on that downbeat, and nothing is cut from the track's start
    that need not be. A track shorter than the video shortens the video to its last downbeat."""
    period = 60.0 / music.tempo
    downs = [d for d in music.downbeats if d <= music.duration + _EPS]
    if music.duration + _EPS < duration:
        usable = [d for d in downs if d > 1.0]
        new = usable[-1] if usable else music.duration
        log.warning("music is %.1f s, shorter than %.1f s: the video is cut to %.1f s", music.duration,
                    duration, new)
        duration = new
    ends = [d for d in downs if d >= duration - _EPS]
    offset = max(0.0, ends[0] - duration) if ends else 0.0
    beats: list[float] = []
    beat_strengths: list[float] = []
    for b, strength in zip(music.beats, music.beat_strength, strict=False):
        if _EPS < b - offset <= duration + _EPS:
            beats.append(round(b - offset, 6))
            beat_strengths.append(strength)
    downbeats = [round(d - offset, 6) for d in downs if _EPS < d - offset <= duration + _EPS]
    return BeatWindow(
        offset=round(offset, 6),
        duration=duration,
        beat_period=period,
        beats=beats,
        downbeats=downbeats,
        strengths=beat_strengths,
    )
