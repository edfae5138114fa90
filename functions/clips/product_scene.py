"""Clip frames of a product scene: the turntable, alpha-composited over its softened background.

The background is the scene's (styled) photo cover-fitted to the frame, slightly blurred and dimmed:
the turntable is what the shot is about, and a shallow-focus, slightly darker ground separates it the
way a studio backdrop does (a CPU-preview turntable is soft-detailed; a sharp, busy photo behind it
would out-compete it). A soft contact shadow under the product's base keeps it from floating.

The turntable's frames are retimed so that exactly one full turn spans the scene (a turntable is
periodic: frame k shows the object at 360°·k/N, frame N would be frame 0 again). The clip's lead-in and
lead-out continue the same rotation, so crossfades blend a product that keeps turning.

Compositing is premultiplied "over" done on the encoder's YUV 4:2:0 planes: YUV is an affine map of
RGB, so blending there equals blending the RGB; the turntable is premultiplied before it is resized
(no dark fringes from transparent pixels' colour), and chroma blends with the alpha averaged over
each 2x2 block, as the block's premultiplied colour is. The product is placed on even pixels, so its
chroma samples line up with the frame's.

The turntable is read with `functions.product.turntable.read_turntable_rgba` (libvpx-vp9 named before
the input: ffmpeg's native vp9 decoder drops the alpha), streamed, and only the frames the clip shows
are kept, at the size they are shown."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from functions.clips.camera import smootherstep, widest_view_size
from functions.clips.renderer import frame_progress, render_frames
from functions.clips.yuv import Planes, bgr_to_planes
from functions.product.turntable import read_turntable_rgba
from shared.errors import FFmpegError, InputError
from shared.models.base import Box
from shared.models.plan import CameraMove
from shared.models.render import ClipRequest
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

BACKGROUND_BLUR = 0.004
"""Blur sigma of the background, as a share of the frame's long side (about 8 px at 1920): soft focus,
still recognisably the photo."""
BACKGROUND_DIM = 0.8
"""The background's brightness is scaled by this so the product reads first."""
SHADOW_OPACITY = 0.35
SHADOW_WIDTH = 0.8
"""The contact shadow's width, as a share of the product's width."""
PUSH_ZOOM = 1.06
"""How far the background zooms over the clip for a push-in (pull-out: the reverse); other moves hold still."""
ALPHA_BOX_THRESHOLD = 8
"""Alpha (0..255) above which a pixel counts as part of the product when its extent is measured."""


class TurntableError(InputError):
    """A turntable file that cannot be used: not a VP9 WebM, not decodable, or without transparency."""


@dataclass(frozen=True)
class TurntableInfo:
    width: int
    height: int
    frames: int
    fps: float

    @property
    def duration(self) -> float:
        """Seconds of one full turn at the turntable's own frame rate."""
        return self.frames / self.fps


def probe_turntable(path: Path) -> TurntableInfo:
    """Facts of a turntable, checked: a WebM (Matroska) VP9 stream with alpha that decodes, with some
    transparency in its first frame. Raises TurntableError with one line saying what is wrong."""
    import av

    name = path.name
    try:
        with av.open(str(path)) as container:
            stream = next(iter(container.streams.video), None)
            if stream is None:
                raise TurntableError(f"{name}: no video stream")
            fmt, codec = container.format.name, stream.codec_context.name
            alpha = str(stream.metadata.get("alpha_mode", stream.metadata.get("ALPHA_MODE", "0")))
            rate = stream.average_rate or stream.guessed_rate
            width, height = stream.codec_context.width, stream.codec_context.height
            frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise TurntableError(f"{name}: not a readable video ({exc.__class__.__name__})") from None
    if "webm" not in fmt.split(",") and "matroska" not in fmt.split(","):
        raise TurntableError(f"{name}: a {fmt} file; a turntable is a WebM (make one with `momentloop product`)")
    if codec != "vp9":
        raise TurntableError(f"{name}: {codec} video; a turntable is VP9 with alpha (`momentloop product`)")
    if alpha != "1":
        raise TurntableError(f"{name}: VP9 without an alpha channel; the product needs a transparent background")
    if frames < 2 or not rate:
        raise TurntableError(f"{name}: {frames} frame(s); a turntable needs a turn of several frames")
    info = TurntableInfo(width=width, height=height, frames=frames, fps=float(rate))
    try:
        first = next(decode_rgba(path, limit=1), None)
    except FFmpegError as exc:
        raise TurntableError(f"{name}: cannot be decoded ({exc})") from None
    if first is None:
        raise TurntableError(f"{name}: no frame could be decoded")
    if int(first[:, :, 3].min()) >= 255:
        raise TurntableError(f"{name}: its first frame is opaque everywhere; the product needs a transparent "
                             "background")
    return info


def decode_rgba(path: Path, *, limit: int | None = None) -> Iterator[np.ndarray]:
    """The turntable's first `limit` frames (all when None), RGBA with straight alpha, streamed."""
    frames = read_turntable_rgba(path)
    try:
        yield from itertools.islice(frames, limit)
    finally:
        if isinstance(frames, Generator):
            frames.close()  # ends ffmpeg when we stop early


def turn_indices(*, frames: int, fps: float, lead_in: float, scene_seconds: float, turn_frames: int) -> list[int]:
    """Which turntable frame each clip frame shows: one full turn over the scene, starting at frame 0 on
    the scene's first frame, the lead-in and lead-out continuing the same rotation (nearest frame:
    blending neighbours would ghost the object's edges)."""
    out = []
    for i in range(frames):
        turns = (i / fps - lead_in) / scene_seconds
        out.append(round(turns * turn_frames) % turn_frames)
    return out


@dataclass(frozen=True)
class Layer:
    """A premultiplied picture on the frame's YUV planes: full-size luma and alpha, half-size chroma and
    alpha averaged per 2x2 block; placed with its top-left corner at (x, y), both even."""

    x: int
    y: int
    luma: np.ndarray
    u: np.ndarray
    v: np.ndarray
    alpha: np.ndarray
    alpha_half: np.ndarray


def premultiplied_layer(*, bgr: np.ndarray, alpha: np.ndarray, x: int, y: int) -> Layer:
    """A Layer of premultiplied BGR (float, h x w x 3, values <= alpha * 255) and alpha (float, 0..1),
    h and w even. bgr_to_planes adds the planes' full offsets (16, 128, 128) to the premultiplied colour;
    a premultiplied picture carries only alpha times them, so (1 - alpha) times them is taken back off."""
    planes = bgr_to_planes(bgr)
    h, w = alpha.shape
    half = cv2.resize(alpha, (w // 2, h // 2), interpolation=cv2.INTER_AREA)

    def off(plane: np.ndarray, a: np.ndarray, offset: float) -> np.ndarray:
        return np.ascontiguousarray(np.clip(plane - (1.0 - a) * offset + 0.5, 0, 255).astype(np.uint8))

    def u8(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))

    return Layer(x=x, y=y, luma=off(planes.y, alpha, 16.0), u=off(planes.u, half, 128.0),
                 v=off(planes.v, half, 128.0), alpha=u8(alpha), alpha_half=u8(half))


def _over(dst: np.ndarray, *, top: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """dst[y:, x:] = top + (1 - alpha) * dst, in place, on uint8 planes (top premultiplied), clipped to dst."""
    h, w = top.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    t = top[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.uint16)
    below = dst[y0:y1, x0:x1].astype(np.uint16)
    dst[y0:y1, x0:x1] = np.minimum(255, t + ((255 - a) * below + 127) // 255).astype(np.uint8)


def composite(frame: Planes, layer: Layer) -> None:
    """`layer` over `frame`, in place."""
    _over(frame.y, top=layer.luma, alpha=layer.alpha, x=layer.x, y=layer.y)
    _over(frame.u, top=layer.u, alpha=layer.alpha_half, x=layer.x // 2, y=layer.y // 2)
    _over(frame.v, top=layer.v, alpha=layer.alpha_half, x=layer.x // 2, y=layer.y // 2)


def cover_fit(image: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """The largest centred crop of `image` with the frame's aspect, resized to width x height."""
    h, w = image.shape[:2]
    vw, vh = widest_view_size(canvas_w=w, canvas_h=h, aspect=width / height)
    x0, y0 = round((w - vw) / 2), round((h - vh) / 2)
    crop = image[y0 : y0 + max(1, round(vh)), x0 : x0 + max(1, round(vw))]
    shrink = crop.shape[1] > width
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def soft_background(image: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """The photo cover-fitted to the frame, blurred by BACKGROUND_BLUR and dimmed by BACKGROUND_DIM."""
    fitted = cover_fit(image, width=width, height=height)
    sigma = BACKGROUND_BLUR * max(width, height)
    if sigma >= 0.5:
        fitted = cv2.GaussianBlur(fitted, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    return cv2.convertScaleAbs(fitted, alpha=BACKGROUND_DIM)


@dataclass(frozen=True)
class Placement:
    """Where the product's extent (its union over the turn) lands: `scale` output pixels per turntable
    pixel, the turntable's `crop` (x, y, w, h, turntable pixels) shown at (x, y) of the frame, size w x h."""

    crop: tuple[int, int, int, int]
    scale: float
    x: int
    y: int
    w: int
    h: int


def product_extent(path: Path) -> tuple[tuple[int, int, int, int], int]:
    """The box (x, y, w, h) holding the product on every frame of the turn, and the number of frames."""
    union: np.ndarray | None = None
    count = 0
    for rgba in decode_rgba(path):
        mask = rgba[:, :, 3] > ALPHA_BOX_THRESHOLD
        union = mask if union is None else union | mask
        count += 1
    if union is None or not union.any():
        raise TurntableError(f"{path.name}: the product is transparent on every frame")
    ys, xs = np.nonzero(union.any(axis=1))[0], np.nonzero(union.any(axis=0))[0]
    return (int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1)), count


def place_product(*, extent: tuple[int, int, int, int], focus: Box, width: int, height: int) -> Placement:
    """The product's extent scaled to fit the focus box (output pixels), centred on it, on even pixels."""
    ew, eh = extent[2], extent[3]
    box_w, box_h = focus.w * width, focus.h * height
    scale = min(box_w / ew, box_h / eh)
    w, h = max(2, 2 * round(ew * scale / 2)), max(2, 2 * round(eh * scale / 2))
    x = 2 * round((focus.cx * width - w / 2) / 2)
    y = 2 * round((focus.cy * height - h / 2) / 2)
    return Placement(crop=extent, scale=scale, x=x, y=y, w=w, h=h)


def product_layer(rgba: np.ndarray, *, placement: Placement) -> Layer:
    """One turntable frame as a Layer: cropped to the product's extent, premultiplied, then resized."""
    cx, cy, cw, ch = placement.crop
    crop = rgba[cy : cy + ch, cx : cx + cw]
    alpha = crop[:, :, 3].astype(np.float32) / 255.0
    prem = np.dstack([crop[:, :, 2], crop[:, :, 1], crop[:, :, 0]]).astype(np.float32) * alpha[:, :, None]
    size = (placement.w, placement.h)
    shrink = placement.w < cw
    how = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR  # linear: no overshoot past the alpha when enlarging
    prem = cv2.resize(prem, size, interpolation=how)
    alpha = np.clip(cv2.resize(alpha, size, interpolation=how), 0.0, 1.0)
    prem = np.minimum(prem, alpha[:, :, None] * 255.0)
    return premultiplied_layer(bgr=prem, alpha=alpha, x=placement.x, y=placement.y)


def shadow_layer(*, placement: Placement) -> Layer:
    """A soft dark ellipse under the product's base: SHADOW_WIDTH of its width, flat, feathered."""
    sw = SHADOW_WIDTH * placement.w
    sh = max(4.0, 0.12 * sw)
    cx, cy = placement.x + placement.w / 2, placement.y + placement.h
    pad = sh
    x0, y0 = 2 * math.floor((cx - sw / 2 - pad) / 2), 2 * math.floor((cy - sh / 2 - pad) / 2)
    x1, y1 = 2 * math.ceil((cx + sw / 2 + pad) / 2), 2 * math.ceil((cy + sh / 2 + pad) / 2)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    r = np.sqrt(((xx - cx) / (sw / 2)) ** 2 + ((yy - cy) / (sh / 2)) ** 2)
    alpha = (SHADOW_OPACITY * np.clip(1.0 - r, 0.0, 1.0) ** 1.5).astype(np.float32)
    black = np.zeros((*alpha.shape, 3), dtype=np.float32)
    return premultiplied_layer(bgr=black, alpha=alpha, x=x0, y=y0)


def _zoomed(planes: Planes, *, zoom: float) -> Planes:
    """The frame zoomed by `zoom` about its centre (bilinear, sub-pixel)."""
    if abs(zoom - 1.0) < 1e-6:
        return Planes(y=planes.y.copy(), u=planes.u.copy(), v=planes.v.copy())

    def warp(p: np.ndarray) -> np.ndarray:
        h, w = p.shape
        m = np.array([[1 / zoom, 0.0, (w / 2) * (1 - 1 / zoom)], [0.0, 1 / zoom, (h / 2) * (1 - 1 / zoom)]])
        return cv2.warpAffine(p, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REFLECT_101)

    return Planes(y=warp(planes.y), u=warp(planes.u), v=warp(planes.v))


def background_zoom(*, move: CameraMove, progress: float) -> float:
    """A gentle push-in (or pull-out) of the background, eased over the clip; any other move holds still."""
    eased = smootherstep(progress)
    if move == CameraMove.push_in:
        return float(PUSH_ZOOM**eased)
    if move == CameraMove.pull_out:
        return float(PUSH_ZOOM ** (1.0 - eased))
    return 1.0


def render_product_frames(
    *, background: np.ndarray, turntable: Path, request: ClipRequest, report: Reporter = silent, shadow: bool = True
) -> Iterator[Planes]:
    """Exactly `request.frames` frames at the output size: the turntable over the softened `background`
    (BGR uint8, the styled photo), one full turn over the scene, centred on the scene's focus box."""
    out, scene = request.output, request.scene
    width, height = out.width, out.height
    extent, turn_frames = product_extent(turntable)
    placement = place_product(extent=extent, focus=scene.focus, width=width, height=height)
    indices = turn_indices(frames=request.frames, fps=out.fps, lead_in=request.lead_in,
                           scene_seconds=scene.duration, turn_frames=turn_frames)
    wanted = set(indices)
    layers: dict[int, Layer] = {}
    for k, rgba in enumerate(decode_rgba(turntable)):
        if k in wanted:
            layers[k] = product_layer(rgba, placement=placement)
    missing = wanted - set(layers)
    if missing:
        raise TurntableError(f"{turntable.name}: frame {min(missing)} of {turn_frames} could not be decoded again")
    base = bgr_to_planes(soft_background(background, width=width, height=height))
    ground = shadow_layer(placement=placement) if shadow else None
    rendered = frame_progress(report, total=request.frames)
    for i, k in enumerate(indices):
        frame = _zoomed(base, zoom=background_zoom(move=scene.move, progress=i / max(1, request.frames - 1)))
        if ground is not None:
            composite(frame, ground)
        composite(frame, layers[k])
        yield frame
        rendered(i + 1)


def frames_for(
    *, request: ClipRequest, photo: np.ndarray, store: ArtifactStore, report: Reporter = silent
) -> Iterator[Planes]:
    """The clip's frames for any scene: the camera-motion renderer over `photo` (the styled image) for a
    photo scene, the turntable (`request.scene.product_key`, read from `store`) over it for a product scene."""
    scene = request.scene
    if scene.kind == "product":
        if scene.product_key is None:
            raise TurntableError(f"scene {scene.index} is a product scene without a turntable")
        with store.local_path(scene.product_key) as turntable:
            yield from render_product_frames(background=photo, turntable=turntable, request=request, report=report)
        return
    yield from render_frames(photo=photo, request=request, report=report)


__all__ = [
    "TurntableError",
    "TurntableInfo",
    "decode_rgba",
    "frames_for",
    "probe_turntable",
    "render_product_frames",
    "turn_indices",
]
