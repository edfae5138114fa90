"""Gemini image editing (google-genai, `gemini-2.5-flash-image`): the photo and the look prompt in, the
edited picture back as inline image data."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from functions.style.providers.canvas import Canvas, encode_jpeg
from functions.style.providers.cloud import CloudStyleProvider
from shared.providers.errors import ProviderOutputError, ProviderRefusedError
from shared.providers.prices import Price

REFUSAL_REASONS = {"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII",
                   "RECITATION", "IMAGE_RECITATION", "OTHER", "IMAGE_OTHER"}


class GeminiStyleProvider(CloudStyleProvider):
    vendor = "gemini"
    default_model = "gemini-2.5-flash-image"
    ratios: ClassVar[list[str]] = ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
    price = Price(per_call=0.039, source="Gemini API pricing: 1290 output tokens per image at $30/M (2025)")

    def _edit(self, *, client: Any, picture: np.ndarray, canvas: Canvas, prompt: str, seed: int) -> bytes:
        from google.genai import types

        response = client.models.generate_content(
            model=self.model,
            contents=[
                types.Part.from_bytes(data=encode_jpeg(picture), mime_type="image/jpeg"),
                prompt,
            ],
            config=types.GenerateContentConfig(
                response_modalities=["IMAGE"],
                image_config=types.ImageConfig(aspect_ratio=canvas.ratio),
                seed=seed % (1 << 31),
            ),
        )
        return image_from_response(response, provider=self.name)


def image_from_response(response: Any, *, provider: str) -> bytes:
    """The first inline image of a generateContent answer; a blocked prompt or a filtered image is a refusal."""
    feedback = getattr(response, "prompt_feedback", None)
    if feedback is not None and getattr(feedback, "block_reason", None):
        raise ProviderRefusedError(f"prompt blocked ({_enum_name(feedback.block_reason)})", provider=provider)
    candidates = getattr(response, "candidates", None) or []
    if not candidates:
        raise ProviderOutputError("answer has no candidate", provider=provider)
    for candidate in candidates:
        content = getattr(candidate, "content", None)
        for part in (getattr(content, "parts", None) or []):
            inline = getattr(part, "inline_data", None)
            if inline is not None and inline.data and (inline.mime_type or "").startswith("image/"):
                return bytes(inline.data)
    reason = _enum_name(getattr(candidates[0], "finish_reason", None))
    if reason in REFUSAL_REASONS:
        raise ProviderRefusedError(f"no image: finished with {reason}", provider=provider)
    raise ProviderOutputError(f"answer has no image (finish reason {reason or 'none'})", provider=provider)


def _enum_name(value: object) -> str:
    return str(getattr(value, "name", value) or "")
