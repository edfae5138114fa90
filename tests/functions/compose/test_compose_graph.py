"""The pure command builder: what the one encode will do, asserted on its arguments without running it."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from functions.compose.audio import LoudnessMeasurement, LoudnessSettings
from functions.compose.graph import ComposeCommand, build_compose_command, xfade_offsets
from shared.errors import StageError
from shared.models import ClipResult, ComposeRequest, OutputSpec, ScenePlan, Transition
from tests.functions.compose.compose_inputs import make_plan

C, X = Transition.cut, Transition.crossfade
LINEAR = LoudnessSettings(
    measured=LoudnessMeasurement(input_i=-20.0, input_tp=-8.0, input_lra=4.0, input_thresh=-30.0),
    mode="linear",
    loudnorm_i=-14.0,
)


def test_xfade_offsets_accumulate_real_durations_minus_overlaps() -> None:
    assert xfade_offsets(durations=[2.0, 3.5, 2.0], overlaps=[0.5, 0.5]) == pytest.approx([1.5, 4.5])
    # A cut (no overlap) appends at the chain's full length.
    assert xfade_offsets(durations=[2.0, 3.5, 2.0], overlaps=[0.0, 0.5]) == pytest.approx([2.0, 5.0])
    with pytest.raises(ValueError):
        xfade_offsets(durations=[2.0, 3.5], overlaps=[0.5, 0.5])


def three_scene_plan(*, music_offset: float = 0.0) -> ScenePlan:
    """At 24 fps a 0.5 s crossfade shares exactly 12 frames, and these windows are 2.0, 3.5 and 2.0 s."""
    out = OutputSpec(aspect="1:1", width=240, height=240, fps=24, duration=6.5)
    return make_plan(output=out, tempo=120, music_offset=music_offset, fade_out=1.5,
                     scenes=[(0, 1.75, C, 0), (1.75, 4.75, X, 0.5), (4.75, 6.5, X, 0.5)])


def build(plan: ScenePlan, durations: list[float], sizes: list[tuple[int, int]] | None = None) -> ComposeCommand:
    sizes = sizes or [(plan.output.width, plan.output.height)] * len(durations)
    clips = [
        ClipResult(clip_key=f"clips/{i}.mp4", provider="test", frames=round(d * 24), duration=d,
                   width=w, height=h, fps=24)
        for i, (d, (w, h)) in enumerate(zip(durations, sizes, strict=True))
    ]
    request = ComposeRequest(plan=plan, clips=clips, audio_key="music.wav")
    return build_compose_command(
        request=request,
        clip_paths=[Path(f"/in/clip{i}.mp4") for i in range(len(clips))],
        audio_path=Path("/in/music.wav"),
        loudness=LINEAR,
        output_path=Path("/out/video.mp4"),
    )


def filter_graph(cmd: ComposeCommand) -> str:
    return cmd.args[cmd.args.index("-filter_complex") + 1]


def xfade_offsets_in(graph: str) -> list[float]:
    return [float(x) for x in re.findall(r"xfade=[^;\[]*offset=([\d.]+)", graph)]


def test_graph_xfades_at_offsets_from_the_clip_durations() -> None:
    cmd = build(three_scene_plan(), [2.0, 3.5, 2.0])
    graph = filter_graph(cmd)
    assert xfade_offsets_in(graph) == pytest.approx([1.5, 4.5], abs=1e-6)
    assert re.findall(r"xfade=[^;\[]*duration=([\d.]+)", graph) == ["0.5", "0.5"]
    assert "transition=fade" in graph
    assert [j.offset for j in cmd.joins] == pytest.approx([1.5, 4.5])
    assert cmd.total_frames == 156 and cmd.duration == pytest.approx(6.5)


def test_clips_of_the_wrong_length_are_fitted_and_the_offsets_stay_on_the_beat() -> None:
    # A cloud model returned 5 s for every scene, and a 1.2 s clip for the last.
    cmd = build(three_scene_plan(), [5.0, 5.0, 1.2])
    graph = filter_graph(cmd)
    assert xfade_offsets_in(graph) == pytest.approx([1.5, 4.5], abs=1e-6)
    # The long clips are cut at their window (their decoders are never asked for more) ...
    assert re.findall(r"trim=end_frame=(\d+)", graph) == ["48", "84", "48"]
    # ... and the short one is slowed to fill its 2 s rather than cut short.
    assert "setpts=(PTS-STARTPTS)/0.6[" in graph
    assert [f.speed for f in cmd.fits] == pytest.approx([1.0, 1.0, 0.6])


def test_clips_of_another_size_are_cover_fitted_and_matching_ones_left_alone() -> None:
    cmd = build(three_scene_plan(), [2.0, 3.5, 2.0], sizes=[(240, 240), (426, 240), (240, 240)])
    graph = filter_graph(cmd)
    assert graph.count("scale=240:240:") == 1 and "force_original_aspect_ratio=increase" in graph
    assert graph.count("crop=240:240") == 1
    assert graph.count("format=yuv420p") == 3 and graph.count("setsar=1") == 3


def test_music_fades_in_only_when_it_starts_mid_track_and_fades_out_at_the_end() -> None:
    from_start = filter_graph(build(three_scene_plan(music_offset=0.0), [2.0, 3.5, 2.0]))
    mid_track = filter_graph(build(three_scene_plan(music_offset=12.25), [2.0, 3.5, 2.0]))
    assert "type=in" not in from_start
    assert re.search(r"afade=duration=0.05:start_time=0:type=in", mid_track)
    for graph in (from_start, mid_track):
        assert "afade=duration=1.5:start_time=5:type=out" in graph
        assert "loudnorm=I=-14:" in graph and "linear=true" in graph and "measured_I=-20" in graph
        assert "aresample=48000" in graph
    assert "atrim=end=18.75:start=12.25" in mid_track


def test_output_options_match_the_delivery_spec() -> None:
    args = build(three_scene_plan(), [2.0, 3.5, 2.0]).args
    opts = dict(itertools.pairwise(args))
    assert opts["-vcodec"] == "libx264" and opts["-profile:v"] == "high" and opts["-pix_fmt"] == "yuv420p"
    assert opts["-preset"] == "medium" and opts["-crf"] == "20"
    assert opts["-movflags"] == "+faststart" and opts["-r"] == "24" and opts["-g"] == "48"
    assert opts["-acodec"] == "aac" and opts["-ar"] == "48000" and opts["-b:a"] == "192k"
    assert args[-1] == "/out/video.mp4"
    # One encode: the music is the only input file; the three clips are decoded inside the graph.
    assert args.count("-i") == 1
    assert filter_graph(build(three_scene_plan(), [2.0, 3.5, 2.0])).count("movie=") == 3


def test_a_clip_used_by_two_scenes_is_decoded_once_and_split() -> None:
    plan = three_scene_plan()
    clips = [
        ClipResult(clip_key=key, provider="test", frames=48, duration=d, width=240, height=240, fps=24)
        for key, d in (("clips/a.mp4", 2.0), ("clips/b.mp4", 3.5), ("clips/a.mp4", 2.0))
    ]
    cmd = build_compose_command(
        request=ComposeRequest(plan=plan, clips=clips, audio_key="music.wav"),
        clip_paths=[Path("/in/a.mp4"), Path("/in/b.mp4"), Path("/in/a.mp4")],
        audio_path=Path("/in/music.wav"), loudness=LINEAR, output_path=Path("/out/video.mp4"),
    )
    graph = filter_graph(cmd)
    assert graph.count("movie=") == 2 and graph.count("split=2") == 1


def test_a_clip_count_that_does_not_match_the_scenes_is_refused() -> None:
    with pytest.raises(StageError, match="3 scenes but 2 clips"):
        build(three_scene_plan(), [2.0, 3.5])
