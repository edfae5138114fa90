"""google-genai: the Gemini Developer API client, pointed at GEMINI_BASE_URL when set."""

from __future__ import annotations

from typing import Any

from shared.cloud.http_errors import from_status, from_transport
from shared.provider_errors import ProviderError, ProviderInputError, ProviderOutputError
from shared.provider_settings import provider_keys, require_key
from shared.retry import parse_retry_after
from shared.settings import Settings, get_settings

API_VERSION = "v1beta"
"""The Gemini API's version that serves image output and Veo's predictLongRunning."""


def gemini_client(*, settings: Settings | None = None, chosen_for: str = "") -> Any:
    """A genai.Client with our timeout and no retry loop of its own (shared/retry.py decides)."""
    from google import genai
    from google.genai import types

    s = settings or get_settings()
    key = require_key("gemini", chosen_for=chosen_for)
    options = types.HttpOptions(
        base_url=provider_keys().base_url("gemini"),
        api_version=API_VERSION,
        timeout=max(1, round(s.provider_timeout * 1000)),
        retry_options=None,
    )
    return genai.Client(api_key=key, http_options=options)


def translate_gemini_error(exc: Exception, *, provider: str) -> ProviderError | None:
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        status = int(exc.code or 0)
        headers = getattr(exc.response, "headers", None)
        message = exc.message or exc.status or "no message"
        return from_status(provider=provider, status=status, message=str(message),
                           retry_after=parse_retry_after(headers), refusal_hint=exc.status)
    if isinstance(exc, ValueError) and "not in Gemini Developer API mode" in str(exc):
        # google-genai 3.x dropped Veo (generate_videos) for the Gemini Developer API; 2.x has it.
        return ProviderInputError("this google-genai version cannot call this model on the Gemini API",
                                  provider=provider, hint="install google-genai<3 (2.34 is tested)")
    if isinstance(exc, errors.UnknownApiResponseError) or exc.__class__.__name__ == "JSONDecodeError":
        return ProviderOutputError(f"answer is not valid JSON ({exc.__class__.__name__})", provider=provider)
    return from_transport(provider=provider, exc=exc)
