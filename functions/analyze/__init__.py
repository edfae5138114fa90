"""The analyze stage: photos -> PhotoInfo, music -> MusicInfo (entries: stage.py)."""

from functions.analyze.stage import ANALYZE_VERSION, MUSIC_ANALYSIS_VERSION, analyze_music, analyze_photo

__all__ = ["ANALYZE_VERSION", "MUSIC_ANALYSIS_VERSION", "analyze_music", "analyze_photo"]
