"""The pure command builders: how the timeline is cut into segments, what each segment's encode and the
final assembly will do, asserted on their arguments without running them."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from functions.compose import run_compose
from functions.compose.audio import AudioShape, Mastering, measure_args, soundtrack_args
from functions.compose.graph import ClipFiles, assembly_args, concat_list, copyable, fit_clip, segment_args
from functions.compose.segments import Piece, Segment, plan_segments
from functions.compose.timing import clip_windows
from shared.errors import StageError
from shared.models.base import OutputSpec
from shared.models.plan import ScenePlan, Transition
from shared.models.render import ClipResult, ComposeRequest, FinalEncoding
from shared.store import LocalStore
from tests.functions.compose.compose_inputs import make_plan

C, X = Transition.cut, Transition.crossfade
MASTERING = Mastering(gain_db=6.0, ceiling_db=-2.5)
FINAL = FinalEncoding(preset="medium", crf=20)


def three_scene_plan(*, music_offset: float = 0.0, transitions: tuple[Transition, Transition] = (X, X)) -> ScenePlan:
    """At 24 fps the beats fall on frames 0, 42, 114, 156; a 0.5 s crossfade blends 12 frames."""
    out = OutputSpec(aspect="1:1", width=240, height=240, fps=24, duration=6.5)
    a, b = transitions
    return make_plan(output=out, tempo=120, music_offset=music_offset, fade_out=1.5,
                     scenes=[(0, 1.75, C, 0), (1.75, 4.75, a, 0.5), (4.75, 6.5, b, 0.5)])


def spans(segments: list[Segment]) -> list[tuple[str, int, int, list[tuple[int, int, int]]]]:
    return [(s.kind, s.start_frame, s.end_frame, [(p.clip, p.start, p.end) for p in s.pieces]) for s in segments]


def test_segments_cover_every_frame_once_with_blends_centred_on_the_beats() -> None:
    segments = plan_segments(windows=clip_windows(plan=three_scene_plan()))
    assert spans(segments) == [
        ("body", 0, 36, [(0, 0, 36)]),
        ("blend", 36, 48, [(0, 36, 48), (1, 0, 12)]),  # clip 0's last 12 frames over clip 1's first 12
        ("body", 48, 108, [(1, 12, 72)]),
        ("blend", 108, 120, [(1, 72, 84), (2, 0, 12)]),
        ("body", 120, 156, [(2, 12, 48)]),
    ]
    for s in segments:
        assert all(p.frames == s.frames for p in s.pieces)


def test_at_cuts_the_bodies_meet_on_the_beat_frame() -> None:
    segments = plan_segments(windows=clip_windows(plan=three_scene_plan(transitions=(C, C))))
    assert spans(segments) == [("body", 0, 42, [(0, 0, 42)]), ("body", 42, 114, [(1, 0, 72)]),
                               ("body", 114, 156, [(2, 0, 42)])]


def test_a_scene_whose_crossfades_meet_has_no_body() -> None:
    out = OutputSpec(aspect="1:1", width=240, height=240, fps=24, duration=3.0)
    # The middle scene lasts 12 frames; both of its 0.5 s crossfades are cut to 6 frames a side.
    plan = make_plan(output=out, tempo=120, music_offset=0, fade_out=0.5,
                     scenes=[(0, 1.0, C, 0), (1.0, 1.5, X, 0.5), (1.5, 3.0, X, 0.5)])
    segments = plan_segments(windows=clip_windows(plan=plan))
    assert [s.kind for s in segments] == ["body", "blend", "blend", "body"]
    assert [(s.start_frame, s.end_frame) for s in segments] == [(0, 18), (18, 30), (30, 42), (42, 72)]


def clip(index: int, *, frames: int, duration: float | None = None, size: tuple[int, int] = (240, 240),
         split: bool = False, head: int = 0, tail: int = 0) -> ClipResult:
    return ClipResult(
        clip_key=f"clips/{index}/clip.mp4", provider="test", frames=frames, duration=duration or frames / 24,
        width=size[0], height=size[1], fps=24,
        head_key=f"clips/{index}/head.mp4" if split and head else None, head_frames=head if split else 0,
        tail_key=f"clips/{index}/tail.mp4" if split and tail else None, tail_frames=tail if split else 0,
        final=FINAL if split else None,
    )


def files_of(c: ClipResult) -> ClipFiles:
    def local(key: str | None) -> Path | None:
        return Path("/in") / key if key else None

    body = local(c.clip_key)
    assert body is not None
    return ClipFiles(head=local(c.head_key), body=body, tail=local(c.tail_key))


def args_for(plan: ScenePlan, clips: list[ClipResult], index: int) -> list[str]:
    windows = clip_windows(plan=plan)
    fits = [fit_clip(clip=c, window=w, output=plan.output) for c, w in zip(clips, windows, strict=True)]
    return segment_args(segment=plan_segments(windows=windows)[index], clips=clips,
                        files=[files_of(c) for c in clips], fits=fits, windows=windows, output=plan.output,
                        encoding=FINAL, dest=Path("/out/segment.mp4"))


def graph_of(args: list[str]) -> str:
    return args[args.index("-filter_complex") + 1]


def test_a_blend_crossfades_two_exact_pieces_and_encodes_with_the_final_settings() -> None:
    plan = three_scene_plan()
    clips = [clip(0, frames=48), clip(1, frames=84), clip(2, frames=48)]
    args = args_for(plan, clips, 1)
    graph = graph_of(args)
    assert re.findall(r"xfade=duration=([\d.]+):offset=0:transition=fade", graph) == ["0.5"]
    assert "trim=end_frame=48:start_frame=36" in graph and "trim=end_frame=12:start_frame=0" in graph
    assert args.count("-i") == 2
    opts = dict(itertools.pairwise(args))
    assert opts["-vcodec"] == "libx264" and opts["-profile:v"] == "high" and opts["-pix_fmt"] == "yuv420p"
    assert opts["-preset"] == "medium" and opts["-crf"] == "20" and opts["-g"] == "48"
    assert opts["-x264-params"] == "stitchable=1" and opts["-frames:v"] == "12" and opts["-r"] == "24"
    # The colour description and square pixels every piece shares (they are part of the headers).
    assert "setparams=color_primaries=bt709:color_trc=bt709:colorspace=smpte170m:range=tv" in graph
    assert "setsar=1" in graph


def test_clips_of_the_wrong_length_are_fitted_to_their_window_before_their_frames_are_taken() -> None:
    # A cloud model returned 5 s for every scene, and a 1.2 s clip for the last.
    plan = three_scene_plan()
    clips = [clip(0, frames=120, duration=5.0), clip(1, frames=120, duration=5.0), clip(2, frames=29, duration=1.2)]
    long_body = graph_of(args_for(plan, clips, 2))
    assert "trim=end_frame=84" in long_body  # clip 1 cut at its window ...
    assert "trim=end_frame=72:start_frame=12" in long_body  # ... then its body taken
    short_body = graph_of(args_for(plan, clips, 4))
    # The short one is slowed to fill its 2 s rather than cut short.
    assert "setpts=(PTS-STARTPTS)/0.6" in short_body
    assert [fit_clip(clip=c, window=w, output=plan.output).speed
            for c, w in zip(clips, clip_windows(plan=plan), strict=True)] == pytest.approx([1.0, 1.0, 0.6])


def test_clips_of_another_size_are_cover_fitted_and_converted_to_our_colour_matrix() -> None:
    plan = three_scene_plan()
    clips = [clip(0, frames=48), clip(1, frames=84, size=(426, 240)), clip(2, frames=48)]
    wide = graph_of(args_for(plan, clips, 2))
    assert "scale=240:240:flags=lanczos:force_original_aspect_ratio=increase:out_color_matrix=bt601" in wide
    assert "crop=240:240" in wide
    same = graph_of(args_for(plan, clips, 0))
    assert "scale=iw:ih:out_color_matrix=bt601:out_range=tv" in same and "crop=" not in same


def test_a_split_clip_is_read_from_the_part_that_holds_the_frames() -> None:
    plan = three_scene_plan()
    clips = [clip(0, frames=48, split=True, tail=12), clip(1, frames=84, split=True, head=12, tail=12),
             clip(2, frames=48, split=True, head=12)]
    blend = args_for(plan, clips, 1)
    inputs = [blend[i + 1] for i, a in enumerate(blend) if a == "-i"]
    assert inputs == ["/in/clips/0/tail.mp4", "/in/clips/1/head.mp4"]
    assert "trim=end_frame=12:start_frame=0" in graph_of(blend)
    # Part files are exact: no fitting, no scaling.
    assert "tpad" not in graph_of(blend) and "scale" not in graph_of(blend)


def test_only_a_whole_body_at_the_final_settings_is_copied() -> None:
    plan = three_scene_plan()
    windows = clip_windows(plan=plan)
    split = clip(1, frames=84, split=True, head=12, tail=12)
    body = Piece(clip=1, start=12, end=72)
    out = plan.output
    assert copyable(clip=split, piece=body, window=windows[1], output=out, encoding=FINAL)
    assert not copyable(clip=split, piece=body, window=windows[1], output=out,
                        encoding=FinalEncoding(preset="slow", crf=20))
    assert not copyable(clip=split, piece=Piece(clip=1, start=12, end=60), window=windows[1], output=out,
                        encoding=FINAL)
    assert not copyable(clip=clip(1, frames=84), piece=body, window=windows[1], output=out, encoding=FINAL)


def test_concat_list_states_each_segment_length_and_escapes_quotes(tmp_path: Path) -> None:
    text = concat_list([(tmp_path / "a.mp4", 36), (tmp_path / "it's.mp4", 77)], fps=30)
    lines = text.splitlines()
    assert lines[0] == "ffconcat version 1.0"
    assert lines[1] == f"file '{tmp_path}/a.mp4'" and lines[2] == "duration 1.200000"
    assert lines[3] == f"file '{tmp_path}/it'\\''s.mp4'" and lines[4] == "duration 2.566667"


def test_assembly_copies_the_video_and_the_soundtrack_packets() -> None:
    args = assembly_args(list_path=Path("/w/segments.ffconcat"), soundtrack_path=Path("/w/soundtrack.mp4"),
                         duration=6.5, output_path=Path("/out/video.mp4")).args
    opts = dict(itertools.pairwise(args))
    assert opts["-vcodec"] == "copy" and opts["-acodec"] == "copy" and opts["-safe"] == "0"
    assert opts["-movflags"] == "+faststart" and args[-1] == "/out/video.mp4"
    assert [args[i + 1] for i, a in enumerate(args) if a == "-i"] == ["/w/segments.ffconcat", "/w/soundtrack.mp4"]
    assert "-filter_complex" not in args  # nothing is decoded: the soundtrack was made beforehand


def soundtrack(plan: ScenePlan) -> list[str]:
    return soundtrack_args(audio_path=Path("/in/music.wav"), shape=AudioShape.for_plan(plan=plan),
                           mastering=MASTERING, output_path=Path("/w/soundtrack.mp4"))


def test_the_soundtrack_is_encoded_to_the_delivery_spec() -> None:
    args = soundtrack(three_scene_plan())
    opts = dict(itertools.pairwise(args))
    assert opts["-acodec"] == "aac" and opts["-ar"] == "48000" and opts["-b:a"] == "192k" and opts["-ac"] == "2"
    assert opts["-f"] == "mp4" and args[-1] == "/w/soundtrack.mp4"
    assert opts["-aac_pns"] == "0"  # decoders make up PNS noise each their own way: peaks would differ
    assert [args[i + 1] for i, a in enumerate(args) if a == "-i"] == ["/in/music.wav"]


def test_music_fades_in_only_when_it_starts_mid_track_and_fades_out_at_the_end() -> None:
    from_start = graph_of(soundtrack(three_scene_plan(music_offset=0.0)))
    mid_track = graph_of(soundtrack(three_scene_plan(music_offset=12.25)))
    assert "type=in" not in from_start
    assert re.search(r"afade=duration=0.05:start_time=0:type=in", mid_track)
    for graph in (from_start, mid_track):
        assert "afade=duration=1.5:start_time=5:type=out" in graph
    assert "atrim=end=18.75:start=12.25" in mid_track


def chain_of(args: list[str]) -> list[str]:
    """The filters of a one-chain graph, in order, without their link labels."""
    return re.sub(r"\[[^]]*\]", "", graph_of(args)).split(";")


def test_the_gain_comes_before_a_limiter_on_4x_oversampled_peaks() -> None:
    chain = chain_of(soundtrack(three_scene_plan()))
    fade = max(i for i, f in enumerate(chain) if f.startswith("afade="))
    # -2.5 dBFS; no auto-level (it would undo the limiting); the lookahead's delay compensated.
    assert chain[fade + 1 :] == [
        "volume=6dB", "aresample=192000", "alimiter=attack=5:latency=true:level=false:limit=0.749894:release=50",
        "aresample=48000",
    ]


def test_measuring_meters_true_peaks_of_what_would_be_encoded() -> None:
    plan = three_scene_plan(music_offset=12.25)
    shape = AudioShape.for_plan(plan=plan)
    rehearsal = chain_of(measure_args(audio_path=Path("/in/music.wav"), shape=shape, mastering=MASTERING))
    assert rehearsal == [*chain_of(soundtrack(plan)), "ebur128=framelog=quiet:peak=true"]
    source = chain_of(measure_args(audio_path=Path("/in/music.wav"), shape=shape))
    assert source == [*rehearsal[:-5], "ebur128=framelog=quiet:peak=true"]  # no gain, no limiter


def test_a_clip_count_that_does_not_match_the_scenes_is_refused(tmp_path: Path) -> None:
    request = ComposeRequest(plan=three_scene_plan(), clips=[clip(0, frames=48), clip(1, frames=84)],
                             audio_key="music.wav")
    with pytest.raises(StageError, match="3 scenes but 2 clips"):
        run_compose(request=request, store=LocalStore(tmp_path))
