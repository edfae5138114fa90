"""Cloud style providers against fake servers that speak each provider's real REST API, driven by the
official SDKs (google-genai, openai, replicate) unmodified, pointed at the fakes by their base-URL
variables. What is checked is what a user would see: the styled picture (measured), the calls the
provider really received (counted at the server), and the reasons kept on the result."""

from __future__ import annotations

import base64
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fakes.env import set_env
from fakes.gemini_server import GeminiServer
from fakes.http import Failure
from fakes.openai_server import OpenAIServer
from fakes.replicate_server import ReplicateServer

from functions.style import run_style
from functions.style.providers import get_provider
from shared.media.pictures import load_bgr, save_bgr
from shared.models.render import StyleRequest
from shared.providers.errors import (
    ProviderInputError,
    ProviderOutputError,
    ProviderRefusedError,
    ProviderTransientError,
)
from shared.providers.keys import MissingKeyError
from shared.store import LocalStore

pytest_plugins = ["fakes.fixtures"]


def photo(width: int = 480, height: int = 360) -> np.ndarray:
    """Four flat quadrants and a diagonal ramp: any misalignment of the round trip shows in the pixels."""
    img = np.zeros((height, width, 3), np.uint8)
    img[: height // 2, : width // 2] = (20, 40, 200)
    img[: height // 2, width // 2 :] = (200, 60, 30)
    img[height // 2 :, : width // 2] = (40, 180, 60)
    img[height // 2 :, width // 2 :] = (230, 230, 230)
    return img


def styled_like_inverse(out: np.ndarray, src: np.ndarray) -> float:
    """Mean absolute difference (0-255) between `out` and the inverted source, away from quadrant edges."""
    h, w = src.shape[:2]
    inner = np.ones((h, w), bool)
    inner[h // 2 - 12 : h // 2 + 12, :] = False
    inner[:, w // 2 - 12 : w // 2 + 12] = False
    inner[:12, :] = inner[-12:, :] = False
    inner[:, :12] = inner[:, -12:] = False
    return float(np.abs(out.astype(int) - (255 - src.astype(int)))[inner].mean())


def stylize(store: LocalStore, provider: str, image: np.ndarray | None = None, seed: int = 0) -> tuple:
    src = photo() if image is None else image
    save_bgr(store=store, key="analyze/p/photo.png", image=src)
    result = run_style(request=StyleRequest(image_key="analyze/p/photo.png", look="ghibli", provider=provider,
                                            seed=seed), store=store)
    return result, src, load_bgr(store=store, key=result.image_key)


# ------------------------------------------------------------------ success paths, one per provider

def test_gemini_edits_the_photo_and_it_comes_back_aligned_at_the_photo_size(gemini: GeminiServer,
                                                                             store: LocalStore) -> None:
    result, src, out = stylize(store, "gemini")
    assert out.shape == src.shape
    assert styled_like_inverse(out, src) < 12  # the model's picture, cropped back exactly where the photo sat
    assert result.provider == "gemini:gemini-2.5-flash-image" and result.cost_usd == pytest.approx(0.039)
    [call] = gemini.calls("generate")
    assert call.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert call.headers["x-goog-api-key"] == gemini.key
    body = call.json()
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert body["generationConfig"]["imageConfig"]["aspectRatio"] == "4:3"  # the photo's own shape
    text = " ".join(p.get("text", "") for p in body["contents"][0]["parts"])
    assert "recognisable faces" in text and "composition" in text


def test_openai_pads_to_a_size_it_offers_and_crops_back(openai_fake: OpenAIServer, store: LocalStore) -> None:
    result, src, out = stylize(store, "openai")
    assert out.shape == src.shape
    assert styled_like_inverse(out, src) < 12
    [call] = openai_fake.calls("edit")
    assert call.headers["authorization"] == f"Bearer {openai_fake.key}"
    form = call.form()
    assert form["model"][1] == b"gpt-image-1" and form["size"][1] == b"1536x1024"  # 4:3 photo -> 3:2 canvas
    sent = form["image"][1]
    assert sent[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.provider == "openai:gpt-image-1" and result.cost_usd > 0


def test_replicate_runs_flux_kontext_as_a_polled_prediction(replicate_fake: ReplicateServer,
                                                            store: LocalStore) -> None:
    result, src, out = stylize(store, "replicate")
    assert out.shape == src.shape
    assert styled_like_inverse(out, src) < 12
    [create] = replicate_fake.calls("create")
    assert create.path == "/v1/models/black-forest-labs/flux-kontext-pro/predictions"
    assert create.headers["authorization"] == f"Bearer {replicate_fake.key}"
    inputs = create.json()["input"]
    assert inputs["input_image"].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(inputs["input_image"].split(",", 1)[1])[:2] == b"\xff\xd8"
    assert replicate_fake.count("get") == replicate_fake.polls_before_done + 1
    assert replicate_fake.count("file") == 1
    assert result.provider == "replicate:black-forest-labs/flux-kontext-pro"


# ------------------------------------------------------------------ retries: exactly for transient failures

def test_a_429_is_retried_after_the_wait_the_server_asked_for(gemini: GeminiServer) -> None:
    gemini.fail("generate", Failure("429", retry_after="1"))  # Gemini's way: RetryInfo retryDelay "1s" in the body
    out = get_provider("gemini").stylize(image=photo(), look="lego", seed=0)
    calls = gemini.calls("generate")
    assert len(calls) == 2 and out.shape == (360, 480, 3)
    assert calls[1].started - calls[0].started >= 1.0  # the delay honoured (the backoff alone is ~10 ms)


def test_a_429_asking_for_more_than_the_cap_is_not_waited_for(gemini: GeminiServer, store: LocalStore,
                                                              provider_env: pytest.MonkeyPatch) -> None:
    set_env(provider_env, MOMENTLOOP_RETRY_AFTER_MAX="5")
    gemini.fail("generate", Failure("429", retry_after="60"))
    started = time.monotonic()
    result, _, _ = stylize(store, "gemini,local")
    assert time.monotonic() - started < 5 and gemini.count("generate") == 1
    assert result.provider == "local"
    [attempt] = result.attempts
    assert attempt.kind == "rate_limited" and "asks to wait 60 s, longer than the 5 s we wait" in attempt.reason


def test_server_errors_and_timeouts_are_retried_then_give_up(gemini: GeminiServer,
                                                             provider_env: pytest.MonkeyPatch) -> None:
    gemini.fail("generate", "500", "timeout")
    set_env(provider_env, MOMENTLOOP_PROVIDER_TIMEOUT="0.6")
    gemini.hang_seconds = 1.5
    get_provider("gemini").stylize(image=photo(), look="lego", seed=0)
    assert gemini.count("generate") == 3  # 500, timeout, success

    gemini.fail("generate", "503", "503", "503")
    with pytest.raises(ProviderTransientError, match="HTTP 503"):
        get_provider("gemini").stylize(image=photo(), look="lego", seed=0)
    assert gemini.count("generate") == 3 + 3  # MOMENTLOOP_PROVIDER_ATTEMPTS=3, then it stops


@pytest.mark.parametrize(
    ("failure", "error"),
    [("refuse", ProviderRefusedError), ("bad_input", ProviderInputError), ("malformed", ProviderOutputError)],
)
def test_refusals_bad_input_and_malformed_answers_are_never_retried(gemini: GeminiServer, failure: str,
                                                                    error: type[Exception]) -> None:
    gemini.fail("generate", failure)
    with pytest.raises(error):
        get_provider("gemini").stylize(image=photo(), look="comic", seed=0)
    assert gemini.count("generate") == 1


def test_openai_content_policy_refusal_is_not_retried(openai_fake: OpenAIServer) -> None:
    openai_fake.fail("edit", "refuse")
    with pytest.raises(ProviderRefusedError, match="moderation_blocked"):
        get_provider("openai").stylize(image=photo(), look="comic", seed=0)
    assert openai_fake.count("edit") == 1


def test_replicate_flagged_prediction_is_a_refusal(replicate_fake: ReplicateServer) -> None:
    replicate_fake.fail("create", "refuse")
    with pytest.raises(ProviderRefusedError, match="E005"):
        get_provider("replicate").stylize(image=photo(), look="comic", seed=0)
    assert replicate_fake.count("create") == 1
    assert replicate_fake.count("file") == 0


# ------------------------------------------------------------------ fallback, keys, concurrency

def test_a_refused_photo_falls_back_to_the_local_look_and_the_reason_is_kept(gemini: GeminiServer,
                                                                             store: LocalStore) -> None:
    gemini.fail("generate", "refuse")
    result, src, out = stylize(store, "gemini,local")
    assert result.provider == "local" and result.cost_usd == 0
    [attempt] = result.attempts
    assert attempt.provider == "gemini:gemini-2.5-flash-image" and attempt.kind == "refused"
    assert "IMAGE_SAFETY" in attempt.reason
    assert styled_like_inverse(out, src) > 60  # painted locally, not the model's (inverted) picture
    assert gemini.count("generate") == 1


def test_a_missing_key_names_its_variable(provider_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingKeyError, match="REPLICATE_API_TOKEN") as info:
        get_provider("replicate").stylize(image=photo(), look="lego", seed=0)
    assert info.value.hint and "local" in info.value.hint


def test_a_key_echoed_by_the_server_never_reaches_the_error(gemini: GeminiServer,
                                                            provider_env: pytest.MonkeyPatch) -> None:
    set_env(provider_env, GEMINI_API_KEY="wrong-key-abcdef123456")
    with pytest.raises(ProviderInputError) as info:
        get_provider("gemini").stylize(image=photo(), look="lego", seed=0)
    assert info.value.kind == "auth" and gemini.count("generate") == 1
    # The fake's 403 says "API key not valid"; the key itself must not appear in anything we show.
    assert "wrong-key-abcdef123456" not in str(info.value)


def test_no_more_than_the_style_limit_of_calls_are_in_flight(gemini: GeminiServer,
                                                             provider_env: pytest.MonkeyPatch) -> None:
    set_env(provider_env, MOMENTLOOP_STYLE_CONCURRENCY="3")
    gemini.delay("generate", 0.15)
    image = photo(160, 120)
    started = threading.Barrier(8)

    def one(seed: int) -> tuple[int, ...]:
        started.wait()
        return get_provider("gemini").stylize(image=image, look="sketch", seed=seed).shape

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        shapes = list(pool.map(one, range(8)))
    assert shapes == [(120, 160, 3)] * 8
    assert gemini.max_in_flight["generate"] == 3
    assert time.perf_counter() - t0 >= 3 * 0.15  # 8 calls, 3 at a time: at least three rounds
