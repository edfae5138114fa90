"""Video models (Kling and Seedance on Replicate, Veo 3.1 on Gemini, Sora 2 on OpenAI) against fake
servers that speak their real APIs: long-running jobs polled to the end, files downloaded and checked
(decoded end to end, shape and length measured) before the stage accepts them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fakes.env import set_env
from fakes.gemini_server import GeminiServer
from fakes.http import Failure
from fakes.openai_server import OpenAIServer
from fakes.replicate_server import ReplicateServer
from videocheck import decode_rgb_frames

from functions.clips import run_clip
from functions.clips.providers import get_provider
from functions.clips.providers.video_models import KLING, SEEDANCE, SORA, VEO
from shared.media.pictures import save_bgr
from shared.media.probe import probe
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Scene
from shared.models.render import ClipRequest
from shared.providers.errors import ProviderRefusedError
from shared.store import LocalStore

STYLED = "style/x/styled.png"

pytest_plugins = ["fakes.fixtures"]


def clip_request(store: LocalStore, *, provider: str, seconds: float = 2.5, aspect: str = "1:1",
                 seed: int = 0) -> ClipRequest:
    size = {"1:1": (320, 320), "9:16": (288, 512), "16:9": (512, 288)}[aspect]
    img = np.zeros((300, 400, 3), np.uint8)
    img[:, :200] = (200, 40, 40)
    img[:, 200:] = (40, 200, 40)
    save_bgr(store=store, key=STYLED, image=img)
    output = OutputSpec(aspect=aspect, width=size[0], height=size[1], fps=24, duration=seconds)  # type: ignore[arg-type]
    scene = Scene(index=0, photo="p.jpg", photo_index=0, image_key="analyze/p.png", start=0.0, end=seconds, beats=4,
                  move=CameraMove.push_in, focus=Box(x=0.4, y=0.3, w=0.2, h=0.3),
                  prompt="The person smiles; slow push-in. Hand-painted anime film style.")
    return ClipRequest(image_key=STYLED, scene=scene, output=output, frames=round(seconds * 24), lead_in=0.0,
                       lead_out=0.0, provider=provider, seed=seed)


def test_kling_is_asked_for_its_nearest_allowed_length_and_the_clip_is_measured(replicate_fake: ReplicateServer,
                                                                                store: LocalStore) -> None:
    result = run_clip(request=clip_request(store, provider="kling", seconds=2.5), store=store)
    [create] = replicate_fake.calls("create")
    assert create.path == "/v1/models/kwaivgi/kling-v2.1/predictions"
    inputs = create.json()["input"]
    assert inputs["duration"] == 5 and inputs["mode"] == "standard"  # 2.5 s needed; Kling makes 5 or 10
    assert result.provider == "replicate:kwaivgi/kling-v2.1"
    assert result.duration == pytest.approx(5.0, abs=0.05)  # measured from the file
    assert (result.width, result.height) == (360, 360)  # 1:1 first frame -> 1:1 clip
    assert result.cost_usd == pytest.approx(5 * KLING.price.per_second)
    with store.local_path(result.clip_key) as path:
        frame = decode_rgb_frames(path, size=(64, 64))[0].astype(int)
    # The clip starts on the styled picture framed 1:1 around the focus: its blue half left, green half right.
    left, right = frame[8:56, 4:24].mean(axis=(0, 1)), frame[8:56, 40:60].mean(axis=(0, 1))
    assert left[2] > left[1] + 80 and right[1] > right[2] + 80


def test_seedance_gets_the_shortest_length_that_needs_little_slow_motion(replicate_fake: ReplicateServer,
                                                                         store: LocalStore) -> None:
    result = run_clip(request=clip_request(store, provider="replicate:bytedance/seedance-1-pro-fast",
                                           seconds=3.4, aspect="9:16"), store=store)
    inputs = replicate_fake.calls("create")[0].json()["input"]
    assert inputs["duration"] == 3 and inputs["aspect_ratio"] == "9:16"  # 3 s for 3.4 s: 12% slow-motion
    assert result.provider == f"replicate:{SEEDANCE.model}"
    assert result.duration == pytest.approx(3.0, abs=0.05) and result.height > result.width


def test_veo_runs_as_a_long_running_operation_and_is_downloaded(gemini: GeminiServer, store: LocalStore) -> None:
    result = run_clip(request=clip_request(store, provider="veo", seconds=5.2, aspect="9:16"), store=store)
    [create] = gemini.calls("predict")
    assert create.path == f"/v1beta/models/{VEO.model}:predictLongRunning"
    body = create.json()
    assert body["parameters"]["durationSeconds"] == 6 and body["parameters"]["aspectRatio"] == "9:16"
    assert body["instances"][0]["image"]["mimeType"] == "image/jpeg"
    assert gemini.count("operation") == gemini.polls_before_done + 1
    [download] = gemini.calls("download")
    assert download.query == {"alt": ["media"]} and download.headers["x-goog-api-key"] == gemini.key
    assert result.duration == pytest.approx(6.0, abs=0.05) and (result.width, result.height) == (360, 640)
    assert result.cost_usd == pytest.approx(6 * VEO.price.per_second)


def test_sora_gets_a_reference_image_of_exactly_its_size(openai_fake: OpenAIServer, store: LocalStore) -> None:
    # 1:1 is not a Sora size: the framed picture sits in a 9:16 (or 16:9) canvas and compose crops it back.
    result = run_clip(request=clip_request(store, provider="sora", seconds=3.0, aspect="1:1"), store=store)
    form = openai_fake.calls("video_create")[0].form()
    assert form["model"][1] == b"sora-2" and form["seconds"][1] == b"4"
    assert form["size"][1] in (b"1280x720", b"720x1280")  # the fake refuses a reference of another size
    assert openai_fake.count("video_get") == openai_fake.polls_before_done + 1
    assert result.duration == pytest.approx(4.0, abs=0.05)
    assert result.cost_usd == pytest.approx(4 * SORA.price.per_second)


def test_a_download_that_is_not_a_video_is_refused_and_the_chain_renders_locally(replicate_fake: ReplicateServer,
                                                                                 store: LocalStore) -> None:
    replicate_fake.fail("create", "not_video")
    request = clip_request(store, provider="kling,local", seconds=2.0)
    result = run_clip(request=request, store=store)
    assert result.provider == "local" and result.frames == request.frames  # exact: the local renderer
    [attempt] = result.attempts
    assert attempt.provider == "replicate:kwaivgi/kling-v2.1" and attempt.kind == "bad_output"
    assert "not a decodable video" in attempt.reason
    assert attempt.cost_usd == pytest.approx(5 * KLING.price.per_second) == result.cost_usd  # billed anyway
    with store.local_path(result.clip_key) as path:
        assert probe(path).video_codec == "h264"


def test_veo_safety_filter_is_a_refusal_not_a_retry(gemini: GeminiServer, store: LocalStore) -> None:
    gemini.fail("predict", "refuse")
    with pytest.raises(ProviderRefusedError, match="policies on people"):
        run_clip(request=clip_request(store, provider="veo", seconds=2.0), store=store)
    assert gemini.count("predict") == 1 and gemini.count("download") == 0


def test_a_failed_prediction_falls_through_the_chain_with_each_reason(replicate_fake: ReplicateServer,
                                                                      gemini: GeminiServer,
                                                                      store: LocalStore) -> None:
    replicate_fake.fail("create", "refuse")
    gemini.fail("predict", Failure("429", retry_after="0"), "500")
    result = run_clip(request=clip_request(store, provider="kling,veo,local", seconds=2.0), store=store)
    assert result.provider == f"gemini:{VEO.model}"  # Veo answered after two transient errors
    assert [a.kind for a in result.attempts] == ["refused"]
    assert "E005" in result.attempts[0].reason
    assert gemini.count("predict") == 3


def test_veo_waits_the_retry_delay_of_a_429_and_fails_over_when_too_long(gemini: GeminiServer, store: LocalStore,
                                                                        provider_env: pytest.MonkeyPatch) -> None:
    gemini.fail("predict", Failure("429", retry_after="1"))  # RetryInfo retryDelay "1s", no Retry-After header
    result = run_clip(request=clip_request(store, provider="veo,local", seconds=2.0), store=store)
    first, second = gemini.calls("predict")
    assert second.started - first.started >= 1.0 and result.provider == f"gemini:{VEO.model}"

    set_env(provider_env, MOMENTLOOP_RETRY_AFTER_MAX="5")
    gemini.fail("predict", Failure("429", retry_after="45"))
    result = run_clip(request=clip_request(store, provider="veo,local", seconds=2.0, seed=1), store=store)
    assert gemini.count("predict") == 3 and result.provider == "local"
    [attempt] = result.attempts
    assert attempt.kind == "rate_limited" and "asks to wait 45 s, longer than the 5 s we wait" in attempt.reason


def test_generations_in_flight_never_exceed_the_clip_limit(replicate_fake: ReplicateServer, store: LocalStore,
                                                           provider_env: pytest.MonkeyPatch) -> None:
    set_env(provider_env, MOMENTLOOP_CLIP_CONCURRENCY="2")
    replicate_fake.polls_before_done = 4
    replicate_fake.delay("get", 0.05)
    requests = [clip_request(store, provider="kling", seconds=2.0, seed=s) for s in range(5)]
    barrier = threading.Barrier(5)

    def one(request: ClipRequest) -> float:
        barrier.wait()
        return run_clip(request=request, store=store).duration

    with ThreadPoolExecutor(max_workers=5) as pool:
        durations = list(pool.map(one, requests))
    assert len(durations) == 5 and replicate_fake.count("create") == 5
    assert replicate_fake.max_active == 2


def test_the_same_scene_is_never_paid_for_twice(replicate_fake: ReplicateServer, store: LocalStore) -> None:
    request = clip_request(store, provider="kling", seconds=2.0)
    first = run_clip(request=request, store=store)
    again = run_clip(request=request, store=store)
    assert again.clip_key == first.clip_key and replicate_fake.count("create") == 1


def test_unknown_models_are_named_with_the_choices() -> None:
    from shared.errors import OptionError

    with pytest.raises(OptionError, match=r"kwaivgi/kling-v2\.1"):
        get_provider("replicate:someone/other-model")

