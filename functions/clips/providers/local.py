"""The offline provider: a camera-motion renderer. Free, keyless and deterministic.

Each frame is one sub-pixel affine warp (bilinear) of a canvas rasterised once per clip, so motion is
continuous: no integer crops, no ffmpeg zoompan (both stair-step). The canvas is pre-scaled so that the
tightest view maps 1:1 to the output and the widest downsamples by at most 1.5x (no aliasing shimmer)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from functions.clips.camera import CameraPath, Rect, View, plan_path
from functions.clips.encode import encode_frames, final_codec, intermediate_codec
from functions.clips.framing import CanvasLayout, fill_share, layout_canvas, render_canvas
from functions.clips.providers.base import ClipParts
from functions.clips.yuv import Planes, bgr_to_planes
from shared.media.images import load_bgr
from shared.models import ClipRequest
from shared.progress import Reporter, silent
from shared.providers.prices import FREE, Price
from shared.settings import get_settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

MAX_DOWNSAMPLE = 1.5
"""The most a per-frame bilinear warp may shrink the canvas: beyond it fine texture aliases and shimmers."""
REPORT_EVERY = 0.05
"""Progress is reported every 5% of the frames."""


@dataclass(frozen=True)
class Shot:
    """Everything decided before the first pixel: canvas layout (and framing), camera path, scale."""

    layout: CanvasLayout
    path: CameraPath
    views: list[View]
    scale: float
    """Raster pixels per canvas unit."""


def raster_scale(*, views: list[View], out_w: int) -> float:
    """Raster pixels per canvas unit: the tightest view lands 1:1 on the output, the widest shrinks by
    at most MAX_DOWNSAMPLE. A photo smaller than that is enlarged once, bicubically, rather than by
    every frame's bilinear warp."""
    narrow = min(v.w for v in views)
    wide = max(v.w for v in views)
    return min(out_w / narrow, MAX_DOWNSAMPLE * out_w / wide)


def visited(views: list[View]) -> Rect:
    """The part of the canvas some frame shows."""
    rects = [v.rect for v in views]
    x0, y0 = min(r.x for r in rects), min(r.y for r in rects)
    return Rect(x=x0, y=y0, w=max(r.right for r in rects) - x0, h=max(r.bottom for r in rects) - y0)


def plan_shot(*, photo_w: int, photo_h: int, request: ClipRequest) -> Shot:
    out, scene = request.output, request.scene
    aspect = out.width / out.height
    duration = request.frames / out.fps
    layout = layout_canvas(framing=scene.framing, photo_w=photo_w, photo_h=photo_h, focus=scene.focus,
                           faces=scene.faces, move=scene.move, aspect=aspect, duration=duration)
    path = plan_path(
        move=scene.move,
        canvas_w=layout.width,
        canvas_h=layout.height,
        focus=layout.focus,
        keep=layout.keep,
        photo=layout.photo,
        aspect=aspect,
        duration=duration,
        seed=request.seed,
    )
    views = path.views(frames=request.frames)
    scale = raster_scale(views=views, out_w=out.width)
    if layout.width > photo_w or layout.height > photo_h:
        fill = max(fill_share(view=v, photo=layout.photo) for v in views)
        log.info("scene %d: the %s needs a view wider than the photo; up to %.0f%% of a frame is fill",
                 scene.index, scene.move, 100 * fill)
    return Shot(layout=layout, path=path, views=views, scale=scale)


def warp_matrix(*, region: Rect, kx: float, ky: float, view: View, width: int, height: int) -> np.ndarray:
    """The inverse affine map (output pixel -> raster pixel) that shows `view` at width x height, for a
    raster of `region` (canvas units) at `kx` (`ky`) pixels per canvas unit.

    Pixel i covers [i, i + 1) in continuous coordinates (its centre at i + 0.5), the same convention for
    a luma plane and its half-size chroma planes, so all three move together."""
    r = view.rect
    sx = width / (r.w * kx)
    sy = height / (r.h * ky)
    return np.array(
        [
            [1 / sx, 0.0, ((r.x - region.x) * kx + 0.5 / sx) - 0.5],
            [0.0, 1 / sy, ((r.y - region.y) * ky + 0.5 / sy) - 0.5],
        ],
        dtype=np.float64,
    )


def _warp_plane(plane: np.ndarray, *, region: Rect, view: View, width: int, height: int) -> np.ndarray:
    kx, ky = plane.shape[1] / region.w, plane.shape[0] / region.h
    m = warp_matrix(region=region, kx=kx, ky=ky, view=view, width=width, height=height)
    # REFLECT_101 only ever supplies the half pixel at the canvas edge that bilinear sampling reaches past.
    return cv2.warpAffine(
        plane,
        m,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT_101,
    )


def warp_view(*, canvas: Planes, region: Rect, view: View, width: int, height: int) -> Planes:
    """One output frame: `view` of the canvas (whose planes show `region`), each plane warped with
    sub-pixel accuracy."""
    return Planes(
        y=_warp_plane(canvas.y, region=region, view=view, width=width, height=height),
        u=_warp_plane(canvas.u, region=region, view=view, width=width // 2, height=height // 2),
        v=_warp_plane(canvas.v, region=region, view=view, width=width // 2, height=height // 2),
    )


def render_frames(*, photo: np.ndarray, request: ClipRequest, report: Reporter = silent) -> Iterator[Planes]:
    """The clip's frames as YUV 4:2:0 planes, one warp per plane."""
    h, w = photo.shape[:2]
    shot = plan_shot(photo_w=w, photo_h=h, request=request)
    raster = render_canvas(layout=shot.layout, photo=photo, scale=shot.scale, visits=visited(shot.views))
    canvas = bgr_to_planes(raster.image)
    out = request.output
    every = max(1, round(len(shot.views) * REPORT_EVERY))
    for i, view in enumerate(shot.views):
        yield warp_view(canvas=canvas, region=raster.region, view=view, width=out.width, height=out.height)
        if (i + 1) % every == 0 or i + 1 == len(shot.views):
            # The last 5% is the stage's: finishing the encode and measuring the file.
            report(percent=95.0 * (i + 1) / len(shot.views), message=f"frame {i + 1}/{len(shot.views)}")


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
        from functions.clips.product_scene import frames_for  # it calls render_frames of this module

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
