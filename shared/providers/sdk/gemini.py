"""google-genai: the Gemini Developer API client, pointed at GEMINI_BASE_URL when set; what it is sent as a
response schema; and its errors, with the wait a 429 asks for."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from shared.providers.errors import ProviderError, ProviderInputError, ProviderOutputError
from shared.providers.keys import provider_keys, require_key
from shared.providers.retry import parse_retry_after
from shared.providers.sdk.http_errors import from_status, from_transport
from shared.providers.sdk.imports import import_sdk
from shared.settings import Settings, get_settings

API_VERSION = "v1beta"
"""The Gemini API's version that serves image output and Veo's predictLongRunning."""

RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)s\s*$")

JSON_SCHEMA_KEYWORDS = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items", "prefixItems",
    "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties", "additionalProperties",
    "required", "propertyOrdering",
})
"""What `generationConfig.responseJsonSchema` honours (the API reference's list); the API ignores the rest."""


def gemini_client(*, settings: Settings | None = None, chosen_for: str = "") -> Any:
    """A genai.Client with our timeout and no retry loop of its own (shared/providers/retry.py decides)."""
    import_sdk("gemini")
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


def response_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON Schema as `generationConfig.responseJsonSchema` takes it.

    Not `responseSchema`: that field is an OpenAPI-subset Schema message with no additionalProperties, and
    google-genai copies a pydantic model's `additionalProperties: false` (extra="forbid") into it, which
    the API refuses with 400 INVALID_ARGUMENT (Unknown name "additional_properties"). responseJsonSchema
    takes JSON Schema, additionalProperties included, but a `$ref` there may have no sibling keywords,
    and pydantic writes a field's description beside its `$ref`: references are inlined instead."""
    schema = model.model_json_schema()
    definitions: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.removeprefix("#/$defs/")
            if name in seen:
                raise ValueError(f"{model.__name__} is recursive ({' -> '.join((*seen, name))}): not inlinable")
            seen = (*seen, name)
            node = {**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in JSON_SCHEMA_KEYWORDS:
                continue
            out[key] = ({field: inline(sub, seen) for field, sub in value.items()} if key == "properties"
                        else inline(value, seen))
        if "properties" in out:
            out["propertyOrdering"] = list(out["properties"])  # answers in the order the model declares
        return out

    result: dict[str, Any] = inline(schema)
    return result


def retry_delay(body: object) -> float | None:
    """Seconds of the `google.rpc.RetryInfo` detail of a Google error body ({"error": {"details": [...]}}).

    Gemini's 429 carries its wait there (retryDelay, a protobuf Duration such as "37s"), not in a
    Retry-After header. None when the body has none."""
    error = body.get("error", body) if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == RETRY_INFO:
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def translate_gemini_error(exc: Exception, *, provider: str) -> ProviderError | None:
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        status = int(exc.code or 0)
        headers = getattr(exc.response, "headers", None)
        message = exc.message or exc.status or "no message"
        wait = retry_delay(exc.details)
        return from_status(provider=provider, status=status, message=str(message),
                           retry_after=wait if wait is not None else parse_retry_after(headers),
                           refusal_hint=exc.status)
    if isinstance(exc, ValueError) and "not in Gemini Developer API mode" in str(exc):
        # google-genai 3.x dropped Veo (generate_videos) for the Gemini Developer API; 2.x has it.
        return ProviderInputError("this google-genai version cannot call this model on the Gemini API",
                                  provider=provider, hint="install google-genai<3 (2.34 is tested)")
    if isinstance(exc, errors.UnknownApiResponseError) or exc.__class__.__name__ == "JSONDecodeError":
        return ProviderOutputError(f"answer is not valid JSON ({exc.__class__.__name__})", provider=provider)
    return from_transport(provider=provider, exc=exc)
