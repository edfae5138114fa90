"""The clips stage: render one scene as a short H.264 clip, keyed by its request.

When the request carries the final video's encoder settings and the provider can, the clip is written
in up to three files: its head and tail (the frames compose blends with the neighbouring clips) as
high-quality intermediates, and its body with the final settings, which compose copies into the final
video without encoding it again."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from pydantic import Field

from functions.clips.providers import get_provider
from functions.clips.providers.base import ClipParts, ClipProvider, SplitClipProvider
from shared.errors import OptionError, StageError
from shared.hashing import content_key
from shared.media.probe import probe
from shared.models.base import Frozen
from shared.models.render import ClipRequest, ClipResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

CLIPS_VERSION = "3"
"""Bump when the rendered pixels change for the same request: old clips are then not reused."""


class PartKeys(Frozen):
    """Where each file of one clip lives in the store (head and tail only when written apart)."""

    head: str | None = None
    body: str
    tail: str | None = None
    head_frames: int = Field(default=0, ge=0)
    tail_frames: int = Field(default=0, ge=0)

    @property
    def all(self) -> list[str]:
        """Every file of the clip, in frame order."""
        return [k for k in (self.head, self.body, self.tail) if k is not None]


def clip_key(*, request: ClipRequest) -> str:
    return f"clips/{content_key(stage='clips', version=CLIPS_VERSION, request=request)}/clip.mp4"


def splits(*, request: ClipRequest, provider: ClipProvider) -> bool:
    """Whether the clip is written in parts: final settings asked for, a provider that can, and a body
    of at least one frame between the blended ends."""
    body = request.frames - request.head_frames - request.tail_frames
    return request.final is not None and isinstance(provider, SplitClipProvider) and body >= 1


def part_keys(*, request: ClipRequest, split: bool) -> PartKeys:
    body = clip_key(request=request)
    if not split:
        return PartKeys(body=body)
    folder = body.rsplit("/", 1)[0]
    return PartKeys(
        head=f"{folder}/head.mp4" if request.head_frames else None,
        body=body,
        tail=f"{folder}/tail.mp4" if request.tail_frames else None,
        head_frames=request.head_frames,
        tail_frames=request.tail_frames,
    )


def count_video_packets(path: Path) -> int:
    """Frames in the file's first video stream, counted from its packets (no decoding)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size > 0)


class _Measured(Frozen):
    frames: int
    duration: float
    width: int
    height: int
    fps: float


def _measure_file(*, path: Path, expected_frames: int, request: ClipRequest, exact: bool, what: str) -> _Measured:
    info = probe(path)
    if not info.has_video:
        raise StageError(f"{what} has no video stream", stage="clips", item=str(request.scene.index))
    frames = count_video_packets(path)
    out = request.output
    problems = []
    if info.video_codec != "h264" or info.pix_fmt != "yuv420p":
        problems.append(f"{info.video_codec} {info.pix_fmt}, expected h264 yuv420p")
    if frames != expected_frames:
        problems.append(f"{frames} frames, expected {expected_frames}")
    if (info.width, info.height) != (out.width, out.height):
        problems.append(f"{info.width}x{info.height}, expected {out.width}x{out.height}")
    if not info.fps or abs(info.fps - out.fps) > 1e-3:
        problems.append(f"{info.fps} fps, expected {out.fps}")
    if problems and exact:
        raise StageError(f"{what} does not match its request: " + "; ".join(problems), stage="clips",
                         item=str(request.scene.index))
    assert info.width is not None and info.height is not None and info.fps is not None
    return _Measured(frames=frames, duration=info.duration, width=info.width, height=info.height, fps=info.fps)


def measure_clip(*, paths: dict[str, Path], keys: PartKeys, request: ClipRequest, exact: bool = True) -> ClipResult:
    """The ClipResult of the clip's files (`paths` by key), measured. When the provider is `exact`, a
    file that is not H.264 4:2:0 at the requested size and fps, or a frame count off the request, is a
    StageError."""
    body_frames = request.frames - keys.head_frames - keys.tail_frames
    body = _measure_file(path=paths[keys.body], expected_frames=body_frames, request=request, exact=exact,
                         what="clip" if keys.head is None and keys.tail is None else "clip body")
    frames, duration = body.frames, body.duration
    for key, expected, what in ((keys.head, keys.head_frames, "clip head"), (keys.tail, keys.tail_frames, "clip tail")):
        if key is not None:
            end = _measure_file(path=paths[key], expected_frames=expected, request=request, exact=True, what=what)
            frames += end.frames
            duration += end.duration
    return ClipResult(
        clip_key=keys.body,
        provider=request.provider,
        frames=frames,
        duration=duration,
        width=body.width,
        height=body.height,
        fps=body.fps,
        head_key=keys.head,
        head_frames=keys.head_frames if keys.head else 0,
        tail_key=keys.tail,
        tail_frames=keys.tail_frames if keys.tail else 0,
    )


def run_clip(*, request: ClipRequest, store: ArtifactStore, report: Reporter = silent) -> ClipResult:
    """Render `request.scene` as a clip of exactly `request.frames` frames, or reuse the one already
    rendered for the same request. Duration, fps and size in the result are measured from the files."""
    out = request.output
    if out.width % 2 or out.height % 2:
        raise OptionError(f"output size {out.width}x{out.height} must be even for H.264 4:2:0")
    covered = (request.scene.duration + request.lead_in + request.lead_out) * out.fps
    if abs(covered - request.frames) > 1:
        log.warning(
            "scene %d: %d frames requested, but scene + leads last %.1f frames", request.scene.index,
            request.frames, covered,
        )
    provider = get_provider(request.provider)
    split = splits(request=request, provider=provider)
    keys = part_keys(request=request, split=split)
    if all(store.exists(k) for k in keys.all):
        with contextlib.ExitStack() as stack:
            paths = {k: stack.enter_context(store.local_path(k)) for k in keys.all}
            result = _result(paths=paths, keys=keys, request=request, provider=provider, split=split)
        report(percent=100.0, message="reused")
        return result
    with contextlib.ExitStack() as stack:
        # Every part is measured before any becomes its key: a clip that breaks the contract is never
        # committed (the write contexts discard their files when the block raises).
        paths = {k: stack.enter_context(store.write_path(k)) for k in keys.all}
        if split:
            assert isinstance(provider, SplitClipProvider)
            provider.render_parts(
                request=request, store=store, report=report,
                parts=ClipParts(head=paths[keys.head] if keys.head else None, body=paths[keys.body],
                                tail=paths[keys.tail] if keys.tail else None),
            )
        else:
            provider.render(request=request, store=store, dest=paths[keys.body], report=report)
        result = _result(paths=paths, keys=keys, request=request, provider=provider, split=split)
    report(percent=100.0, message="done")
    # Cloud providers (and chains) say which link made it, what it cost and which links failed first.
    usage = getattr(provider, "usage", None)
    if usage is not None:
        result = result.model_copy(update={"provider": usage.provider, "cost_usd": usage.cost_usd,
                                           "attempts": usage.attempts})
    return result


def _result(
    *, paths: dict[str, Path], keys: PartKeys, request: ClipRequest, provider: ClipProvider, split: bool
) -> ClipResult:
    result = measure_clip(paths=paths, keys=keys, request=request, exact=provider.exact)
    # A split clip's body is at the final settings, even one with cuts at both ends (all body).
    return result.model_copy(update={"final": request.final if split else None})
