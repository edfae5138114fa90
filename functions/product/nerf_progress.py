"""Reading `ns-train`'s console as it trains: step, share done, time left, and the training loss.

nerfstudio's LocalWriter (nerfstudio/utils/writer.py) prints, with `--logging.local-writer.max-log-size 0`,
a header and then one plain row every `--logging.steps-per-log` steps:

    Step (% Done)       Train Iter (time)    ETA (time)           Train Rays / Sec
    -----------------------------------------------------------------------------------
    3000 (30.00%)       23.512 ms            2 m, 44 s            1.47 M

(`f"{'Step (% Done)':<20}"` then `f"{name:<20} "` per tracked stat; the row is `f"{step} ({fraction*100:.02f}%)"`
padded to 20, then each value padded to 20 plus a space; times come from `_format_time`). The loss is not
among the stats LocalWriter can print (`stats_to_track` takes only `EventName`s), so nerf_launch.py echoes
each `Train Loss` scalar nerfstudio logs as `[momentloop] step 3000 loss 0.0213`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

LOSS_PREFIX = "[momentloop] "
"""What nerf_launch.py writes before a loss line (kept in step with it; the train test runs both)."""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ROW = re.compile(r"^\s*(\d+) \((\d+(?:\.\d+)?)%\)")
_LOSS = re.compile(r"^\[momentloop\] step (\d+) loss ([-+0-9.eEinfa]+)\s*$")
_HEADER = "Step (% Done)"
_ETA = "ETA (time)"


class TrainProgress(BaseModel):
    """One progress row of a training run."""

    step: int
    total: int
    percent: float
    loss: float | None = None
    eta: str | None = None

    def message(self) -> str:
        text = f"step {self.step}/{self.total}"
        if self.loss is not None:
            text += f" loss {self.loss:.3g}"
        if self.eta:
            text += f", {self.eta} left"
        return text


class TrainLogParser:
    """Fed ns-train's output line by line; returns a `TrainProgress` for each progress row."""

    def __init__(self, *, total_steps: int) -> None:
        self.total = max(1, total_steps)
        self.columns: list[tuple[str, int]] = []
        self.loss: float | None = None
        self.loss_step: int | None = None
        self.last: TrainProgress | None = None

    def feed(self, line: str) -> TrainProgress | None:
        text = _ANSI.sub("", line).rstrip("\r\n")
        if text.startswith(_HEADER):
            self.columns = _header_columns(text)
            return None
        if loss := _LOSS.match(text.strip()):
            try:
                self.loss, self.loss_step = float(loss.group(2)), int(loss.group(1))
            except ValueError:
                return None
            return None
        row = _ROW.match(text)
        if row is None:
            return None
        step = int(row.group(1))
        progress = TrainProgress(
            step=step,
            total=self.total,
            percent=min(100.0, max(0.0, float(row.group(2)))),
            # the loss of this step or, between loss lines, the latest one
            loss=self.loss if self.loss_step is not None and self.loss_step <= step else None,
            eta=self._column(text, _ETA),
        )
        self.last = progress
        return progress

    def _column(self, row: str, name: str) -> str | None:
        names = [n for n, _ in self.columns]
        if name not in names:
            return None
        i = names.index(name)
        start = self.columns[i][1]
        end = self.columns[i + 1][1] if i + 1 < len(self.columns) else len(row)
        value = row[start:end].strip()
        if not value or "  " in value:  # a value wider than its column shifts the rest: ignore, never misread
            return None
        return value


def _header_columns(header: str) -> list[tuple[str, int]]:
    """(name, start offset) of each stat column of a LocalWriter header: the first column is 20 wide, the
    others 21 (`{name:<20} `)."""
    columns: list[tuple[str, int]] = []
    for match in re.finditer(r"\S+(?: \S+)*", header):
        columns.append((match.group(0), match.start()))
    return columns[1:] if columns and columns[0][0] == _HEADER else columns
