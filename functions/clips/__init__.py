"""The clips stage: each scene's styled photo brought to life as a short clip."""

from functions.clips.stage import CLIPS_VERSION, clip_key, run_clip

__all__ = ["CLIPS_VERSION", "clip_key", "run_clip"]
