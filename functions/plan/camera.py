"""The camera move and framing of a scene, chosen from what is in the photo."""

from __future__ import annotations

from functions.analyze.subject import head_box, union_box
from functions.clips.camera import CUT_MARGIN
from shared.models.base import Box, OutputSpec
from shared.models.media import PhotoInfo
from shared.models.plan import CameraMove, Framing

WIDE_RATIO = 1.6
"""A photo this many times wider (or taller) than the frame is a panorama: the camera travels along it."""

_CALM_MOVES = (CameraMove.drift, CameraMove.push_in, CameraMove.pull_out)


def cover_fraction(*, photo: PhotoInfo, output: OutputSpec) -> tuple[float, float]:
    """The share of the photo's width and height a cover-fit frame shows."""
    ratio = (output.width / output.height) / photo.aspect
    return (ratio, 1.0) if ratio < 1 else (1.0, 1.0 / ratio)


def heads(*, photo: PhotoInfo) -> list[Box]:
    """The heads around the photo's faces (hair included): the renderer keeps each whole in every frame."""
    return [head_box(face) for face in photo.faces]


def choose_framing(*, photo: PhotoInfo, output: OutputSpec) -> Framing:
    """Cover, unless the faces' heads spread wider (or taller) than a cover-fit frame: then the group is
    shown whole over a blurred fill (the renderer zooms out only as far as that needs). A subject without
    faces that is wider than the frame is travelled over instead (see choose_move)."""
    if not photo.faces:
        return Framing.cover
    fw, fh = cover_fraction(photo=photo, output=output)
    group = union_box(boxes=heads(photo=photo))
    return Framing.blurred_fill if group.w > fw or group.h > fh else Framing.cover


def choose_move(*, photo: PhotoInfo, output: OutputSpec, previous: CameraMove | None, index: int) -> CameraMove:
    """Push toward a face; travel along a panorama, or over a subject wider (taller) than the frame, so that
    all of it is seen; otherwise a slow zoom or drift; never the same move twice."""
    if photo.faces:
        return CameraMove.push_in if previous != CameraMove.push_in else CameraMove.drift
    ratio = photo.aspect / (output.width / output.height)
    fw, fh = cover_fraction(photo=photo, output=output)
    subject = photo.subject
    if ratio >= WIDE_RATIO or subject.w * (1 - CUT_MARGIN) > fw:
        return CameraMove.pan_right if previous != CameraMove.pan_right else CameraMove.pan_left
    if ratio <= 1 / WIDE_RATIO or subject.h * (1 - CUT_MARGIN) > fh:
        return CameraMove.pan_down if previous != CameraMove.pan_down else CameraMove.pan_up
    options = [m for m in _CALM_MOVES if m != previous]
    return options[index % len(options)]


def focus_box(*, photo: PhotoInfo) -> Box:
    return photo.subject
