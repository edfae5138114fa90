"""replicate: the Replicate client, pointed at REPLICATE_BASE_URL when set, and predictions run to the end.

A prediction is created (POST), then polled (GET) until it succeeds, fails or is canceled; each HTTP call
is retried on its own for transient failures, while the generation as a whole has one deadline."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from shared.providers.errors import ProviderError, ProviderOutputError, ProviderRefusedError
from shared.providers.keys import provider_keys, require_key
from shared.providers.polling import poll_until_done
from shared.providers.retry import RetryPolicy, call_with_retry, parse_retry_after
from shared.providers.sdk.http_errors import from_status, from_transport, looks_like_refusal
from shared.providers.sdk.imports import import_sdk
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

_last_answer = threading.local()
"""Retry-After of the last error answer this thread received: ReplicateError keeps the status, not the headers."""


def _remember_retry_after(response: Any) -> None:
    _last_answer.retry_after = parse_retry_after(response.headers) if response.status_code >= 400 else None


def replicate_client(*, settings: Settings | None = None, chosen_for: str = "") -> Any:
    import_sdk("replicate")
    import httpx
    import replicate

    s = settings or get_settings()
    token = require_key("replicate", chosen_for=chosen_for)
    timeout = httpx.Timeout(s.provider_timeout, connect=min(10.0, s.provider_timeout))
    client = replicate.Client(api_token=token, base_url=provider_keys().base_url("replicate"), timeout=timeout,
                              event_hooks={"response": [_remember_retry_after]})
    # The SDK wraps its transport in a RetryTransport that retries GETs on 429/503/504 up to 10 times.
    # shared/providers/retry.py is our one retry policy (and what tests count), so that inner loop is set to one try.
    transport: Any = getattr(client._client, "_transport", None)
    if transport is not None and hasattr(transport, "max_attempts"):
        transport.max_attempts = 1
    return client


def translate_replicate_error(exc: Exception, *, provider: str) -> ProviderError | None:
    from replicate.exceptions import ModelError, ReplicateError

    if isinstance(exc, ReplicateError):
        status = int(exc.status or 0)
        message = exc.detail or exc.title or "no detail"
        return from_status(provider=provider, status=status, message=message,
                           retry_after=getattr(_last_answer, "retry_after", None))
    if isinstance(exc, ModelError):
        return prediction_failure(error=str(exc), provider=provider)
    if exc.__class__.__name__ == "JSONDecodeError":
        return ProviderOutputError("answer is not valid JSON", provider=provider)
    return from_transport(provider=provider, exc=exc)


def prediction_failure(*, error: object, provider: str) -> ProviderError:
    text = str(error or "prediction failed without a message")
    if looks_like_refusal(text):
        return ProviderRefusedError(f"refused by the content policy: {text}", provider=provider)
    return ProviderError(f"prediction failed: {text}", provider=provider, kind="failed")


def run_prediction(
    *,
    client: Any,
    model: str,
    inputs: dict[str, Any],
    provider: str,
    settings: Settings | None = None,
    on_poll: Callable[[str, float | None], None] | None = None,
) -> Any:
    """Create a prediction of `model` (an official model, "owner/name", or "owner/name:version") and poll
    it until it ends. Returns the succeeded Prediction; a failed or canceled one raises ProviderError."""
    s = settings or get_settings()
    policy = RetryPolicy.from_settings(s)

    def translate(exc: Exception) -> ProviderError | None:
        return translate_replicate_error(exc, provider=provider)

    owner_name, _, version = model.partition(":")

    def create() -> Any:
        if version:
            return client.predictions.create(version=version, input=inputs, file_encoding_strategy="base64")
        return client.models.predictions.create(model=owner_name, input=inputs, file_encoding_strategy="base64")

    prediction = call_with_retry(create, what=f"{provider} create", translate=translate, policy=policy)

    def polled(state: Any, _: int) -> None:
        if on_poll is not None:
            progress = state.progress
            on_poll(state.status, progress.percentage if progress else None)

    def give_up(state: Any) -> str:
        _cancel(client=client, prediction=state)
        return "canceled"

    prediction = poll_until_done(
        prediction, done=lambda p: p.status in ("succeeded", "failed", "canceled"),
        fetch=lambda p: client.predictions.get(p.id), named=lambda p: f"prediction {p.id}", provider=provider,
        settings=s, translate=translate, polled=polled, give_up=give_up,
    )
    if prediction.status == "failed":
        raise prediction_failure(error=prediction.error, provider=provider)
    if prediction.status == "canceled":
        raise ProviderError("prediction was canceled", provider=provider, kind="failed")
    if prediction.output is None:
        raise ProviderOutputError("prediction succeeded without an output", provider=provider)
    return prediction


def _cancel(*, client: Any, prediction: Any) -> None:
    try:
        client.predictions.cancel(prediction.id)
    except Exception as exc:  # the generation is abandoned either way; a failed cancel is only logged
        log.warning("could not cancel prediction %s: %s", prediction.id, exc.__class__.__name__)


def output_url(output: Any, *, provider: str) -> str:
    """The first URL of a prediction's output (a string, a list of strings, or a FileOutput)."""
    item = output[0] if isinstance(output, list) and output else output
    url = getattr(item, "url", item)
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "data:")):
        raise ProviderOutputError(f"output is not a file URL ({type(item).__name__})", provider=provider)
    return url

