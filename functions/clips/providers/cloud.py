"""What the video-model clip providers share: the length and shape asked for, the first frame, the
concurrency slot, and the check of what comes back before the stage accepts it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from functions.clips.providers.first_frame import frame_for_model, jpeg
from functions.clips.providers.video_models import DEFAULT_MODEL, MATCH_IMAGE, MODELS, ratio_value
from shared.errors import OptionError
from shared.media.pictures import load_bgr
from shared.models.render import ClipRequest
from shared.progress import Reporter
from shared.providers.concurrency import provider_slot
from shared.providers.downloads import check_video
from shared.providers.errors import ProviderInputError, ProviderOutputError
from shared.providers.fallback import Usage
from shared.providers.sdk.imports import preload_sdk
from shared.providers.sdk.vendors import VendorCalls
from shared.settings import Settings, get_settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

NEGATIVE_PROMPT = "text, captions, watermark, logo, distorted faces, extra limbs, scene cut, flicker"


@dataclass(frozen=True)
class Generation:
    """One clip to make: what the model is asked for."""

    seconds: float
    aspect: str
    size: tuple[int, int]
    prompt: str
    first_frame: bytes
    seed: int


class CloudClipProvider(VendorCalls):
    """A clip provider backed by an image-to-video model. `exact` is False: the model returns its own
    length and size, the stage measures the file, compose fits it to the scene."""

    stage = "clips"
    exact = False

    def __init__(self, model: str | None = None) -> None:
        name = model or DEFAULT_MODEL[self.vendor]
        spec = MODELS.get(name)
        if spec is None or spec.vendor != self.vendor:
            known = ", ".join(m.model for m in MODELS.values() if m.vendor == self.vendor)
            raise OptionError(f"{self.vendor} has no video model {name!r} we know; choose one of: {known}")
        self.spec = spec
        self.name = f"{self.vendor}:{spec.model}"
        self.usage: Usage | None = None
        preload_sdk(self.vendor)  # whole, under one lock, before any call: see shared/providers/sdk/imports.py

    def seconds_for(self, *, request: ClipRequest, settings: Settings | None = None) -> float:
        s = settings or get_settings()
        return self.spec.choose_duration(needed=request.frames / request.output.fps, max_stretch=s.clip_max_stretch)

    def estimate_usd(self, *, request: ClipRequest) -> float:
        if request.scene.kind == "product":
            return 0.0  # refused before any call (see render)
        return self.spec.cost(seconds=self.seconds_for(request=request))

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        if request.scene.kind == "product":
            # A video model would reinvent the product; its turntable is rendered from its own geometry.
            raise ProviderInputError("a product turntable scene is rendered locally, not by a video model",
                                     provider=self.name)
        settings = get_settings()
        spec = self.spec
        aspect = spec.choose_aspect(output_aspect=request.output.aspect)
        size = spec.frame_size(aspect=aspect)
        image = load_bgr(store=store, key=request.image_key)
        frame = frame_for_model(image=image, scene=request.scene, output_aspect=request.output.aspect,
                                model_aspect=aspect, size=size)
        job = Generation(seconds=self.seconds_for(request=request, settings=settings), aspect=aspect, size=size,
                         prompt=request.scene.prompt, first_frame=jpeg(frame), seed=request.seed)
        client = self._client()  # the key is resolved here, when the client is built
        report(percent=2, message=f"{self.name}: asking for {job.seconds:g} s at {aspect}")
        started = time.perf_counter()
        with provider_slot(key=f"clips:{self.vendor}", limit=settings.clip_concurrency):
            self._generate(client=client, job=job, dest=dest, settings=settings, report=report)
        cost = spec.cost(seconds=job.seconds)
        expect = ratio_value(request.output.aspect if spec.aspects == [MATCH_IMAGE] else aspect)
        try:
            check = check_video(path=dest, provider=self.name, expect_seconds=job.seconds, expect_aspect=expect)
        except ProviderOutputError as exc:
            exc.spent_usd = cost  # the generation is billed even though its file is refused
            raise
        self.usage = Usage(provider=self.name, cost_usd=cost)
        log.info("scene %d: %s made %.2f s %dx%d (%d frames) in %.1f s", request.scene.index, self.name,
                 check.duration, check.width, check.height, check.frames, time.perf_counter() - started)

    # ------------------------------------------------------------ for subclasses

    def _generate(self, *, client: object, job: Generation, dest: Path, settings: Settings,
                  report: Reporter) -> None:
        """Create the generation, wait for it, and stream the video into `dest`."""
        raise NotImplementedError
