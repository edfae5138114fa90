"""What every clip provider offers: one scene in, one video file out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from shared.models import ClipRequest
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
