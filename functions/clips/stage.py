"""The clips stage: render one scene as a short H.264 clip, keyed by its request."""

from __future__ import annotations

import logging
from pathlib import Path

from functions.clips.providers import get_provider
from shared.errors import OptionError, StageError
from shared.hashing import content_key
from shared.media.probe import probe
from shared.models import ClipRequest, ClipResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

CLIPS_VERSION = "1"
"""Bump when the rendered pixels change for the same request: old clips are then not reused."""


def clip_key(*, request: ClipRequest) -> str:
    return f"clips/{content_key(stage='clips', version=CLIPS_VERSION, request=request)}/clip.mp4"


def count_video_packets(path: Path) -> int:
    """Frames in the file's first video stream, counted from its packets (no decoding)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size > 0)


def measure_clip(*, path: Path, key: str, request: ClipRequest, exact: bool = True) -> ClipResult:
    """The ClipResult of the file at `path`, measured. When the provider is `exact`, a file that is not
    an H.264 4:2:0 clip of the requested frames, size and fps is a StageError."""
    info = probe(path)
    if not info.has_video:
        raise StageError("clip has no video stream", stage="clips", item=str(request.scene.index))
    frames = count_video_packets(path)
    out = request.output
    problems = []
    if info.video_codec != "h264" or info.pix_fmt != "yuv420p":
        problems.append(f"{info.video_codec} {info.pix_fmt}, expected h264 yuv420p")
    if frames != request.frames:
        problems.append(f"{frames} frames, expected {request.frames}")
    if (info.width, info.height) != (out.width, out.height):
        problems.append(f"{info.width}x{info.height}, expected {out.width}x{out.height}")
    if not info.fps or abs(info.fps - out.fps) > 1e-3:
        problems.append(f"{info.fps} fps, expected {out.fps}")
    if problems and exact:
        raise StageError("clip does not match its request: " + "; ".join(problems), stage="clips",
                         item=str(request.scene.index))
    assert info.width is not None and info.height is not None and info.fps is not None
    return ClipResult(
        clip_key=key,
        provider=request.provider,
        frames=frames,
        duration=info.duration,
        width=info.width,
        height=info.height,
        fps=info.fps,
    )


def run_clip(*, request: ClipRequest, store: ArtifactStore, report: Reporter = silent) -> ClipResult:
    """Render `request.scene` as a clip of exactly `request.frames` frames, or reuse the one already
    rendered for the same request. Duration, fps and size in the result are measured from the file."""
    out = request.output
    if out.width % 2 or out.height % 2:
        raise OptionError(f"output size {out.width}x{out.height} must be even for H.264 4:2:0")
    covered = (request.scene.duration + request.lead_in + request.lead_out) * out.fps
    if abs(covered - request.frames) > 1:
        log.warning(
            "scene %d: %d frames requested, but scene + leads last %.1f frames", request.scene.index,
            request.frames, covered,
        )
    key = clip_key(request=request)
    provider = get_provider(request.provider)
    if store.exists(key):
        with store.local_path(key) as path:
            result = measure_clip(path=path, key=key, request=request, exact=provider.exact)
        report(percent=100.0, message="reused")
        return result
    with store.write_path(key) as tmp:
        provider.render(request=request, store=store, dest=tmp, report=report)
        # Measured before the file becomes `key`: a clip that breaks the contract is never committed.
        result = measure_clip(path=tmp, key=key, request=request, exact=provider.exact)
    report(percent=100.0, message="done")
    # Cloud providers (and chains) say which link made it, what it cost and which links failed first.
    usage = getattr(provider, "usage", None)
    if usage is not None:
        result = result.model_copy(update={"provider": usage.provider, "cost_usd": usage.cost_usd,
                                           "attempts": usage.attempts})
    return result
