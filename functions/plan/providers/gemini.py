"""Gemini planning (google-genai, `gemini-2.5-flash`) answering in the JSON Schema of a pydantic model."""

from __future__ import annotations

from typing import Any

from functions.plan.providers.cloud import Answer, CloudPlanProvider, Thumbnail, repair_text
from functions.plan.providers.proposal import PlanProposal
from shared.providers.errors import ProviderOutputError, ProviderRefusedError


class GeminiPlanProvider(CloudPlanProvider):
    vendor = "gemini"

    def _ask(self, *, client: Any, instructions: str, thumbs: list[Thumbnail], repair: tuple[str, str] | None,
             seed: int) -> Answer:
        from google.genai import types

        from shared.providers.sdk.gemini import response_json_schema

        parts: list[Any] = [types.Part.from_text(text=instructions)]
        for t in thumbs:
            parts.append(types.Part.from_text(text=f"{t.photo_id}:"))
            parts.append(types.Part.from_bytes(data=t.jpeg, mime_type="image/jpeg"))
        contents = [types.Content(role="user", parts=parts)]
        if repair is not None:
            contents.append(types.Content(role="model", parts=[types.Part.from_text(text=repair[0][:4000])]))
            contents.append(types.Content(role="user", parts=[types.Part.from_text(text=repair_text(repair))]))
        response = client.models.generate_content(
            model=self.model,
            contents=contents,
            config=types.GenerateContentConfig(
                response_mime_type="application/json",
                response_json_schema=response_json_schema(PlanProposal),
                temperature=0.4,
                seed=seed % (1 << 31),
            ),
        )
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            raise ProviderRefusedError(f"prompt blocked ({feedback.block_reason})", provider=self.name)
        text = response.text
        if not text:
            reason = response.candidates[0].finish_reason if response.candidates else None
            raise ProviderOutputError(f"answer has no text (finish reason {reason})", provider=self.name)
        usage = response.usage_metadata
        return Answer(text=text, input_tokens=int(getattr(usage, "prompt_token_count", 0) or 0),
                      output_tokens=int(getattr(usage, "candidates_token_count", 0) or 0))
