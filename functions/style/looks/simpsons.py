"""Simpsons-style cartoon: flat, bright, saturated colour regions, skin in the show's yellow, thick black
ink outlines around shapes."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.focus import Focus
from functions.style.looks.ink import (
    cartoon_lines,
    face_shading,
    face_skin,
    flatten,
    ink,
    skin_tone,
    upscale_mask,
    work_copy,
)
from functions.style.looks.palette import bgr_from_hex, kmeans_lab, nearest_index

DESCRIPTION = "Simpsons cartoon: flat bright colours, yellow skin, thick black outlines"

WORK_SIDE = 960
COLOURS = 9
YELLOW = bgr_from_hex("#FED90F")[0]
TONE_STEP = 0.15
"""A found face is cel-shaded in yellows whose lightness steps by this share of the face's typical
lightness: full yellow where it is lit, darker yellows in its shadows, near black in its creases."""
HIGHLIGHT_FROM = 1.1
"""Where a found face is lighter than this share of its typical lightness (the lit side of the nose,
cheekbones, the forehead), it takes a paler yellow: a face's light must stay lighter than its hair."""
_LEVELS = np.minimum(np.arange(int(np.ceil(1.0 / TONE_STEP)), -1, -1) * TONE_STEP, 1.0)
_PALE = YELLOW.astype(np.float32) * 0.85 + 255.0 * 0.15
_YELLOWS = YELLOW[None, :].astype(np.float32) * _LEVELS[:, None]
TONES = np.clip(np.vstack([_PALE, _YELLOWS]) + 0.5, 0, 255).astype(np.uint8)
"""The face's yellows: the highlight, then YELLOW, then darker and darker shadow yellows down to black."""


def _skin(image: np.ndarray) -> np.ndarray:
    """Mask of skin: chroma near typical skin (an ellipse in Cr/Cb), moderate saturation, not dark.

    Colour alone cannot tell skin from a ginger cat, a wooden table or a sunlit brick wall, so only
    solid blobs of a face-to-figure size count, and nothing does when skin-coloured areas would cover
    much of the picture (then it is fur or wood, not people)."""
    y = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb)[..., 0]
    sat = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)[..., 1]
    raw = (skin_tone(image, reach=1.0) & (y >= 80) & (sat >= 25) & (sat <= 150)).astype(np.uint8) * 255
    k = max(3, round(max(image.shape[:2]) / 160)) | 1
    brush = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.morphologyEx(cv2.morphologyEx(raw, cv2.MORPH_OPEN, brush), cv2.MORPH_CLOSE, brush)
    area = mask.size
    if np.count_nonzero(mask) > area * 0.3:
        return np.zeros(mask.shape, bool)
    out = np.zeros(mask.shape, np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in contours:
        size = cv2.contourArea(contour)
        hull = cv2.contourArea(cv2.convexHull(contour))
        # Faces, arms and hands are solid blobs; lit bricks and rims of cups are strips and rings.
        if area * 0.003 <= size <= area * 0.2 and size >= 0.7 * hull:
            cv2.drawContours(out, [contour], -1, 255, thickness=cv2.FILLED)
    # Inside a face, shadowed skin falls outside the strict box: relax it there, so the face is
    # painted yellow whole rather than patched with the hair's colour; eyes and mouth are inked on top.
    return (out > 0) & skin_tone(image)


def _cartoon_colours(palette: np.ndarray) -> np.ndarray:
    """Brighter and more saturated versions of the found colours, as a cel painter would mix them."""
    hsv = cv2.cvtColor(palette.reshape(-1, 1, 3), cv2.COLOR_BGR2HSV).astype(np.float32).reshape(-1, 3)
    s, v = hsv[:, 1], hsv[:, 2]
    colourful = s > 30
    hsv[:, 1] = np.where(colourful, np.clip(s * 1.6 + 30, 0, 235), s * 0.5)
    hsv[:, 2] = np.clip(v * 0.8 + 60, 0, 250)
    hsv[:, 2] = np.where(v < 80, v * 0.6, hsv[:, 2])  # near-blacks stay inky
    out = cv2.cvtColor(hsv.astype(np.uint8).reshape(-1, 1, 3), cv2.COLOR_HSV2BGR)
    return out.reshape(-1, 3)


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    h, w = image.shape[:2]
    work = work_copy(image=image, long_side=WORK_SIDE)
    smooth = flatten(image=work, passes=4, sigma_color=30)
    found = kmeans_lab(image=smooth, k=COLOURS, seed=seed)
    palette = np.vstack([_cartoon_colours(found), TONES])
    tones = len(found)
    yellow = tones + 1

    index = nearest_index(image=smooth, palette=found)
    index[_skin(smooth)] = yellow
    gray = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    # A face the detector found is painted yellow, cel-shaded where the photo's face is in shadow (eye
    # sockets, under the nose and chin): once a face is one colour, the shading is what still says
    # where its eyes and mouth are. (The skin test above is for the faces the detector does not find:
    # turned away, small, drawn.)
    face = face_skin(image=smooth, focus=focus)
    shading = face_shading(gray=gray, focus=focus)
    steps = len(_LEVELS) - 1 - np.clip(np.round(shading / TONE_STEP), 0, len(_LEVELS) - 1)
    tone = np.where(shading >= HIGHLIGHT_FROM, 0, 1 + steps).astype(np.uint8)
    index[face] = tones + tone[face]
    # Merge speckles into their surroundings: median of the flat picture, snapped back to the palette.
    # A face keeps its small shapes: an eye is a few pixels across.
    painted = index.copy()
    flat = cv2.medianBlur(palette[index], 9)
    index = nearest_index(image=flat, palette=palette)
    index[face] = painted[face]

    # Faces are drawn as cartoonists draw them: outlined, with no lines across them.
    lines = cartoon_lines(work=work, gray=gray, index=index, palette=palette, face=face, min_delta_e=18.0,
                          width=max(2, round(max(work.shape[:2]) / 260)))

    # Scale the flat colours up smoothly and snap them back, so region edges are curves, not stairs.
    big = cv2.resize(palette[index], (w, h), interpolation=cv2.INTER_LINEAR)
    big = palette[nearest_index(image=big, palette=palette)]
    return ink(image=big, coverage=upscale_mask(mask=lines, height=h, width=w))
