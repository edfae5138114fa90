"""What every clip provider offers: one scene in, one video file out; and what a provider that renders
frame by frame offers besides: the clip in parts, its body at the final video's settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from shared.models.render import ClipRequest
from shared.progress import Reporter
from shared.store import ArtifactStore


class ClipProvider(Protocol):
    name: str
    exact: bool
    """True when the provider renders exactly `request.frames` frames at the output's size and fps as
    H.264 4:2:0 (the stage then refuses a file that is not); video models that return their own length
    and size say False, and compose fits their measured clips to the scene."""

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        """Write the clip of `request` as an H.264 MP4 to `dest` (a temporary file the stage commits).

        The stage measures the file; see `exact`."""
        ...


@dataclass(frozen=True)
class ClipParts:
    """Temporary files for one clip written in parts (the stage commits them)."""

    head: Path | None
    """The first `request.head_frames` frames, a high-quality intermediate (None: no head)."""
    body: Path
    """The frames between head and tail, encoded with `request.final`."""
    tail: Path | None
    """The last `request.tail_frames` frames, a high-quality intermediate (None: no tail)."""


@runtime_checkable
class SplitClipProvider(ClipProvider, Protocol):
    def render_parts(self, *, request: ClipRequest, store: ArtifactStore, parts: ClipParts, report: Reporter) -> None:
        """Write the clip of `request` into `parts`; `request.final` is set."""
        ...
