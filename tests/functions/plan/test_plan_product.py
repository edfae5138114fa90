"""The product shot in the plan: one scene, on beats, about one turn long, where an editor would put it,
and every rule of the photo scenes still holding around it."""

from __future__ import annotations

import pytest

from functions.plan import run_plan
from functions.plan.planner import MIN_SCENE_SECONDS, plan_locally
from functions.plan.product import PRODUCT_MAX_SECONDS, PRODUCT_MIN_SECONDS
from functions.plan.prompts import restyle_plan
from functions.plan.providers.proposal import PlanProposal, SceneIdea, apply_proposal
from shared.models.base import Box
from shared.models.media import MusicInfo, PhotoInfo
from shared.models.plan import CameraMove, PlanRequest, ProductInput, ScenePlan, Transition
from tests.functions.plan.test_planner import music, photo, request

FACE = Box(x=0.4, y=0.3, w=0.2, h=0.2)


def product(*, turn: float = 4.0, placement: str = "auto", background: PhotoInfo | None = None) -> ProductInput:
    return ProductInput(key="inputs/turn.webm", name="mug.webm", frames=round(turn * 30), duration=turn,
                        background=background, placement=placement)  # type: ignore[arg-type]


def with_product(req: PlanRequest, p: ProductInput) -> PlanRequest:
    return req.model_copy(update={"product": p})


def shots(plan: ScenePlan) -> list[int]:
    return [k for k, s in enumerate(plan.scenes) if s.kind == "product"]


def assert_edit_rules(plan: ScenePlan, m: MusicInfo) -> None:
    """What every plan must be, product or not (DESIGN.md's rules)."""
    period = 60.0 / plan.tempo
    beats = set(plan.beats)
    assert plan.scenes[0].start == 0 and plan.scenes[-1].end == pytest.approx(plan.output.duration)
    assert plan.downbeats[-1] == pytest.approx(plan.output.duration)
    for k, (a, b) in enumerate(zip(plan.scenes, plan.scenes[1:], strict=False)):
        assert a.end == b.start and b.start in beats, f"cut {k + 1} is not on a beat"
        assert a.image_key != b.image_key, "the same picture twice in a row"
        assert a.move != b.move, "the same camera move twice in a row"
        if b.transition_in == Transition.crossfade:
            assert b.transition_seconds <= 0.4 * min(a.duration, b.duration) + 1e-6
    for k, s in enumerate(plan.scenes):
        assert s.index == k
        assert s.duration >= max(2 * period, MIN_SCENE_SECONDS) - 1e-6
        assert s.beats == sum(1 for b in plan.beats if s.start + 1e-6 < b <= s.end + 1e-6)


def test_one_product_scene_on_beats_about_one_turn_long() -> None:
    m = music(bpm=100.0)  # 0.6 s beats: a 3.3 s turn is 5.5 beats, the nearest whole beats are 3.0 or 3.6 s
    plan = plan_locally(request=with_product(request([photo(i) for i in range(8)], m), product(turn=3.3)))
    (k,) = shots(plan)
    shot = plan.scenes[k]
    assert shot.product_key == "inputs/turn.webm"
    assert abs(shot.duration - 3.3) <= 0.3 + 1e-6
    assert shot.duration == pytest.approx(shot.beats * 0.6, abs=1e-3)
    assert {shot.start, shot.end} <= {0.0, *plan.beats}
    assert_edit_rules(plan, m)
    assert '"kind": "product"' in plan.model_dump_json(indent=1)


def test_a_turn_of_whole_bars_takes_the_bars_and_lengths_stay_within_limits() -> None:
    photos = [photo(i) for i in range(8)]
    lengths = {}
    for turn in (3.7, 0.8, 20.0):
        plan = plan_locally(request=with_product(request(photos, music()), product(turn=turn)))
        lengths[turn] = plan.scenes[shots(plan)[0]].duration
        assert_edit_rules(plan, music())
    assert lengths[3.7] == pytest.approx(4.0)  # two bars at 120 BPM, within 15% of the turn: ends on a downbeat
    assert lengths[0.8] == pytest.approx(PRODUCT_MIN_SECONDS)  # a spin that fast would not read
    assert lengths[20.0] == pytest.approx(PRODUCT_MAX_SECONDS)  # the turn speeds up instead of dragging


def test_the_product_lands_on_the_drop_when_the_music_has_one() -> None:
    m = music(seconds=48.0, calm_until=16.0)  # energetic from 16 s: a downbeat at 120 BPM
    plan = plan_locally(request=with_product(request([photo(i) for i in range(10)], m, duration=32.0), product()))
    shot = plan.scenes[shots(plan)[0]]
    assert shot.start == pytest.approx(16.0) and shot.start in set(plan.downbeats)
    assert shot.transition_in == Transition.cut  # into energetic music on a downbeat
    assert_edit_rules(plan, m)


def test_without_a_drop_the_product_closes_the_video_and_placement_can_open_it() -> None:
    photos = [photo(i) for i in range(8)]
    last = plan_locally(request=with_product(request(photos, music()), product()))
    assert shots(last) == [len(last.scenes) - 1]
    assert last.scenes[-1].end == pytest.approx(last.output.duration)
    first = plan_locally(request=with_product(request(photos, music()), product(placement="start")))
    assert shots(first) == [0]
    for plan in (last, first):
        assert_edit_rules(plan, music())


def test_the_background_is_a_calm_photo_without_faces_or_the_users_choice() -> None:
    photos = [photo(0, faces=[FACE], sharp=20.0), photo(1, sharp=300.0), photo(2, sharp=60.0),
              photo(3, faces=[FACE], sharp=10.0), photo(4, sharp=150.0)]
    plan = plan_locally(request=with_product(request(photos, music(), duration=30.0), product()))
    shot = plan.scenes[shots(plan)[0]]
    assert {s.photo for s in plan.scenes if s.kind == "photo"} == {p.source.name for p in photos}
    assert shot.photo == "p02.jpg", "the least busy of the photos without a face"
    chosen = photo(9, sharp=500.0)
    plan = plan_locally(request=with_product(request(photos, music(), duration=30.0), product(background=chosen)))
    assert plan.scenes[shots(plan)[0]].image_key == chosen.image_key


def test_a_photo_pushed_out_by_the_product_becomes_its_background_and_the_rest_are_dropped() -> None:
    photos = [photo(i) for i in range(6)]
    plain = plan_locally(request=request(photos, music(), duration=12.0))
    plan = plan_locally(request=with_product(request(photos, music(), duration=12.0), product(turn=4.0)))
    in_scenes = {s.photo for s in plan.scenes if s.kind == "photo"}
    pushed_out = {s.photo for s in plain.scenes} - in_scenes
    assert len(pushed_out) >= 2, "a 4 s product shot in 12 s of 2 s scenes takes two photos' places"
    background = plan.scenes[shots(plan)[0]].photo
    assert background in pushed_out
    assert {d.photo for d in plan.dropped} == pushed_out - {background}


def test_a_short_video_is_all_product_shot() -> None:
    plan = plan_locally(request=with_product(request([photo(0), photo(1)], music(), duration=4.0), product()))
    assert [s.kind for s in plan.scenes] == ["product"]
    assert plan.scenes[0].start == 0 and plan.scenes[0].end == pytest.approx(plan.output.duration)


def test_a_model_planners_proposal_gets_the_product_shot_too() -> None:
    photos = [photo(i) for i in range(6)]
    ideas = [SceneIdea(photo_id=f"P{i}", story_beat="moment", move=move, transition_in=Transition.cut,
                       emphasis="normal", animation_prompt="gentle motion")
             for i, move in zip(range(6), [CameraMove.push_in, CameraMove.drift] * 3, strict=True)]
    req = with_product(request(photos, music(), duration=20.0), product())
    plan, _ = apply_proposal(request=req, proposal=PlanProposal(title="t", scenes=ideas, left_out=[]),
                             provider="gemini:test")
    assert len(shots(plan)) == 1
    assert_edit_rules(plan, music())


def test_a_new_look_restyles_the_product_prompt_and_moves_nothing() -> None:
    plan = run_plan(request=with_product(request([photo(i) for i in range(6)], music(), duration=16.0), product()))
    lego = restyle_plan(plan, look="lego")
    assert [(s.start, s.end, s.kind) for s in lego.scenes] == [(s.start, s.end, s.kind) for s in plan.scenes]
    prompt = lego.scenes[shots(lego)[0]].prompt
    assert "turns one full revolution" in prompt and "LEGO" in prompt and "anime" not in prompt
