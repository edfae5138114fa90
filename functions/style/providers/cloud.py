"""What the cloud style providers share: the canvas round trip, the concurrency slot, retries, the price."""

from __future__ import annotations

import logging
import time
from typing import ClassVar

import numpy as np

from functions.style.providers.canvas import Canvas, back_from_canvas, nearest_ratio, place_on_canvas, plan_canvas
from functions.style.providers.prompts import look_prompt
from shared.providers.concurrency import provider_slot
from shared.providers.downloads import decode_image
from shared.providers.fallback import Usage
from shared.providers.prices import Price
from shared.providers.retry import RetryPolicy, call_with_retry
from shared.providers.sdk.imports import preload_sdk
from shared.providers.sdk.vendors import VendorCalls
from shared.settings import get_settings

log = logging.getLogger(__name__)


class CloudStyleProvider(VendorCalls):
    """A style provider that sends the photo and a look prompt to an image-editing model.

    Subclasses say which vendor and model, which aspect ratios come back, what a call costs, and how one
    edit is made (`_edit`: canvas picture in, image bytes out, raising ProviderError families)."""

    stage = "style"
    default_model: str = ""
    ratios: ClassVar[list[str]] = ["1:1"]
    upload_side: int = 1536
    """Long side of the picture sent: larger costs upload time and buys nothing the model returns."""
    price: Price = Price()
    retries_inside: bool = False
    """True when `_edit` runs a long-running job that retries its own HTTP calls: re-running the whole edit
    on a transient failure could start (and pay for) a second generation."""

    def __init__(self, model: str | None = None) -> None:
        self.model = model or self.default_model
        self.name = f"{self.vendor}:{self.model}"
        self.usage: Usage | None = None
        preload_sdk(self.vendor)  # whole, under one lock, before any call: see shared/providers/sdk/imports.py

    def canvas_for(self, *, width: int, height: int) -> Canvas:
        ratio = nearest_ratio(width=width, height=height, ratios=self.ratios)
        return plan_canvas(width=width, height=height, ratio=ratio, max_side=self.upload_side)

    def estimate_usd(self, *, width: int, height: int) -> float:
        return self.price.cost(calls=1)

    def stylize(self, *, image: np.ndarray, look: str, seed: int) -> np.ndarray:
        settings = get_settings()
        prompt = look_prompt(look)
        h, w = image.shape[:2]
        canvas = self.canvas_for(width=w, height=h)
        picture = place_on_canvas(image=image, canvas=canvas)
        client = self._client()  # the key is resolved here, when the client is built
        started = time.perf_counter()
        policy = RetryPolicy.from_settings(settings)
        if self.retries_inside:
            policy = RetryPolicy(attempts=1)
        with provider_slot(key=f"style:{self.vendor}", limit=settings.style_concurrency):
            data = call_with_retry(
                lambda: self._edit(client=client, picture=picture, canvas=canvas, prompt=prompt, seed=seed),
                what=f"style {self.name}",
                translate=self._translate,
                policy=policy,
            )
        styled = decode_image(data=data, provider=self.name)
        out = back_from_canvas(image=styled, canvas=canvas, width=w, height=h)
        self.usage = Usage(provider=self.name, cost_usd=self.estimate_usd(width=w, height=h))
        log.info("style %s: %s in %.1f s (canvas %s %dx%d)", look, self.name, time.perf_counter() - started,
                 canvas.ratio, canvas.width, canvas.height)
        return out

    # ------------------------------------------------------------ for subclasses

    def _edit(self, *, client: object, picture: np.ndarray, canvas: Canvas, prompt: str, seed: int) -> bytes:
        raise NotImplementedError
