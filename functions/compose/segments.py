"""The output timeline cut into segments, each made once: a scene's body (frames shown from one clip
alone) or a crossfade (frames blended from two clips). Pure functions over the clip windows.

With the clip windows of timing.py, boundary k (frame F_k) has a crossfade of 2*h_k frames centred on
it, so the timeline reads:

    body 0 | blend 1 | body 1 | blend 2 | ... | body n-1      (a cut: no blend, bodies meet on F_k)

Body k covers output frames [F_k + h_k, F_{k+1} - h_{k+1}), which are clip k's frames
[2*h_k, frames_k - 2*h_{k+1}): exactly the body a split clip writes at the final settings, so compose
copies it. Blend k covers [F_k - h_k, F_k + h_k): clip k-1's last 2*h_k frames (its tail) over clip k's
first 2*h_k frames (its head)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from functions.compose.timing import ClipWindow
from shared.models.base import Frozen


class Piece(Frozen):
    """A run of one clip's frames: [start, end) counted from the clip's first frame."""

    clip: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(ge=1)

    @property
    def frames(self) -> int:
        return self.end - self.start


class Segment(Frozen):
    """A stretch of the output made in one go."""

    kind: Literal["body", "blend"]
    start_frame: int = Field(ge=0, description="First output frame of the segment.")
    frames: int = Field(ge=1)
    pieces: list[Piece] = Field(description="Body: one piece. Blend: the outgoing clip's, then the incoming's.")

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


def plan_segments(*, windows: list[ClipWindow]) -> list[Segment]:
    """Every output frame in exactly one segment, in order."""
    segments: list[Segment] = []
    for k, w in enumerate(windows):
        if w.lead_in_frames:
            before = windows[k - 1]
            blend = 2 * w.lead_in_frames
            segments.append(Segment(
                kind="blend",
                start_frame=w.start_frame,
                frames=blend,
                pieces=[Piece(clip=k - 1, start=before.frames - blend, end=before.frames),
                        Piece(clip=k, start=0, end=blend)],
            ))
        start = 2 * w.lead_in_frames
        end = w.frames - 2 * w.lead_out_frames
        if end > start:  # a scene whose crossfades meet in the middle has no body of its own
            segments.append(Segment(
                kind="body",
                start_frame=w.start_frame + start,
                frames=end - start,
                pieces=[Piece(clip=k, start=start, end=end)],
            ))
    return segments
