"""What a look must keep readable: the faces and the subject of the photo, found by analysis's own detector.

The looks are painted wherever a picture comes from (a pipeline photo, a web preview of an uploaded
asset, a fallback after a cloud provider failed), and only some of those carry an analysis. So the local
provider finds the focus on the picture it paints, with the same functions analysis runs
(`functions.analyze.subject`) on the same upright pixels: the boxes are the ones analysis found, and the
look is the same everywhere. It costs a few tens of milliseconds (faces at 480 px, saliency at 96 px)."""

from __future__ import annotations

import cv2
import numpy as np

from functions.analyze.subject import detect_faces, find_subject
from shared.models.base import Box, Frozen


class Focus(Frozen):
    """Where a look keeps the photo readable (normalised boxes of the upright picture)."""

    faces: list[Box]
    subject: Box


def find_focus(*, image: np.ndarray) -> Focus:
    """The faces and the subject of a BGR picture, as analysis finds them."""
    rgb = np.ascontiguousarray(image[..., ::-1])
    faces = detect_faces(rgb=rgb)
    subject, _ = find_subject(rgb=rgb, faces=faces)
    return Focus(faces=faces, subject=subject)


def box_mask(*, boxes: list[Box], height: int, width: int, grow: float = 0.0) -> np.ndarray:
    """Mask (bool, height × width) of the boxes, each grown by `grow` × its size on every side."""
    mask = np.zeros((height, width), bool)
    for b in boxes:
        dx, dy = b.w * grow, b.h * grow
        x0, x1 = max(0, int((b.x - dx) * width)), min(width, round((b.x + b.w + dx) * width) + 1)
        y0, y1 = max(0, int((b.y - dy) * height)), min(height, round((b.y + b.h + dy) * height) + 1)
        mask[y0:y1, x0:x1] = True
    return mask


def soft_face_mask(*, focus: Focus, height: int, width: int) -> np.ndarray:
    """Coverage (float32 0..1) of the faces: 1 over each face, fading out over about a quarter of its
    size, so what is drawn differently on a face has no hard border."""
    if not focus.faces:
        return np.zeros((height, width), np.float32)
    hard = box_mask(boxes=focus.faces, height=height, width=width, grow=0.1).astype(np.float32)
    side = min(b.w * width for b in focus.faces)
    return np.clip(cv2.GaussianBlur(hard, (0, 0), max(1.0, side / 8)) * 2.0, 0.0, 1.0)


def face_ovals(*, focus: Focus, height: int, width: int, grow: float = 0.0) -> np.ndarray:
    """Mask (bool) of an oval inscribed in each face box grown by `grow` × its size on every side:
    the face itself, without the box's corners of hair and background."""
    mask = np.zeros((height, width), np.uint8)
    for b in focus.faces:
        centre = (round(b.cx * width), round(b.cy * height))
        axes = (max(1, round(b.w * width * (0.5 + grow))), max(1, round(b.h * height * (0.5 + grow) * 1.1)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 255, thickness=cv2.FILLED)
    return mask > 0
