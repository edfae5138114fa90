"""Veo 3.1 through the Gemini API (google-genai): the first frame and the prompt start a long-running
operation, polled until done; the video is streamed to disk with files.download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions.clips.providers.cloud import NEGATIVE_PROMPT, CloudClipProvider, Generation
from shared.progress import Reporter
from shared.providers.errors import ProviderError, ProviderOutputError, ProviderRefusedError
from shared.providers.polling import poll_until_done
from shared.providers.retry import RetryPolicy, call_with_retry
from shared.settings import Settings


class GeminiClipProvider(CloudClipProvider):
    vendor = "gemini"

    def _generate(self, *, client: Any, job: Generation, dest: Path, settings: Settings, report: Reporter) -> None:
        from google.genai import types

        policy = RetryPolicy.from_settings(settings)
        source = types.GenerateVideosSource(
            prompt=job.prompt, image=types.Image(image_bytes=job.first_frame, mime_type="image/jpeg")
        )
        config = types.GenerateVideosConfig(
            aspect_ratio=job.aspect, duration_seconds=int(job.seconds), resolution=self.spec.resolution,
            number_of_videos=1, negative_prompt=NEGATIVE_PROMPT,
        )
        operation = call_with_retry(
            lambda: client.models.generate_videos(model=self.spec.model, source=source, config=config),
            what=f"{self.name} create", translate=self._translate, policy=policy,
        )
        operation = poll_until_done(
            operation, done=lambda op: bool(op.done), fetch=client.operations.get,
            named=lambda op: f"operation {op.name}", provider=self.name, settings=settings, translate=self._translate,
            polled=lambda op, polls: report(percent=min(85.0, 5 + 5 * polls), message=f"{self.name}: generating"),
        )
        if operation.error:
            message = operation.error.get("message", operation.error) if isinstance(operation.error, dict) \
                else operation.error
            raise ProviderError(f"operation failed: {message}", provider=self.name, kind="failed")
        response = operation.response or operation.result
        if response is not None and (response.rai_media_filtered_count or 0) > 0:
            reasons = "; ".join(response.rai_media_filtered_reasons or []) or "no reason given"
            raise ProviderRefusedError(f"video filtered by the safety system: {reasons}", provider=self.name)
        videos = (response.generated_videos or []) if response is not None else []
        if not videos or videos[0].video is None:
            raise ProviderOutputError("operation finished without a video", provider=self.name)
        video = videos[0].video
        report(percent=90, message=f"{self.name}: downloading")
        call_with_retry(lambda: client.files.download(file=video, destination=str(dest)),
                        what=f"{self.name} download", translate=self._translate, policy=policy)
