"""The analyze stage: photos -> PhotoInfo, music -> MusicInfo."""

from functions.analyze.music import analyze_music
from functions.analyze.photos import analyze_photo

__all__ = ["analyze_music", "analyze_photo"]
