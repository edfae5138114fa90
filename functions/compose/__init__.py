"""The compose stage: plan + clips + music -> the final MP4, every frame encoded once (see stage.py)."""

from functions.compose.stage import COMPOSE_VERSION, run_compose
from functions.compose.timing import ClipWindow, clip_windows

__all__ = ["COMPOSE_VERSION", "ClipWindow", "clip_windows", "run_compose"]
