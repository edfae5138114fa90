"""How one scene gives way to the next: a hard cut or a crossfade, chosen from the music at the cut."""

from __future__ import annotations

from functions.plan.beatgrid import BeatWindow
from shared.models.media import MusicInfo
from shared.models.plan import Transition


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
    return Transition.crossfade, crossfade_seconds(beat_period=window.beat_period, before=before, after=after)


def crossfade_seconds(*, beat_period: float, before: float, after: float) -> float:
    """How long a crossfade between scenes of `before` and `after` seconds lasts, whoever chose it (a planner,
    a model, a storyboard edit): at most a beat, at most 1 s, at most 40% of either neighbour."""
    return round(min(beat_period, 1.0, 0.4 * min(before, after)), 4)
