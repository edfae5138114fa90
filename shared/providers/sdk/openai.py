"""openai: the OpenAI client, pointed at OPENAI_BASE_URL when set."""

from __future__ import annotations

from typing import Any

from shared.providers.errors import ProviderError, ProviderOutputError, ProviderRefusedError
from shared.providers.keys import provider_keys, require_key
from shared.providers.retry import parse_retry_after
from shared.providers.sdk.http_errors import from_status, from_transport
from shared.providers.sdk.imports import import_sdk
from shared.settings import Settings, get_settings

REFUSAL_CODES = ("content_policy_violation", "moderation_blocked", "safety_violation")


def openai_client(*, settings: Settings | None = None, chosen_for: str = "") -> Any:
    """An OpenAI client with our timeout and `max_retries=0`: shared/providers/retry.py is the only retry loop."""
    import_sdk("openai")
    import openai

    s = settings or get_settings()
    key = require_key("openai", chosen_for=chosen_for)
    base = provider_keys().base_url("openai")
    return openai.OpenAI(api_key=key, base_url=base, timeout=s.provider_timeout, max_retries=0)


def _error_fields(body: object) -> tuple[str | None, str | None]:
    """(code, message) of an OpenAI error body, which is {"error": {...}} or the inner object itself."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return (str(inner["code"]) if inner.get("code") else None,
                    str(inner["message"]) if inner.get("message") else None)
    return None, None


def translate_openai_error(exc: Exception, *, provider: str) -> ProviderError | None:
    import openai

    if isinstance(exc, openai.APIStatusError):
        code, message = _error_fields(exc.body)
        text = message or exc.message or "no message"
        if code in REFUSAL_CODES:
            return ProviderRefusedError(f"refused by the content policy ({code}): {text}", provider=provider,
                                        status=exc.status_code)
        return from_status(provider=provider, status=exc.status_code, message=text,
                           retry_after=parse_retry_after(exc.response.headers), refusal_hint=code)
    if isinstance(exc, openai.APITimeoutError):
        return from_transport(provider=provider, exc=TimeoutError())
    if isinstance(exc, openai.APIConnectionError):
        return from_transport(provider=provider, exc=ConnectionError())
    if isinstance(exc, openai.APIResponseValidationError) or exc.__class__.__name__ in (
        "JSONDecodeError", "LengthFinishReasonError", "ContentFilterFinishReasonError"
    ):
        if exc.__class__.__name__ == "ContentFilterFinishReasonError":
            return ProviderRefusedError("answer stopped by the content filter", provider=provider)
        return ProviderOutputError(f"answer is unusable ({exc.__class__.__name__})", provider=provider)
    return from_transport(provider=provider, exc=exc)
