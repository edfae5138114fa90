"""Sora 2 through the OpenAI API (videos.create with an input_reference image the exact size of the video),
retrieved until completed, the content streamed to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from functions.clips.providers.cloud import CloudClipProvider, Generation
from shared.progress import Reporter
from shared.providers.errors import ProviderError, ProviderRefusedError
from shared.providers.polling import poll_until_done
from shared.providers.retry import RetryPolicy, call_with_retry
from shared.providers.sdk.http_errors import looks_like_refusal
from shared.settings import Settings


class OpenAIClipProvider(CloudClipProvider):
    vendor = "openai"

    def _generate(self, *, client: Any, job: Generation, dest: Path, settings: Settings, report: Reporter) -> None:
        policy = RetryPolicy.from_settings(settings)
        w, h = job.size
        video = call_with_retry(
            lambda: client.videos.create(
                model=self.spec.model, prompt=job.prompt, seconds=str(int(job.seconds)), size=f"{w}x{h}",
                input_reference=("first_frame.jpg", job.first_frame, "image/jpeg"),
            ),
            what=f"{self.name} create", translate=self._translate, policy=policy,
        )
        video = poll_until_done(
            video, done=lambda v: v.status not in ("queued", "in_progress"),
            fetch=lambda v: client.videos.retrieve(v.id), named=lambda v: f"video {v.id}", provider=self.name,
            settings=settings, translate=self._translate,
            polled=lambda v, _: report(percent=5 + 0.8 * float(v.progress or 0), message=f"{self.name}: {v.status}"),
        )
        if video.status != "completed":
            error = getattr(video, "error", None)
            code, message = getattr(error, "code", None), getattr(error, "message", None) or "no message"
            if code in ("moderation_blocked", "content_policy_violation") or looks_like_refusal(code, message):
                raise ProviderRefusedError(f"video refused ({code}): {message}", provider=self.name)
            raise ProviderError(f"video {video.status}: {message}", provider=self.name, kind="failed")
        report(percent=90, message=f"{self.name}: downloading")

        def fetch() -> None:
            with client.videos.with_streaming_response.download_content(video.id, variant="video") as response:
                response.stream_to_file(dest)

        call_with_retry(fetch, what=f"{self.name} download", translate=self._translate, policy=policy)
