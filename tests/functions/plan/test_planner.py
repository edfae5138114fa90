"""The local planner against the rules in DESIGN.md, on music and photos whose facts we control."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from functions.plan import run_plan
from functions.plan.planner import plan_locally
from shared.models.base import Box, OutputSpec
from shared.models.media import MusicInfo, MusicTrack, PhotoInfo, PhotoSource, Section
from shared.models.plan import CameraMove, PlanRequest, Transition

CENTER = Box(x=0.4, y=0.4, w=0.2, h=0.2)


def photo(
    i: int,
    *,
    w: int = 1200,
    h: int = 1600,
    sharp: float = 100.0,
    phash: str | None = None,
    faces: list[Box] | None = None,
    when: datetime | None = None,
) -> PhotoInfo:
    # Distinct photos get hashes far apart (bit patterns differ in many places).
    return PhotoInfo(
        source=PhotoSource(key=f"inputs/{i}.jpg", name=f"p{i:02d}.jpg", index=i),
        image_key=f"analyze/{i}/photo.jpg",
        width=w,
        height=h,
        captured_at=when,
        faces=faces or [],
        subject=faces[0] if faces else CENTER,
        subject_kind="face" if faces else "saliency",
        sharpness=sharp,
        phash=phash or f"{(0x9E3779B97F4A7C15 * (i + 1)) & (2**64 - 1):016x}",
    )


def music(*, seconds: float = 40.0, bpm: float = 120.0, calm_until: float | None = None) -> MusicInfo:
    period = 60.0 / bpm
    beats = [round(k * period, 6) for k in range(int(seconds / period) + 1)]
    downbeats = beats[::4]
    hop = 0.1
    n = int(seconds / hop) + 1
    if calm_until is None:
        energy = [0.7] * n
        sections = [Section(start=0, end=seconds, kind="energetic", energy=0.7)]
    else:
        energy = [0.15 if k * hop < calm_until else 0.9 for k in range(n)]
        sections = [
            Section(start=0, end=calm_until, kind="calm", energy=0.15),
            Section(start=calm_until, end=seconds, kind="energetic", energy=0.9),
        ]
    return MusicInfo(
        track=MusicTrack(audio_key="music/t.wav", name="t.wav", origin="generated", duration=seconds),
        duration=seconds,
        tempo=bpm,
        beats=beats,
        downbeats=downbeats,
        # Quiet passages have weak onsets: strength follows the energy, downbeats accented.
        beat_strength=[
            (1.0 if b in downbeats else 0.6) * (0.3 if calm_until is not None and b < calm_until else 1.0)
            for b in beats
        ],
        energy_hop=hop,
        energy=energy,
        sections=sections,
    )


def request(photos: list[PhotoInfo], m: MusicInfo, *, duration: float = 24.0, aspect: str = "9:16") -> PlanRequest:
    return PlanRequest(
        photos=photos,
        music=m,
        output=OutputSpec.for_aspect(aspect=aspect, duration=duration),  # type: ignore[arg-type]
        look="ghibli",
    )


def test_every_boundary_is_a_beat_and_the_video_ends_on_a_downbeat() -> None:
    plan = run_plan(request=request([photo(i) for i in range(8)], music()))
    boundaries = [s.start for s in plan.scenes[1:]]
    assert boundaries, "eight photos over 24 s must give several scenes"
    assert set(boundaries) <= set(plan.beats)
    assert plan.scenes[0].start == 0 and plan.scenes[-1].end == pytest.approx(24.0)
    assert plan.downbeats[-1] == pytest.approx(plan.output.duration)
    for a, b in zip(plan.scenes, plan.scenes[1:], strict=False):
        assert a.end == b.start
    # With flat energy, downbeats are preferred: most cuts fall on one.
    on_down = sum(b in set(plan.downbeats) for b in boundaries)
    assert on_down >= 0.7 * len(boundaries)


def test_offset_puts_a_downbeat_of_a_user_track_at_the_end() -> None:
    m = music(seconds=40.0, bpm=100.0)  # bars are 2.4 s: 25 s is not on a bar line
    plan = plan_locally(request=request([photo(i) for i in range(6)], m, duration=25.0))
    assert plan.output.duration == 25.0
    assert plan.music_offset > 0
    end_in_track = plan.music_offset + 25.0
    assert min(abs(end_in_track - d) for d in m.downbeats) < 1e-6


def test_energetic_music_gets_shorter_scenes_and_hard_cuts_calm_music_crossfades() -> None:
    m = music(seconds=48.0, calm_until=24.0)
    plan = plan_locally(request=request([photo(i) for i in range(14)], m, duration=48.0))
    calm = [s.duration for s in plan.scenes if s.end <= 24.0]
    energetic = [s.duration for s in plan.scenes if s.start >= 24.0]
    assert calm and energetic
    assert sum(energetic) / len(energetic) < 0.8 * (sum(calm) / len(calm))
    calm_transitions = [s.transition_in for s in plan.scenes[1:] if s.start < 24.0]
    loud_transitions = [s.transition_in for s in plan.scenes[1:] if s.start > 24.0]
    assert Transition.crossfade in calm_transitions
    assert all(t == Transition.cut for t in loud_transitions)
    for s in plan.scenes:
        if s.transition_in == Transition.crossfade:
            assert 0 < s.transition_seconds <= 60.0 / m.tempo + 1e-9


def test_a_crossfade_is_as_long_whoever_lays_the_scenes_out() -> None:
    """One rule (functions/plan/transitions.py): at most a beat, at most 1 s, at most 40% of either neighbour;
    the storyboard re-laying the same scenes gives the same lengths."""
    from api.storyboard import relay

    m = music(seconds=40.0, bpm=60.0, calm_until=40.0)  # calm all through, a beat of 1 s
    plan = plan_locally(request=request([photo(i) for i in range(12)], m, duration=32.0))
    faded = [(a, b) for a, b in itertools.pairwise(plan.scenes) if b.transition_in == Transition.crossfade]
    assert faded, "calm music crossfades"
    for a, b in faded:
        assert b.transition_seconds == round(min(1.0, 0.4 * min(a.duration, b.duration)), 4)
    relaid = relay(plan=plan, scenes=plan.scenes)
    assert [s.transition_seconds for s in relaid.scenes] == [s.transition_seconds for s in plan.scenes]


def test_capture_time_orders_dated_photos_and_undated_keep_their_place() -> None:
    t0 = datetime(2024, 5, 1, 12, 0)
    photos = [
        photo(0, when=t0 + timedelta(hours=3)),
        photo(1),
        photo(2, when=t0 + timedelta(hours=1)),
        photo(3, when=t0 + timedelta(hours=2)),
    ]
    plan = plan_locally(request=request(photos, music(), duration=12.0))
    assert [s.photo for s in plan.scenes] == ["p02.jpg", "p01.jpg", "p03.jpg", "p00.jpg"]


def test_near_duplicates_are_dropped_keeping_the_sharpest() -> None:
    same = "f0f0f0f0f0f0f0f0"
    almost = "f0f0f0f0f0f0f0f1"  # one bit away
    photos = [photo(0, phash=same, sharp=50.0), photo(1, phash=almost, sharp=400.0), photo(2), photo(3)]
    plan = plan_locally(request=request(photos, music(), duration=12.0))
    used = {s.photo for s in plan.scenes}
    assert "p01.jpg" in used and "p00.jpg" not in used
    assert any(d.photo == "p00.jpg" and "near-duplicate" in d.reason for d in plan.dropped)


def test_too_many_photos_keeps_the_best_in_story_order() -> None:
    photos = [photo(i, sharp=10.0 if i % 2 else 500.0) for i in range(40)]
    plan = plan_locally(request=request(photos, music(), duration=12.0))
    used = [s.photo_index for s in plan.scenes]
    assert len(used) < 40 and used == sorted(used)
    assert all(i % 2 == 0 for i in used), "the blurry half is left out first"
    assert len(plan.dropped) == 40 - len(used)
    assert all(s.duration >= 1.5 - 1e-6 for s in plan.scenes)


def test_few_photos_make_longer_scenes_and_never_repeat_back_to_back() -> None:
    plan = plan_locally(request=request([photo(0), photo(1)], music(), duration=24.0))
    assert all(s.duration <= 6.0 + 1e-6 for s in plan.scenes)
    names = [s.photo for s in plan.scenes]
    assert all(a != b for a, b in itertools.pairwise(names))
    single = plan_locally(request=request([photo(0)], music(), duration=10.0))
    assert len(single.scenes) == 1 and single.scenes[0].duration == pytest.approx(10.0)


def test_camera_follows_the_subject() -> None:
    face = Box(x=0.3, y=0.2, w=0.15, h=0.15)
    portrait = photo(0, faces=[face])
    panorama = photo(1, w=4608, h=1976)  # 2.33:1, no face
    plan = plan_locally(request=request([portrait, panorama], music(), duration=8.0))
    by_photo = {s.photo: s for s in plan.scenes}
    assert by_photo["p00.jpg"].move == CameraMove.push_in and by_photo["p00.jpg"].focus == face
    assert by_photo["p01.jpg"].move in (CameraMove.pan_left, CameraMove.pan_right)
    for s in plan.scenes:
        assert len(s.prompt.split()) >= 8 and ("push" in s.prompt or "pan" in s.prompt)


def test_wide_group_photo_gets_a_blurred_fill_instead_of_a_crop() -> None:
    group = photo(0, w=3000, h=1500, faces=[Box(x=0.05, y=0.3, w=0.9, h=0.3)])
    plan = plan_locally(request=request([group, photo(1)], music(), duration=8.0))
    assert plan.scenes[0].framing.value == "blurred_fill"
    assert plan.scenes[1].framing.value == "cover"


def test_short_music_shortens_the_video_to_its_last_downbeat() -> None:
    m = music(seconds=10.0)
    plan = plan_locally(request=request([photo(i) for i in range(4)], m, duration=30.0))
    assert plan.output.duration <= 10.0
    assert plan.scenes[-1].end == pytest.approx(plan.output.duration)
    assert plan.output.duration in m.downbeats


def test_a_new_look_keeps_the_edit_and_rewords_only_the_style() -> None:
    from functions.plan.prompts import restyle_plan

    plan = plan_locally(request=request([photo(i) for i in range(5)], music(), duration=12.0))
    lego = restyle_plan(plan, look="lego")
    assert lego.look == "lego"
    assert [(s.start, s.end, s.move, s.photo) for s in lego.scenes] == [
        (s.start, s.end, s.move, s.photo) for s in plan.scenes
    ]
    assert all("LEGO" in s.prompt and "anime" not in s.prompt for s in lego.scenes)
    assert restyle_plan(lego, look="ghibli") == plan
