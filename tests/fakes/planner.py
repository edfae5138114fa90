"""The fake planners' default answer: every listed photo, in reverse order, with moves and crossfades a
test can recognise in the plan our code builds from it."""

from __future__ import annotations

import json
import re

MOVES = ["pan_left", "push_in", "pull_out", "pan_right"]


def listed_photo_ids(prompt: str) -> list[str]:
    return re.findall(r"^- (P\d+):", prompt, flags=re.MULTILINE)


def default_proposal(prompt: str) -> str:
    ids = listed_photo_ids(prompt)
    scenes = [
        {
            "photo_id": pid,
            "story_beat": f"moment {k + 1}",
            "move": MOVES[k % len(MOVES)],
            "transition_in": "crossfade",
            "emphasis": "long" if k == 0 else "normal",
            "animation_prompt": f"Scene {k + 1}: leaves sway while the camera moves slowly",
        }
        for k, pid in enumerate(reversed(ids))
    ]
    return json.dumps({"title": "A day out", "scenes": scenes, "left_out": []})
