"""How one scene gives way to the next: a hard cut or a crossfade, chosen from the music at the cut."""

from __future__ import annotations

from functions.plan.beatgrid import BeatWindow
from shared.models import MusicInfo, Transition


def transition_at(
    *, boundary: float, music: MusicInfo, window: BeatWindow, before: float, after: float
) -> tuple[Transition, float]:
    """A hard cut on a strong beat or in energetic music; a crossfade, at most a beat long, in calm parts."""
    track_time = boundary + window.offset
    section = next((s for s in music.sections if s.start <= track_time < s.end), None)
    calm = section.kind == "calm" if section else music.energy_at(track_time) < 0.5
    idx = min(range(len(window.beats)), key=lambda i: abs(window.beats[i] - boundary))
    strong = boundary in set(window.downbeats) and window.strengths[idx] >= 0.85
    if not calm or strong:
        return Transition.cut, 0.0
    seconds = min(window.beat_period, 1.0, 0.4 * min(before, after))
    return Transition.crossfade, round(seconds, 4)
