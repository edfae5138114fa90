"""`momentloop make --product`: a turntable (VP9 with alpha, as `momentloop product` writes it) placed as
one beat-timed scene of the video, over a styled photo, measured on the decoded output."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.api.test_cli_make import momentloop
from tests.functions.clips.test_clip_product_scene import TURN_FRAMES, encode, turntable_frame

PICKS = ["astronaut.png", "chelsea_cat.png", "coffee.png", "fox_parade.jpg"]
FPS = 12
DISC_GREEN = np.array([60, 170, 40], float)  # RGB of the turntable's disc
MARK_RED = np.array([255, 0, 0], float)


def colour_mask(frame: np.ndarray, colour: np.ndarray, *, tolerance: float) -> np.ndarray:
    return np.linalg.norm(frame.astype(float) - colour, axis=2) < tolerance


def test_the_turntable_turns_in_its_own_beat_timed_scene(tmp_path: Path, good_photos: list[Path]) -> None:
    turntable = encode([turntable_frame(k) for k in range(TURN_FRAMES)], tmp_path / "turn.webm",
                       codec=["-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", "-lossless", "1"])
    photos = [p for p in good_photos if p.name in PICKS]
    out, plan_path = tmp_path / "ad.mp4", tmp_path / "plan.json"
    proc = momentloop("make", *map(str, photos), "--product", str(turntable), "--aspect", "1:1", "--duration", "8",
                      "--fps", str(FPS), "--plan-out", str(plan_path), "-o", str(out), data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = json.loads(plan_path.read_text())
    products = [s for s in plan["scenes"] if s["kind"] == "product"]
    assert len(products) == 1
    shot = products[0]
    beats = plan["beats"]
    for t in (shot["start"], shot["end"]):
        assert min(abs(t - b) for b in beats) < 1e-6 or t == pytest.approx(plan["output"]["duration"])
    assert shot["end"] - shot["start"] >= 2.0

    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24")[::4, ::4] for f in container.decode(video=0)]
    assert len(frames) == 8 * FPS
    inside = range(round(shot["start"] * FPS) + 2, round(shot["end"] * FPS) - 2)
    outside = [i for i in range(len(frames)) if not round(shot["start"] * FPS) - 2 <= i < round(shot["end"] * FPS) + 2]
    green_in = [colour_mask(frames[i], DISC_GREEN, tolerance=40).mean() for i in inside]
    green_out = [colour_mask(frames[i], DISC_GREEN, tolerance=40).mean() for i in outside]
    # The disc fills a good part of the product shot, and shows nowhere else.
    assert np.median(green_in) > 0.05
    assert np.median(green_out) < 0.2 * np.median(green_in)

    # The red marker on the disc goes round: its angle about the disc's centre advances.
    angles = []
    for i in inside:
        disc = colour_mask(frames[i], DISC_GREEN, tolerance=40) | colour_mask(frames[i], MARK_RED, tolerance=90)
        mark = colour_mask(frames[i], MARK_RED, tolerance=90) & _dilate(disc)
        if mark.sum() < 3:
            continue
        cy, cx = np.argwhere(disc).mean(axis=0)
        my, mx = np.argwhere(mark).mean(axis=0)
        angles.append(np.degrees(np.arctan2(my - cy, mx - cx)))
    assert len(angles) >= len(inside) // 2
    turned = np.sum(np.abs((np.diff(angles) + 180) % 360 - 180))
    assert turned > 180, f"the marker moved {turned:.0f} degrees in the shot"


def _dilate(mask: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
