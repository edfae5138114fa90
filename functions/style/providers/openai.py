"""OpenAI image editing (`gpt-image-1` via images.edit): the photo and the look prompt in, a PNG back."""

from __future__ import annotations

import base64
import io
from typing import Any, ClassVar

import numpy as np

from functions.style.providers.canvas import Canvas, encode_png
from functions.style.providers.cloud import CloudStyleProvider
from shared.providers.errors import ProviderOutputError
from shared.providers.prices import Price

SIZES = {"1:1": "1024x1024", "3:2": "1536x1024", "2:3": "1024x1536"}
QUALITY = "medium"


class OpenAIStyleProvider(CloudStyleProvider):
    vendor = "openai"
    default_model = "gpt-image-1"
    ratios: ClassVar[list[str]] = list(SIZES)
    upload_side = 1536
    # Medium quality: $0.042 (1024x1024) or $0.063 (1536x1024) of output, plus ~$0.01 of image input tokens.
    price = Price(per_call=0.073, source="OpenAI pricing for gpt-image-1, medium quality, 1536px (2025)")
    square_price = Price(per_call=0.052, source="OpenAI pricing for gpt-image-1, medium quality, 1024px (2025)")

    def estimate_usd(self, *, width: int, height: int) -> float:
        canvas = self.canvas_for(width=width, height=height)
        return (self.square_price if canvas.ratio == "1:1" else self.price).cost(calls=1)

    def _edit(self, *, client: Any, picture: np.ndarray, canvas: Canvas, prompt: str, seed: int) -> bytes:
        upload = io.BytesIO(encode_png(picture))
        upload.name = "photo.png"
        result = client.images.edit(
            model=self.model,
            image=upload,
            prompt=prompt,
            size=SIZES[canvas.ratio],
            quality=QUALITY,
            input_fidelity="high",
            n=1,
        )
        data = getattr(result, "data", None) or []
        b64 = getattr(data[0], "b64_json", None) if data else None
        if not b64:
            raise ProviderOutputError("answer has no image data", provider=self.name)
        try:
            return base64.b64decode(b64, validate=True)
        except ValueError:
            raise ProviderOutputError("image data is not base64", provider=self.name) from None
