"""What the command lines show and write: the two consoles (progress, warnings and errors on stderr; the
result line on stdout), one progress bar per stage or phase, and the finished file put in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from shared.models.jobs import ProgressEvent

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def progress_bars(console: Console) -> Progress:
    """The bars every command shows while it works (none when stderr is not a terminal)."""
    return Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=False, disable=not console.is_terminal)


STAGE_TITLES = {
    "analyze_photo": "analyze photos",
    "music": "music",
    "analyze_music": "analyze music",
    "plan": "plan",
    "style": "style",
    "clips": "clips",
    "compose": "compose",
}


class StageBars:
    """One progress bar per stage: the mean progress of its items, fed by the pipeline's events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.items: dict[str, dict[str, float]] = {}
        self.totals: dict[str, int] = {}

    def __call__(self, event: ProgressEvent) -> None:
        stage = event.stage
        if stage is None:
            return
        title = STAGE_TITLES.get(stage, stage)
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(title, total=100)
            self.items[stage] = {}
        if event.type == "stage" and event.status == "running":
            self.totals[stage] = event.total or 1
            self.progress.update(self.tasks[stage], description=f"{title} ({event.message})")
        elif event.type == "progress" and event.item is not None and event.percent is not None:
            self.items[stage][event.item] = event.percent
            if event.message and self.totals.get(stage, 1) == 1:
                # A one-item stage (analyze music, plan, compose) says what it is doing: a bar at 0 % for
                # a minute (librosa compiling on the first run) would otherwise look frozen.
                self.progress.update(self.tasks[stage], description=f"{title} ({escape(event.message)})")
        elif event.type == "item" and event.item is not None:
            self.items[stage][event.item] = 100.0
        elif event.type == "stage" and event.status == "done":
            self.items[stage] = {"*": 100.0 * self.totals.get(stage, 1)}
        elif event.type == "log" and event.status in ("skipped", "fallback", "note"):
            self.progress.console.print(f"[yellow]  {event.message}[/]")
        done = sum(self.items[stage].values()) / max(1, self.totals.get(stage, 1))
        self.progress.update(self.tasks[stage], completed=min(100.0, done))


class PhaseBars:
    """One progress bar per phase of a stage whose messages read "<phase>: <what>" (the product stage)."""

    def __init__(self, progress: Progress, *, phases: dict[str, str], to_phase_percent: Any) -> None:
        self.progress = progress
        self.phases = phases
        self.to_phase_percent = to_phase_percent
        self.tasks: dict[str, TaskID] = {}
        self.current: str | None = None

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        phase, _, detail = message.partition(": ")
        if phase not in self.phases:
            return
        if self.current is not None and self.current != phase:
            self.progress.update(self.tasks[self.current], completed=100)
        self.current = phase
        title = self.phases[phase]
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(title, total=100)
        update: dict[str, Any] = {"description": f"{title} ({detail})" if detail else title}
        if percent is not None:
            update["completed"] = self.to_phase_percent(phase=phase, percent=percent)
        self.progress.update(self.tasks[phase], **update)


def copy_out(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".momentloop-", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        # mkstemp makes the file private (0600); the user's video gets the permissions any new file of
        # theirs would (0644 under the usual umask), so it can be shared or served.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
