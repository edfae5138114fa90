"""Media helpers: locating ffmpeg, probing files, decoding photos safely."""
