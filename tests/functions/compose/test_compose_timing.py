"""Clip windows: frame-exact scene boundaries on the beat, crossfade overlaps, and the total length."""

from __future__ import annotations

import pytest

from functions.compose import clip_windows
from shared.errors import StageError
from shared.models.base import OutputSpec
from shared.models.plan import Transition
from tests.functions.compose.compose_inputs import make_plan

C, X = Transition.cut, Transition.crossfade


def chained_frames(windows: list) -> int:
    """Frames of the chain the compose graph builds: every clip, minus each crossfade's shared frames."""
    return sum(w.frames for w in windows) - sum(2 * w.lead_in_frames for w in windows)


def test_windows_put_every_boundary_on_its_beat_frame_and_sum_to_the_output() -> None:
    out = OutputSpec(aspect="1:1", width=360, height=360, fps=30, duration=7.0)
    plan = make_plan(
        output=out, tempo=120, music_offset=0, fade_out=1,
        scenes=[(0, 1.5, C, 0), (1.5, 3.0, C, 0), (3.0, 4.0, X, 0.5), (4.0, 5.5, C, 0), (5.5, 7.0, X, 0.4)],
    )
    w = clip_windows(plan=plan)
    assert [x.scene_start_frame for x in w] == [0, 45, 90, 120, 165]
    assert w[-1].scene_end_frame == out.total_frames == 210
    # 0.5 s crossfade at 30 fps: round(7.5) = 8 frames each side; 0.4 s: 6.
    assert [x.lead_in_frames for x in w] == [0, 0, 8, 0, 6]
    assert [x.lead_out_frames for x in w] == [0, 8, 0, 6, 0]
    assert [(x.start_frame, x.frames) for x in w] == [(0, 45), (45, 53), (82, 38), (120, 51), (159, 51)]
    assert w[2].lead_in == pytest.approx(8 / 30) and w[1].lead_out == pytest.approx(8 / 30)
    assert chained_frames(w) == out.total_frames


def test_off_grid_scene_starts_round_to_the_nearest_frame() -> None:
    out = OutputSpec(aspect="16:9", width=320, height=180, fps=24, duration=3.0)
    plan = make_plan(output=out, tempo=97, music_offset=0, fade_out=0.5,
                     scenes=[(0, 0.6186, C, 0), (0.6186, 1.8557, X, 0.3), (1.8557, 3.0, C, 0)])
    w = clip_windows(plan=plan)
    assert [x.scene_start_frame for x in w] == [0, round(0.6186 * 24), round(1.8557 * 24)]
    assert chained_frames(w) == 72


def test_a_crossfade_never_takes_more_than_half_of_a_neighbouring_scene() -> None:
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=30, duration=2.0)
    # Scene 1 lasts 0.2 s (6 frames): a 1 s crossfade into it can blend only 3 frames each side.
    plan = make_plan(output=out, tempo=120, music_offset=0, fade_out=0.5,
                     scenes=[(0, 1.0, X, 1.0), (1.0, 1.2, X, 1.0), (1.2, 2.0, C, 0)])
    w = clip_windows(plan=plan)
    assert w[0].lead_in_frames == 0  # nothing before the first scene to blend with
    assert w[1].lead_in_frames == 3
    assert chained_frames(w) == 60
    assert all(x.frames >= 1 for x in w)


def test_scenes_that_collapse_onto_one_frame_are_refused() -> None:
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=12, duration=2.0)
    plan = make_plan(output=out, tempo=120, music_offset=0, fade_out=0.5,
                     scenes=[(0, 1.0, C, 0), (1.0, 1.01, C, 0), (1.01, 2.0, C, 0)])
    with pytest.raises(StageError, match="not increasing"):
        clip_windows(plan=plan)
