"""Replicate image editing (`black-forest-labs/flux-kontext-pro`): the photo as a data URI and the look
prompt in, a prediction polled to its end, the picture downloaded."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from functions.style.providers.canvas import Canvas, encode_jpeg
from functions.style.providers.cloud import CloudStyleProvider
from shared.providers.downloads import download_output
from shared.providers.prices import Price
from shared.settings import get_settings


class ReplicateStyleProvider(CloudStyleProvider):
    vendor = "replicate"
    default_model = "black-forest-labs/flux-kontext-pro"
    # The model's aspect_ratio choices; the canvas is padded to the nearest one, so little is ever padded.
    ratios: ClassVar[list[str]] = ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "4:5", "5:4", "21:9", "9:21",
                                   "2:1", "1:2"]
    retries_inside = True
    price = Price(per_call=0.04, source="Replicate pricing for flux-kontext-pro, per output image (2025)")

    def _edit(self, *, client: Any, picture: np.ndarray, canvas: Canvas, prompt: str, seed: int) -> bytes:
        from shared.providers.sdk.replicate import output_url, run_prediction

        settings = get_settings()
        data_uri = "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(picture)).decode("ascii")
        prediction = run_prediction(
            client=client,
            model=self.model,
            inputs={
                "prompt": prompt,
                "input_image": data_uri,
                "aspect_ratio": canvas.ratio,
                "output_format": "png",
                "safety_tolerance": 2,
                "seed": seed % (1 << 31),
            },
            provider=self.name,
            settings=settings,
        )
        url = output_url(prediction.output, provider=self.name)
        with tempfile.TemporaryDirectory(prefix="ml-style-") as tmp:
            dest = Path(tmp) / "styled"
            download_output(url=url, dest=dest, provider=self.name, settings=settings)
            return dest.read_bytes()
