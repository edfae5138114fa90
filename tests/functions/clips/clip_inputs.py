"""Inputs and measurements for the clips tests: synthetic photos whose content we control, requests,
and motion measured from decoded frames (independent of the renderer's own geometry)."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np

from shared.hashing import bytes_digest
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Framing, Scene
from shared.models.render import ClipRequest
from shared.store import ArtifactStore, LocalStore

FOCUS_CENTRE = Box(x=0.4, y=0.4, w=0.2, h=0.2)


def textured_photo(*, width: int, height: int, seed: int = 0) -> np.ndarray:
    """A colourful photo-like texture with detail at several scales: good for tracking and phase
    correlation. Every channel of every pixel lies in 60..240: no dark row or column anywhere, and no
    saturated primary colour, so a pure-red marker drawn on it can be found again."""
    rng = np.random.default_rng(seed)
    layers = np.zeros((height, width, 3), np.float32)
    for cell, weight in ((64, 0.45), (16, 0.35), (4, 0.2)):
        small = rng.uniform(0, 1, (max(2, height // cell), max(2, width // cell), 3)).astype(np.float32)
        layers += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    image = 60 + 180 * np.clip(layers, 0, 1)
    for _ in range(max(8, width * height // 6000)):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(3, max(4, min(width, height) // 25)))
        colour = tuple(int(c) for c in rng.integers(70, 230, 3))
        cv2.circle(image, (x, y), r, colour, -1, lineType=cv2.LINE_AA)
    return np.clip(image, 0, 255).astype(np.uint8)


def put_photo(store: ArtifactStore, image: np.ndarray) -> str:
    """Store `image` under a key made from its content, as the style stage would."""
    ok, buf = cv2.imencode(".png", image)
    assert ok
    key = f"styled/{bytes_digest(buf.tobytes())[:16]}.png"
    store.put_bytes(key, buf.tobytes())
    return key


def clip_request(
    *,
    image_key: str,
    move: CameraMove,
    focus: Box = FOCUS_CENTRE,
    framing: Framing = Framing.cover,
    width: int = 320,
    height: int = 320,
    fps: int = 30,
    frames: int = 45,
    lead: float = 0.25,
    seed: int = 0,
) -> ClipRequest:
    aspect = "1:1" if width == height else ("9:16" if width < height else "16:9")
    seconds = frames / fps
    scene = Scene(
        index=0,
        photo="photo.png",
        photo_index=0,
        image_key=image_key,
        start=lead,
        end=seconds - lead,
        beats=2,
        move=move,
        focus=focus,
        framing=framing,
        prompt="test",
    )
    output = OutputSpec(aspect=aspect, width=width, height=height, fps=fps, duration=seconds)
    return ClipRequest(
        image_key=image_key, scene=scene, output=output, frames=frames, lead_in=lead, lead_out=lead, seed=seed
    )


def clip_path(store: ArtifactStore, key: str) -> Path:
    assert isinstance(store, LocalStore)
    return store.path(key)


def translations(frames: np.ndarray) -> np.ndarray:
    """(dx, dy) in pixels of the picture between each pair of consecutive gray frames (phase
    correlation, sub-pixel): shape (n - 1, 2). Positive dx: content moved right."""
    h, w = frames.shape[1:3]
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    out = []
    for a, b in itertools.pairwise(frames):
        (dx, dy), _ = cv2.phaseCorrelate(a.astype(np.float32), b.astype(np.float32), window)
        out.append((dx, dy))
    return np.array(out)


def log_scales(frames: np.ndarray) -> np.ndarray:
    """Natural log of the picture's scale change between each pair of consecutive gray frames, from
    features tracked with pyramidal Lucas-Kanade and a fitted similarity: shape (n - 1,)."""
    out = []
    for a, b in itertools.pairwise(frames):
        pts = cv2.goodFeaturesToTrack(a, maxCorners=400, qualityLevel=0.01, minDistance=6, blockSize=7)
        assert pts is not None and len(pts) >= 30, "too few features to track"
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, pts.copy(), winSize=(21, 21), maxLevel=3)
        good = status.ravel() == 1
        m, _ = cv2.estimateAffinePartial2D(pts[good], nxt[good], method=cv2.LMEDS)
        assert m is not None
        out.append(np.log(np.hypot(m[0, 0], m[1, 0])))
    return np.array(out)


def roughness(series: np.ndarray, *, degree: int = 6) -> float:
    """RMS distance (same unit as `series`) between a per-frame motion series and a smooth polynomial
    fitted to it: what stair-steps and jitter add on top of a smooth camera."""
    t = np.linspace(-1, 1, len(series))
    fit = np.polynomial.polynomial.Polynomial.fit(t, series, degree)
    return float(np.sqrt(np.mean((series - fit(t)) ** 2)))
