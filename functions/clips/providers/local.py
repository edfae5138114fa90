"""The offline provider: the camera-motion renderer's frames (functions/clips/renderer.py), or a product
scene's (functions/clips/product_scene.py), encoded. Free, keyless and deterministic."""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

from functions.clips.encode import encode_frames, final_codec, intermediate_codec
from functions.clips.product_scene import frames_for
from functions.clips.providers.base import ClipParts
from shared.media.pictures import load_bgr
from shared.models.render import ClipRequest
from shared.progress import Reporter
from shared.providers.prices import FREE, Price
from shared.settings import get_settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)


class LocalClipProvider:
    name = "local"
    exact = True
    price: Price = FREE

    def estimate_usd(self, *, request: ClipRequest) -> float:
        return 0.0

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        settings = get_settings()
        intermediate = intermediate_codec(preset=settings.clip_preset, crf=settings.clip_crf)
        self._encode(request=request, store=store, report=report, runs=[(dest, request.frames, intermediate)])

    def render_parts(self, *, request: ClipRequest, store: ArtifactStore, parts: ClipParts, report: Reporter) -> None:
        assert request.final is not None
        settings = get_settings()
        intermediate = intermediate_codec(preset=settings.clip_preset, crf=settings.clip_crf)
        body = request.frames - request.head_frames - request.tail_frames
        runs = [
            (parts.head, request.head_frames, intermediate),
            (parts.body, body, final_codec(encoding=request.final, fps=request.output.fps)),
            (parts.tail, request.tail_frames, intermediate),
        ]
        self._encode(request=request, store=store, report=report,
                     runs=[(dest, n, codec) for dest, n, codec in runs if dest is not None and n > 0])

    def _encode(
        self, *, request: ClipRequest, store: ArtifactStore, report: Reporter, runs: list[tuple[Path, int, list[str]]]
    ) -> None:
        """Render the clip's frames once (a camera move over the photo, or a product turntable over it) and
        hand consecutive runs of them to one encoder each."""
        photo = load_bgr(store=store, key=request.image_key)
        out = request.output
        started = time.perf_counter()
        frames = frames_for(request=request, photo=photo, store=store, report=report)
        for dest, count, codec in runs:
            encode_frames(frames=itertools.islice(frames, count), dest=dest, width=out.width, height=out.height,
                          fps=out.fps, codec=codec)
        log.info(
            "scene %d: %d frames %dx%d (%s) rendered and encoded in %d part(s) in %.2f s",
            request.scene.index, request.frames, out.width, out.height, request.scene.move, len(runs),
            time.perf_counter() - started,
        )
