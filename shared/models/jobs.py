"""Jobs and their progress: a job's row and the lines of its append-only event log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.models.base import Frozen

EventType = Literal["stage", "item", "progress", "log", "done", "failed"]
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class ProgressEvent(Frozen):
    """One line of a job's append-only event log."""

    job_id: str
    seq: int = Field(ge=0, description="Per-job sequence number, gap-free from 1; 0 before it is stored.")
    ts: datetime
    type: EventType
    stage: str | None = None
    item: str | None = None
    status: str | None = None
    percent: float | None = Field(default=None, ge=0, le=100)
    total: int | None = Field(default=None, ge=0, description="On `stage` events: how many items the stage has.")
    message: str = ""
    error: str | None = None
    hint: str | None = None


class JobRecord(Frozen):
    id: str
    kind: str
    status: JobStatus
    params: dict[str, object]
    result: dict[str, object] | None = None
    error: str | None = None
    created_at: datetime
    updated_at: datetime
