"""Model planners (Gemini, OpenAI) against fake servers speaking their real APIs: the model proposes the
story, our code owns the timing. Every boundary of the plan is checked against the beat grid, whatever the
model answered; bad answers get one repair attempt, then the local planner, with the reason kept."""

from __future__ import annotations

import json

import pytest
from fakes.env import set_env
from fakes.gemini_server import GeminiServer
from fakes.http import Failure
from fakes.openai_server import OpenAIServer
from fakes.plan_inputs import plan_request

from functions.plan import run_plan
from functions.plan.planner import plan_locally
from functions.plan.prompts import style_sentence
from functions.plan.providers.proposal import PlanProposal
from shared.models.plan import CameraMove, ScenePlan, Transition
from shared.providers.sdk.gemini import JSON_SCHEMA_KEYWORDS
from shared.store import LocalStore

pytest_plugins = ["fakes.fixtures"]


def assert_on_the_beat(plan: ScenePlan) -> None:
    beats = set(plan.beats)
    for scene in plan.scenes[1:]:
        assert scene.start in beats, f"scene {scene.index} starts off the beat at {scene.start}"
    assert plan.scenes[0].start == 0.0
    assert plan.scenes[-1].end == pytest.approx(plan.output.duration)
    assert plan.output.duration in set(plan.downbeats)
    for a, b in zip(plan.scenes, plan.scenes[1:], strict=False):
        assert a.end == b.start
    for scene in plan.scenes:
        if scene.transition_in == Transition.crossfade:
            period = 60.0 / plan.tempo
            assert 0 < scene.transition_seconds <= period + 1e-6


def test_gemini_proposes_the_story_and_our_code_sets_every_cut_on_the_beat(gemini: GeminiServer,
                                                                           store: LocalStore) -> None:
    request = plan_request(store, count=5, provider="gemini")
    plan = run_plan(request=request, store=store)
    assert plan.provider == "gemini:gemini-2.5-flash"
    # The fake model plays the photos in reverse with pan_left, push_in, pull_out, pan_right, ...
    assert [s.photo for s in plan.scenes] == ["p04.jpg", "p03.jpg", "p02.jpg", "p01.jpg", "p00.jpg"]
    assert [s.move for s in plan.scenes[:4]] == [CameraMove.pan_left, CameraMove.push_in, CameraMove.pull_out,
                                                 CameraMove.pan_right]
    assert_on_the_beat(plan)
    assert all(s.prompt.endswith(style_sentence("ghibli")) for s in plan.scenes)
    assert plan.cost_usd == pytest.approx(2400 * 0.30e-6 + 600 * 2.50e-6)
    [call] = gemini.calls("generate")
    body = call.json()
    assert call.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert plan.attempts == []  # the model's plan, not the local planner's after a refused request
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json" and "responseSchema" not in config
    schema = config["responseJsonSchema"]
    assert set(schema["properties"]) == {"title", "scenes", "left_out"}
    scene = schema["properties"]["scenes"]["items"]
    assert scene["additionalProperties"] is False and "start" not in scene["properties"]  # timing is ours
    assert scene["properties"]["move"]["enum"] == [m.value for m in CameraMove]
    assert schema_keywords(schema) <= JSON_SCHEMA_KEYWORDS  # nothing the API would silently ignore
    assert "$ref" not in json.dumps(schema)
    parts = body["contents"][0]["parts"]
    assert sum("inlineData" in p for p in parts) == 5  # one thumbnail per photo


def schema_keywords(schema: object) -> set[str]:
    if isinstance(schema, list):
        return {k for item in schema for k in schema_keywords(item)}
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        if key == "properties":
            found |= {k for sub in value.values() for k in schema_keywords(sub)}
        elif key not in ("enum", "required", "propertyOrdering"):
            found |= schema_keywords(value)
    return found


def test_the_fake_refuses_a_pydantic_response_schema_as_the_real_api_does(gemini: GeminiServer) -> None:
    """What google-genai makes of `response_schema=` a model with extra="forbid": additional_properties inside
    the Schema message, which the Gemini API does not have (the planner's every call used to fail so)."""
    from google.genai import errors, types

    from shared.providers.sdk.gemini import gemini_client

    client = gemini_client()  # held: a collected Client closes its connection pool
    with pytest.raises(errors.ClientError) as refused:
        client.models.generate_content(
            model="gemini-2.5-flash", contents="plan",
            config=types.GenerateContentConfig(response_mime_type="application/json", response_schema=PlanProposal))
    error = refused.value
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.message.startswith("Invalid JSON payload received. Unknown name \"additional_properties\" at "
                                    "'generation_config.response_schema': Cannot find field.")
    [bad_request] = error.details["error"]["details"]
    assert bad_request["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert {v["field"] for v in bad_request["fieldViolations"]} == {
        "generation_config.response_schema", "generation_config.response_schema.properties[1].value.items",
        "generation_config.response_schema.properties[2].value.items"}

    # Nor is pydantic's own JSON Schema taken as it is: it writes a field's description beside its $ref.
    with pytest.raises(errors.ClientError, match=r"\$ref set together with description"):
        client.models.generate_content(
            model="gemini-2.5-flash", contents="plan",
            config=types.GenerateContentConfig(response_mime_type="application/json",
                                               response_json_schema=PlanProposal.model_json_schema()))


def test_openai_answers_in_a_strict_json_schema(openai_fake: OpenAIServer, store: LocalStore) -> None:
    plan = run_plan(request=plan_request(store, count=4, provider="openai"), store=store)
    assert plan.provider == "openai:gpt-4o"
    assert [s.photo for s in plan.scenes] == ["p03.jpg", "p02.jpg", "p01.jpg", "p00.jpg"]
    assert_on_the_beat(plan)
    [call] = openai_fake.calls("chat")
    body = call.json()
    assert body["model"] == "gpt-4o"
    assert body["response_format"]["type"] == "json_schema" and body["response_format"]["json_schema"]["strict"]
    images = [p for p in body["messages"][1]["content"] if p["type"] == "image_url"]
    assert len(images) == 4 and images[0]["image_url"]["detail"] == "low"


def test_a_model_never_sets_timing_and_unknown_photos_are_dropped(gemini: GeminiServer,
                                                                  store: LocalStore) -> None:
    idea = {"story_beat": "x", "move": "drift", "transition_in": "cut", "emphasis": "normal",
            "animation_prompt": "the camera drifts"}
    answer = {"title": "t", "left_out": [{"photo_id": "P2", "reason": "blurry"}], "scenes": [
        {**idea, "photo_id": "P1"}, {**idea, "photo_id": "P9"}, {**idea, "photo_id": "P1"},
        {**idea, "photo_id": "P0"}, *[{**idea, "photo_id": f"P{i % 2}"} for i in range(40)],
    ]}
    gemini.plan_answers.append(json.dumps(answer))
    plan = run_plan(request=plan_request(store, count=3, provider="gemini"), store=store)
    assert plan.provider.startswith("gemini")
    assert "p02.jpg" in {d.photo for d in plan.dropped}
    assert any("blurry" in d.reason for d in plan.dropped)
    assert plan.scenes[0].photo == "p01.jpg" and plan.scenes[1].photo == "p00.jpg"  # P9 and the repeat gone
    assert len(plan.scenes) < 40  # capped to what the music has room for
    assert_on_the_beat(plan)
    kinds = {a.kind for a in plan.attempts}
    assert kinds == {"corrected"}


def test_partial_json_gets_one_repair_attempt(gemini: GeminiServer, store: LocalStore) -> None:
    gemini.plan_answers.append('{"title": "A day", "scenes": [{"photo_id": "P0", "story_')
    plan = run_plan(request=plan_request(store, count=3, provider="gemini"), store=store)
    assert gemini.count("generate") == 2
    assert plan.provider == "gemini:gemini-2.5-flash"
    assert [a.kind for a in plan.attempts] == ["repaired"]
    repair = gemini.calls("generate")[1].json()["contents"]
    assert repair[1]["role"] == "model" and "story_" in repair[1]["parts"][0]["text"]
    assert "could not be used" in repair[2]["parts"][0]["text"]
    assert plan.cost_usd == pytest.approx(2 * (2400 * 0.30e-6 + 600 * 2.50e-6))


def test_a_timed_proposal_is_refused_and_twice_bad_falls_back_to_the_local_planner(openai_fake: OpenAIServer,
                                                                                   store: LocalStore) -> None:
    timed = {"title": "t", "left_out": [], "scenes": [
        {"photo_id": "P0", "story_beat": "x", "move": "drift", "transition_in": "cut", "emphasis": "normal",
         "animation_prompt": "p", "start": 0.0, "end": 3.3}]}
    openai_fake.plan_answers.extend([json.dumps(timed), "Sure! Here is your plan."])
    request = plan_request(store, count=4, provider="openai")
    plan = run_plan(request=request, store=store)
    assert openai_fake.count("chat") == 2
    assert plan.provider == "local"
    assert plan == plan_locally(request=request).model_copy(update={"attempts": plan.attempts,
                                                                    "cost_usd": plan.cost_usd})
    [failed] = plan.attempts
    assert failed.provider == "openai:gpt-4o" and failed.kind == "bad_output"
    assert "start" in failed.reason  # the first answer carried timing: refused by the schema
    assert failed.cost_usd > 0 and plan.cost_usd == failed.cost_usd  # both calls are billed


def test_a_refusal_goes_straight_to_the_local_planner(gemini: GeminiServer, store: LocalStore) -> None:
    gemini.fail("generate", "refuse")
    plan = run_plan(request=plan_request(store, count=3, provider="gemini"), store=store)
    assert gemini.count("generate") == 1 and plan.provider == "local"
    assert plan.attempts[0].kind == "refused"
    assert_on_the_beat(plan)


def test_a_rate_limited_planner_is_retried(openai_fake: OpenAIServer, store: LocalStore) -> None:
    openai_fake.fail("chat", "429", "500")
    plan = run_plan(request=plan_request(store, count=3, provider="openai"), store=store)
    assert openai_fake.count("chat") == 3 and plan.provider == "openai:gpt-4o"
    assert plan.attempts == []


def test_a_rate_limited_gemini_planner_waits_the_retry_delay_in_the_error_body(gemini: GeminiServer,
                                                                               store: LocalStore) -> None:
    gemini.fail("generate", Failure("429", retry_after="1"))  # RetryInfo retryDelay "1s", no Retry-After
    plan = run_plan(request=plan_request(store, count=3, provider="gemini"), store=store)
    first, second = gemini.calls("generate")
    assert second.started - first.started >= 1.0  # the backoff alone is about 10 ms here
    assert plan.provider == "gemini:gemini-2.5-flash" and plan.attempts == []


def test_a_retry_delay_above_the_cap_fails_the_link_at_once_saying_why(gemini: GeminiServer, store: LocalStore,
                                                                       provider_env: pytest.MonkeyPatch) -> None:
    set_env(provider_env, MOMENTLOOP_RETRY_AFTER_MAX="5")
    gemini.fail("generate", Failure("429", retry_after="37"))
    plan = run_plan(request=plan_request(store, count=3, provider="gemini"), store=store)
    assert gemini.count("generate") == 1 and plan.provider == "local"
    [attempt] = plan.attempts
    assert attempt.kind == "rate_limited"
    assert "asks to wait 37 s, longer than the 5 s we wait (MOMENTLOOP_RETRY_AFTER_MAX)" in attempt.reason


def test_a_planner_is_priced_by_its_model_and_an_unknown_one_like_its_vendors_default() -> None:
    from functions.plan.providers import get_provider
    from functions.plan.providers.cloud import PLANNER_PRICES

    assert get_provider("gemini").links[0].price == PLANNER_PRICES["gemini-2.5-flash"]  # type: ignore[attr-defined]
    openai = get_provider("openai:gpt-4o-mini").links[0]  # type: ignore[attr-defined]
    assert (openai.name, openai.price) == ("openai:gpt-4o-mini", PLANNER_PRICES["gpt-4o"])
