"""The analyze stage: photos -> PhotoInfo, music -> MusicInfo."""

from functions.analyze.music import MUSIC_ANALYSIS_VERSION, analyze_music
from functions.analyze.photos import ANALYZE_VERSION, analyze_photo

__all__ = ["ANALYZE_VERSION", "MUSIC_ANALYSIS_VERSION", "analyze_music", "analyze_photo"]
