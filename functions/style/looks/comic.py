"""Pop-art comic: a few printed inks (red, yellow, blue, green, peach...), lit areas printed as Ben-Day
dots on cream paper, shadows overprinted with black dots, and bold black outlines."""

from __future__ import annotations

import cv2
import numpy as np

from functions.style.looks.focus import Focus
from functions.style.looks.grid import boost
from functions.style.looks.ink import cartoon_lines, face_shading, face_skin, flatten, ink, upscale_mask, work_copy
from functions.style.looks.palette import bgr_from_hex, nearest_index

DESCRIPTION = "Pop-art comic: primary inks, Ben-Day halftone dots, bold black outlines"

WORK_SIDE = 960
DOTS_ACROSS = 120

PAPER = bgr_from_hex("#FFF4DC")[0]
INKS = bgr_from_hex(
    "#FFF4DC",  # paper: whites are left unprinted
    "#161616",  # black
    "#E0262B",  # red
    "#FFDA1A",  # yellow
    "#1C5DB4",  # blue
    "#52B7EA",  # sky blue
    "#2E9E4F",  # green
    "#F6B994",  # peach
    "#F5851F",  # orange
    "#7B3E9D",  # purple
    "#E86FA6",  # pink
)
_PAPER, _BLACK, _SKIN = 0, 1, 7  # paper, black, peach
NEUTRAL_CHROMA = 8.0
"""Colours whose chroma (CIE a*b*, 8-bit Lab units) is below this print as bare paper."""
FACE_PAPER_FROM = 0.9
"""On a found face, paper shows through the skin ink as dots where the face is lighter than this share of
its typical lightness; the dots open up to FACE_PAPER_RADIUS at 0.3 above it..."""
FACE_PAPER_RADIUS = 0.85
FACE_BLACK_FROM = 0.95
"""...and black dots print over it where it is darker than this share, growing until they close up
into solid black at FACE_SOLID_BELOW: the face screened continuously, as a printer screens a portrait."""
FACE_SOLID_BELOW = 0.35


def _screen(*, height: int, width: int, pitch: float) -> tuple[np.ndarray, float]:
    """Distance (in dot pitches, 0..~0.7) from each pixel to the nearest dot centre of a 45° screen,
    and the pitch used.

    The pitch is nudged so the screen repeats every whole number of pixels: one tile is computed and
    repeated, instead of trigonometry over every pixel of a large picture."""
    period = max(4, round(pitch * np.sqrt(2.0)))
    pitch = period / float(np.sqrt(2.0))
    y, x = np.mgrid[0:period, 0:period].astype(np.float32)
    u = (x + y + 1.0) * (0.70710678 / pitch)
    v = (x - y) * (0.70710678 / pitch)
    du = u - np.floor(u) - 0.5
    dv = v - np.floor(v) - 0.5
    tile = np.sqrt(du * du + dv * dv)
    reps = (-(-height // period), -(-width // period))
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width]), pitch


def _levels(image: np.ndarray) -> np.ndarray:
    """Stretch lightness so the darkest 2 % is black and the brightest 2 % white: a dim photo would
    otherwise print as a sheet of black ink."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lo, hi = np.percentile(gray, [2, 98])
    scale = 255.0 / max(float(hi - lo), 32.0)
    lut = np.clip((np.arange(256, dtype=np.float32) - lo) * scale, 0, 255).astype(np.uint8)
    return cv2.LUT(image, lut)


def render(*, image: np.ndarray, seed: int, focus: Focus) -> np.ndarray:
    del seed  # a print screen is regular by nature
    h, w = image.shape[:2]
    work = work_copy(image=image, long_side=WORK_SIDE)
    smooth = _levels(flatten(image=work, passes=4, sigma_color=32))
    gray = cv2.cvtColor(smooth, cv2.COLOR_BGR2GRAY)
    # Hue decides the ink more than lightness does (lightness becomes dots below). Matched this way,
    # black stands for every neutral colour: those are left as bare paper, and black ink is kept for
    # what is really dark, as a printer would.
    vivid = boost(image=smooth, saturation=1.5, brightness=1.25)
    index = nearest_index(image=vivid, palette=INKS[1:], weights=(0.35, 1.0, 1.0)) + 1
    index[index == _BLACK] = _PAPER
    # Colours too close to grey to call (an overcast sky, a white wall in shade) are paper too: left to
    # the nearest ink, they would print as stray splashes of blue or peach.
    lab = cv2.cvtColor(cv2.GaussianBlur(smooth, (0, 0), 2.0), cv2.COLOR_BGR2Lab).astype(np.float32)
    index[np.hypot(lab[..., 1] - 128.0, lab[..., 2] - 128.0) < NEUTRAL_CHROMA] = _PAPER
    index[gray < 40] = _BLACK
    index = nearest_index(image=cv2.medianBlur(INKS[index], 7), palette=INKS)
    # A found face is printed in the skin ink whole, screened by its own light below, and not cut up by
    # outlines of its shading: those make it a crumpled mask.
    face = face_skin(image=smooth, focus=focus)
    index[face] = _SKIN

    lines = cartoon_lines(work=work, gray=gray, index=index, palette=INKS, face=face, min_delta_e=20.0,
                          width=max(3, round(max(work.shape[:2]) / 200)))

    # Back to full size: inks snapped again after a smooth scale, lightness and lines interpolated.
    colour = cv2.resize(INKS[index], (w, h), interpolation=cv2.INTER_LINEAR)
    index_full = nearest_index(image=colour, palette=INKS)
    base = INKS[index_full]
    lum = cv2.resize(gray, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0

    dist, pitch = _screen(height=h, width=w, pitch=max(h, w) / DOTS_ACROSS)
    sharp = pitch  # dot edges ramp over one pixel: anti-aliased, still crisp

    def dots(radius: float) -> np.ndarray:
        return np.clip((radius - dist) * sharp + 0.5, 0.0, 1.0)

    # Lit areas: the ink printed as dots on bare paper. Shadows: black dots over the ink.
    light = (lum > 0.6) & (index_full != _PAPER)
    dark = (lum < 0.33) & (index_full != _BLACK)
    bare = np.where(light, 1.0 - dots(0.36), 0.0).astype(np.float32)
    black = np.where(dark, dots(0.3), 0.0).astype(np.float32)
    if focus.faces:
        # A face follows its own light, not the picture's: its lit side lighter than hair beside it,
        # its eyes and the shadow of its nose darker than its cheeks. Flat areas of a cut-out lightness
        # make a face unreadable.
        on_face = cv2.resize(face.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        shading = cv2.resize(face_shading(gray=gray, focus=focus), (w, h), interpolation=cv2.INTER_LINEAR)
        paper = np.clip((shading - FACE_PAPER_FROM) / 0.3, 0.0, 1.0) * FACE_PAPER_RADIUS
        shadow = np.clip((FACE_BLACK_FROM - shading) / (FACE_BLACK_FROM - FACE_SOLID_BELOW), 0.0, 1.0) * 0.75
        bare = np.where(on_face, np.clip((paper - dist) * sharp + 0.5, 0.0, 1.0), bare).astype(np.float32)
        black = np.where(on_face, np.clip((shadow - dist) * sharp + 0.5, 0.0, 1.0), black).astype(np.float32)
    printed = ink(image=base, coverage=bare, colour=tuple(int(c) for c in PAPER))
    outline = upscale_mask(mask=lines, height=h, width=w)
    return ink(image=printed, coverage=np.maximum(black, outline))
