"""The camera move and framing of a scene, chosen from what is in the photo."""

from __future__ import annotations

from shared.models import Box, CameraMove, Framing, OutputSpec, PhotoInfo

WIDE_RATIO = 1.6
"""A photo this many times wider (or taller) than the frame is a panorama: the camera travels along it."""

_CALM_MOVES = (CameraMove.drift, CameraMove.push_in, CameraMove.pull_out)


def cover_fraction(*, photo: PhotoInfo, output: OutputSpec) -> tuple[float, float]:
    """The share of the photo's width and height a cover-fit frame shows."""
    ratio = (output.width / output.height) / photo.aspect
    return (ratio, 1.0) if ratio < 1 else (1.0, 1.0 / ratio)


def choose_framing(*, photo: PhotoInfo, output: OutputSpec) -> Framing:
    """Cover unless cropping to the frame would cut the subject; then the whole photo over a blurred fill."""
    fw, fh = cover_fraction(photo=photo, output=output)
    margin = 0.9
    if photo.subject.w > fw * margin or photo.subject.h > fh * margin:
        return Framing.blurred_fill
    return Framing.cover


def choose_move(*, photo: PhotoInfo, output: OutputSpec, previous: CameraMove | None, index: int) -> CameraMove:
    """Push toward a face, travel along a panorama, otherwise a slow zoom or drift, never the same move twice."""
    ratio = photo.aspect / (output.width / output.height)
    if not photo.faces and ratio >= WIDE_RATIO:
        pan = CameraMove.pan_right if previous != CameraMove.pan_right else CameraMove.pan_left
        return pan
    if not photo.faces and ratio <= 1 / WIDE_RATIO:
        return CameraMove.pan_down if previous != CameraMove.pan_down else CameraMove.pan_up
    if photo.faces:
        return CameraMove.push_in if previous != CameraMove.push_in else CameraMove.drift
    options = [m for m in _CALM_MOVES if m != previous]
    return options[index % len(options)]


def focus_box(*, photo: PhotoInfo) -> Box:
    return photo.subject
