"""The music stage: the user's soundtrack converted for the edit, or one generated on an exact beat grid."""

from functions.music.stage import MUSIC_VERSION, run_music

__all__ = ["MUSIC_VERSION", "run_music"]
