"""The final video's H.264 settings, in one place.

The clip stage encodes each scene's body with them and compose encodes the crossfades with them, so
compose can join the pieces by copying packets instead of encoding the whole video a second time. That
join is only valid when every piece carries the same sequence and picture parameter sets, hence:

- x264's `stitchable` option, made for segmented encodes: headers do not depend on the content;
- the same colour description and sample aspect ratio on every piece's frames (they go into the SPS):
  BT.601 limited-range matrix with BT.709 primaries and transfer, as our frames are made (see
  functions/clips/yuv.py), and square pixels.

Compose still compares the pieces' parameter sets before copying and encodes a piece again when they
differ, so a mismatch costs time, never a broken file."""

from __future__ import annotations

from shared.models.render import FinalEncoding

GOP_SECONDS = 2
"""A keyframe every 2 s: quick seeking in players and editors at a small cost in size."""

COLOUR_TAGS = {"range": "tv", "colorspace": "smpte170m", "color_primaries": "bt709", "color_trc": "bt709"}
"""The colour description of every frame we encode (the `setparams` filter's names)."""


def encoder_options(*, encoding: FinalEncoding, fps: int) -> dict[str, str | int]:
    """ffmpeg output options of a final-settings video stream (ffmpeg-python keyword form)."""
    return {
        "vcodec": "libx264",
        "preset": encoding.preset,
        "crf": encoding.crf,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "g": GOP_SECONDS * fps,
        "x264-params": "stitchable=1",
    }


def encoder_args(*, encoding: FinalEncoding, fps: int) -> list[str]:
    """The same options as command-line arguments."""
    args: list[str] = []
    for name, value in encoder_options(encoding=encoding, fps=fps).items():
        args += [f"-{name}", str(value)]
    return args


def frame_tags_filter() -> str:
    """A filter chain giving frames the colour description and square pixels every piece shares."""
    params = ":".join(f"{k}={v}" for k, v in COLOUR_TAGS.items())
    return f"setparams={params},setsar=1"
