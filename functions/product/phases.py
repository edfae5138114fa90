"""The product stage's phases and their spans of one overall percent, so a single `report` carries them all:
a message is "<phase>: <what>", and `phase_percent` turns the overall percent back into the phase's own."""

from __future__ import annotations

from shared.progress import Reporter

PHASES: dict[str, tuple[float, float]] = {
    "frames": (0.0, 5.0),
    "poses": (5.0, 40.0),
    "dataset": (40.0, 45.0),
    "train": (45.0, 65.0),
    "render": (65.0, 93.0),
    "encode": (93.0, 100.0),
}


def phase_reporter(report: Reporter, phase: str) -> Reporter:
    """A reporter for one phase: its 0..100 mapped onto the phase's span of the stage's percent."""
    low, high = PHASES[phase]

    def _report(*, percent: float | None = None, message: str = "") -> None:
        overall = None if percent is None else low + (high - low) * min(100.0, max(0.0, percent)) / 100.0
        report(percent=overall, message=f"{phase}: {message}")

    return _report


def phase_percent(*, phase: str, percent: float) -> float:
    """The phase's own percent from the stage's overall percent (the inverse of `phase_reporter`)."""
    low, high = PHASES[phase]
    return 100.0 * min(1.0, max(0.0, (percent - low) / (high - low)))
