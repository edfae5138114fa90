"""Replicate video models: Kling v2.1 (`kwaivgi/kling-v2.1`) and Seedance 1 Pro Fast
(`bytedance/seedance-1-pro-fast`), image to video, as predictions polled to their end."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from functions.clips.providers.cloud import NEGATIVE_PROMPT, CloudClipProvider, Generation
from functions.clips.providers.video_models import KLING
from shared.progress import Reporter
from shared.providers.downloads import download_output
from shared.settings import Settings


class ReplicateClipProvider(CloudClipProvider):
    vendor = "replicate"

    def inputs(self, job: Generation) -> dict[str, Any]:
        image = "data:image/jpeg;base64," + base64.b64encode(job.first_frame).decode("ascii")
        if self.spec.model == KLING.model:
            return {"prompt": job.prompt, "start_image": image, "duration": int(job.seconds), "mode": "standard",
                    "negative_prompt": NEGATIVE_PROMPT}
        return {"prompt": job.prompt, "image": image, "duration": int(job.seconds), "resolution": self.spec.resolution,
                "aspect_ratio": job.aspect, "fps": self.spec.fps, "camera_fixed": False, "seed": job.seed % (1 << 31)}

    def _generate(self, *, client: Any, job: Generation, dest: Path, settings: Settings, report: Reporter) -> None:
        from shared.providers.sdk.replicate import output_url, run_prediction

        def on_poll(status: str, progress: float | None) -> None:
            pct = 5 + 80 * progress if progress is not None else 10
            report(percent=pct, message=f"{self.name}: {status}")

        prediction = run_prediction(client=client, model=self.spec.model, inputs=self.inputs(job),
                                    provider=self.name, settings=settings, on_poll=on_poll)
        url = output_url(prediction.output, provider=self.name)
        report(percent=90, message=f"{self.name}: downloading")
        download_output(url=url, dest=dest, provider=self.name, settings=settings)
