"""The camera-motion renderer: a photo's clip frames as the camera moves over it. Free, keyless and
deterministic; the local clip provider encodes its frames, and a product scene uses it for photo scenes.

Each frame is one sub-pixel affine warp (bilinear) of a canvas rasterised once per clip, so motion is
continuous: no integer crops, no ffmpeg zoompan (both stair-step). The canvas is pre-scaled so that the
tightest view maps 1:1 to the output and the widest downsamples by at most 1.5x (no aliasing shimmer)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from functions.clips.camera import CameraPath, Rect, View
from functions.clips.framing import CanvasLayout, fill_share, layout_canvas, render_canvas
from functions.clips.yuv import Planes, bgr_to_planes
from shared.models.render import ClipRequest
from shared.progress import Reporter, silent

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
    return Rect.bounding([v.rect for v in views])


def plan_shot(*, photo_w: int, photo_h: int, request: ClipRequest) -> Shot:
    out, scene = request.output, request.scene
    aspect = out.width / out.height
    duration = request.frames / out.fps
    layout = layout_canvas(framing=scene.framing, photo_w=photo_w, photo_h=photo_h, focus=scene.focus,
                           faces=scene.faces, move=scene.move, aspect=aspect, duration=duration)
    path = layout.camera_path(move=scene.move, aspect=aspect, duration=duration, seed=request.seed)
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
    rendered = frame_progress(report, total=len(shot.views))
    for i, view in enumerate(shot.views):
        yield warp_view(canvas=canvas, region=raster.region, view=view, width=out.width, height=out.height)
        rendered(i + 1)


def frame_progress(report: Reporter, *, total: int) -> Callable[[int], None]:
    """What to call with the count of frames rendered so far: it reports every REPORT_EVERY of `total`, up to
    95% (the last 5% is the stage's: finishing the encode and measuring the file)."""
    every = max(1, round(total * REPORT_EVERY))

    def rendered(count: int) -> None:
        if count % every == 0 or count == total:
            report(percent=95.0 * count / total, message=f"frame {count}/{total}")

    return rendered
