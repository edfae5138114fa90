"""OpenAI planning (`gpt-4o` chat completions) with a strict JSON schema from the pydantic model."""

from __future__ import annotations

import base64
from typing import Any

from functions.plan.providers.cloud import Answer, CloudPlanProvider, Thumbnail, repair_text
from functions.plan.providers.proposal import PlanProposal
from shared.providers.errors import ProviderOutputError, ProviderRefusedError

SYSTEM = "You are a film editor who plans short, beat-synced videos from people's photos. You answer in JSON only."


def response_format() -> Any:
    # The SDK's own structured-output helper (what chat.completions.parse uses); we parse the text ourselves so
    # that a bad answer can be shown back to the model for one repair attempt.
    from openai.lib._parsing._completions import type_to_response_format_param

    return type_to_response_format_param(PlanProposal)


class OpenAIPlanProvider(CloudPlanProvider):
    vendor = "openai"

    def _ask(self, *, client: Any, instructions: str, thumbs: list[Thumbnail], repair: tuple[str, str] | None,
             seed: int) -> Answer:
        content: list[dict[str, Any]] = [{"type": "text", "text": instructions}]
        for t in thumbs:
            url = "data:image/jpeg;base64," + base64.b64encode(t.jpeg).decode("ascii")
            content.append({"type": "text", "text": f"{t.photo_id}:"})
            content.append({"type": "image_url", "image_url": {"url": url, "detail": "low"}})
        messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": content}]
        if repair is not None:
            messages.append({"role": "assistant", "content": repair[0][:4000]})
            messages.append({"role": "user", "content": repair_text(repair)})
        completion = client.chat.completions.create(
            model=self.model, messages=messages, response_format=response_format(), temperature=0.4,
            seed=seed % (1 << 31),
        )
        if not completion.choices:
            raise ProviderOutputError("answer has no choice", provider=self.name)
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            raise ProviderRefusedError(f"refused: {message.refusal}", provider=self.name)
        if completion.choices[0].finish_reason == "content_filter":
            raise ProviderRefusedError("answer stopped by the content filter", provider=self.name)
        usage = completion.usage
        return Answer(text=message.content or "",
                      input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                      output_tokens=int(getattr(usage, "completion_tokens", 0) or 0))
