"""Simpsons-style cartoon: flat, bright, saturated colour regions, skin in the show's yellow, thick black
ink outlines around shapes."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.ink import (
    drop_specks,
    flatten,
    ink,
    region_borders,
    thicken,
    upscale_mask,
    work_copy,
)
from functions.style.looks.palette import bgr_from_hex, kmeans_lab, nearest_index

DESCRIPTION = "Simpsons cartoon: flat bright colours, yellow skin, thick black outlines"

WORK_SIDE = 960
COLOURS = 9
YELLOW = bgr_from_hex("#FED90F")[0]


def _skin(image: np.ndarray) -> np.ndarray:
    """Mask of skin: chroma near typical skin (an ellipse in Cr/Cb), moderate saturation, not dark.

    Colour alone cannot tell skin from a ginger cat, a wooden table or a sunlit brick wall, so only
    solid blobs of a face-to-figure size count, and nothing does when skin-coloured areas would cover
    much of the picture (then it is fur or wood, not people)."""
    ycc = cv2.cvtColor(image, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hue, sat = hsv[..., 0], hsv[..., 1]
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    chroma = ((cr - 149.0) / 13.0) ** 2 + ((cb - 108.0) / 8.0) ** 2
    # Skin is orange-red; blonde hair and sand sit further toward yellow (OpenCV hue 0..179).
    reddish = (hue <= 17) | (hue >= 170)
    raw = ((chroma <= 1.0) & reddish & (y >= 80) & (sat >= 25) & (sat <= 150)).astype(np.uint8) * 255
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
    return (out > 0) & (chroma <= 1.8) & reddish


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


def render(*, image: np.ndarray, seed: int) -> np.ndarray:
    h, w = image.shape[:2]
    work = work_copy(image=image, long_side=WORK_SIDE)
    smooth = flatten(image=work, passes=4, sigma_color=30)
    found = kmeans_lab(image=smooth, k=COLOURS, seed=seed)
    palette = np.vstack([_cartoon_colours(found), YELLOW[None, :]])
    yellow = len(palette) - 1

    index = nearest_index(image=smooth, palette=found)
    index[_skin(smooth)] = yellow
    # Merge speckles into their surroundings: median of the flat picture, snapped back to the palette.
    flat = cv2.medianBlur(palette[index], 9)
    index = nearest_index(image=flat, palette=palette)

    side = max(work.shape[:2])
    border = region_borders(index=index, palette=palette, min_delta_e=18.0)
    border = drop_specks(mask=border.astype(np.uint8) * 255, min_area=side // 12)
    gray = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    detail = drop_specks(mask=cv2.Canny(gray, 80, 180), min_area=side // 12)
    lines = thicken(mask=(border > 0) | (detail > 0), width=max(2, round(side / 260)))

    # Scale the flat colours up smoothly and snap them back, so region edges are curves, not stairs.
    big = cv2.resize(palette[index], (w, h), interpolation=cv2.INTER_LINEAR)
    big = palette[nearest_index(image=big, palette=palette)]
    return ink(image=big, coverage=upscale_mask(mask=lines, height=h, width=w))
