"""Pictures as the encoder takes them: limited-range YUV 4:2:0 with BT.601 coefficients, one array
per plane.

The renderer converts its canvas once per clip and then warps the three planes: half the pixels of a
BGR warp, and ffmpeg gets frames it can hand to libx264 without a colour conversion of its own.

BT.601 because it is what ffmpeg and PyAV assume when they turn YUV back into RGB (for filters,
posters, checks), whatever the stream's tags say; the clips are tagged BT.601 so players that read
tags agree."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_KR, _KB = 0.299, 0.114
_KG = 1.0 - _KR - _KB
_Y_SPAN, _C_SPAN = 219.0 / 255.0, 224.0 / 255.0

# Rows: Y, Cb, Cr; columns: B, G, R (OpenCV's channel order), then the offset.
_BGR_TO_YUV = np.array(
    [
        [_KB * _Y_SPAN, _KG * _Y_SPAN, _KR * _Y_SPAN, 16.0],
        [0.5 * _C_SPAN, -0.5 * _C_SPAN * _KG / (1 - _KB), -0.5 * _C_SPAN * _KR / (1 - _KB), 128.0],
        [-0.5 * _C_SPAN * _KB / (1 - _KR), -0.5 * _C_SPAN * _KG / (1 - _KR), 0.5 * _C_SPAN, 128.0],
    ],
    dtype=np.float32,
)
_YUV_TO_BGR = np.linalg.inv(np.vstack([_BGR_TO_YUV, [0.0, 0.0, 0.0, 1.0]]))[:3].astype(np.float32)


@dataclass(frozen=True)
class Planes:
    """One picture in YUV 4:2:0: `y` is h x w, `u` and `v` are (h / 2) x (w / 2), all uint8.

    Chroma samples sit at the centre of their 2 x 2 luma block (what an area downsample gives)."""

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])


def _to_u8(plane: np.ndarray) -> np.ndarray:
    return np.clip(plane + 0.5, 0, 255).astype(np.uint8)


def bgr_to_planes(image: np.ndarray) -> Planes:
    """BGR uint8 (even width and height) -> limited-range BT.601 4:2:0 planes."""
    h, w = image.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"4:2:0 needs an even size, got {w}x{h}")
    yuv = cv2.transform(image.astype(np.float32), _BGR_TO_YUV)
    chroma = cv2.resize(yuv[:, :, 1:], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return Planes(
        y=np.ascontiguousarray(_to_u8(yuv[:, :, 0])),
        u=np.ascontiguousarray(_to_u8(chroma[:, :, 0])),
        v=np.ascontiguousarray(_to_u8(chroma[:, :, 1])),
    )


def planes_to_bgr(planes: Planes) -> np.ndarray:
    """The inverse of bgr_to_planes (chroma upsampled bilinearly): for previews and checks."""
    size = (planes.width, planes.height)
    u = cv2.resize(planes.u, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    v = cv2.resize(planes.v, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    yuv = np.dstack([planes.y.astype(np.float32), u, v])
    return _to_u8(cv2.transform(yuv, _YUV_TO_BGR))
