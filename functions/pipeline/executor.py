"""Executors run one stage over many items. The pipeline does not know which one it has."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel

from functions.pipeline.cache import run_stage_item
from shared.dependencies import missing_dependency
from shared.errors import InputError, MomentLoopError
from shared.store import ArtifactStore

log = logging.getLogger(__name__)


class JobStoppedError(MomentLoopError):
    """The job was asked to stop (a user's cancel, or the server shutting down) and stopped between items."""

    def __init__(self) -> None:
        super().__init__("the job was stopped")


class StopFlag(threading.Event):
    """Set to stop a job between items. `reason` says what happens to it: `cancel` ends it as cancelled;
    `shutdown` puts it back in the queue, to resume (from the cache) when the server starts again."""

    def __init__(self) -> None:
        super().__init__()
        self.reason: Literal["cancel", "shutdown"] = "cancel"

    def request(self, reason: Literal["cancel", "shutdown"]) -> None:
        # A user's cancel outranks a shutdown: a cancelled job must not come back after a restart.
        if not self.is_set() or reason == "cancel":
            self.reason = reason
        self.set()


@dataclass(frozen=True)
class ItemOutcome:
    """The result of one item, or why it failed. One failing item never fails the others."""

    index: int
    result: BaseModel | None = None
    error: str | None = None
    hint: str | None = None
    bad_input: bool = False
    """The failure is the user's input (a broken file, a wrong option), not ours."""
    skipped: bool = False
    """The item never started: the job was asked to stop first."""

    @property
    def ok(self) -> bool:
        return self.result is not None


ItemProgress = Callable[[int, float | None, str], None]
"""Called as (item index, percent or None, message) while items run; from worker threads."""


class Executor(Protocol):
    def map(
        self,
        *,
        stage: str,
        requests: Sequence[BaseModel],
        on_progress: ItemProgress | None = None,
        on_done: Callable[[ItemOutcome], None] | None = None,
    ) -> list[ItemOutcome]: ...


def failure_error(*, error: str | None, hint: str | None, bad_input: bool) -> MomentLoopError:
    """An item's failure as an error a person can read: the user's input (InputError), or ours."""
    cls = InputError if bad_input else MomentLoopError
    return cls(error or "the stage failed", hint=hint or "")


def describe_failure(exc: BaseException) -> tuple[str, str | None]:
    """A one-line reason and a hint: ours say what is wrong; anything else is named, never dumped."""
    if isinstance(exc, MomentLoopError):
        return str(exc), exc.hint or None
    missing = missing_dependency(exc)  # a package to install, not a bug
    if missing is not None:
        return str(missing), missing.hint
    return f"{exc.__class__.__name__}: {exc}".splitlines()[0][:300], "this is a bug in MomentLoop; please report it"


class LocalExecutor:
    """A bounded thread pool (stage work is OpenCV, numpy and ffmpeg subprocesses, which free the GIL)."""

    def __init__(
        self,
        *,
        store: ArtifactStore,
        workers: int,
        limits: dict[str, int] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.workers = workers
        self.limits = limits or {}
        # Checked before each item starts: a cancelled job stops between items, never inside one, so
        # every artifact it leaves is whole and reusable.
        self.stop = stop

    def map(self, *, stage: str, requests: Sequence[BaseModel], on_progress: ItemProgress | None = None,
            on_done: Callable[[ItemOutcome], None] | None = None) -> list[ItemOutcome]:
        outcomes: list[ItemOutcome | None] = [None] * len(requests)
        lock = threading.Lock()

        def one(index: int, request: BaseModel) -> ItemOutcome:
            if self.stop is not None and self.stop.is_set():
                return ItemOutcome(index=index, error="stopped before it started", skipped=True)

            def report(*, percent: float | None = None, message: str = "") -> None:
                if on_progress is not None:
                    on_progress(index, percent, message)

            try:
                result = run_stage_item(stage_name=stage, request=request, store=self.store, report=report)
                return ItemOutcome(index=index, result=result)
            except Exception as exc:  # one item's failure is recorded, never raised through the pool
                if not isinstance(exc, MomentLoopError):
                    log.exception("%s item %d failed", stage, index)
                reason, hint = describe_failure(exc)
                return ItemOutcome(index=index, error=reason, hint=hint, bad_input=isinstance(exc, InputError))

        workers = max(1, min(self.workers, self.limits.get(stage, self.workers), len(requests) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ml-{stage}") as pool:
            futures = [pool.submit(one, i, r) for i, r in enumerate(requests)]
            for fut in as_completed(futures):
                outcome = fut.result()
                with lock:
                    outcomes[outcome.index] = outcome
                if on_done is not None:
                    on_done(outcome)
        return [o for o in outcomes if o is not None]


class UnavailableExecutor:
    """The executor the settings name, when it could not be made (a Modal executor without a store its workers
    share): every stage it is asked to run fails with that reason, so a job fails saying why."""

    def __init__(self, reason: MomentLoopError) -> None:
        self.reason = reason

    def map(self, *, stage: str, requests: Sequence[BaseModel], on_progress: ItemProgress | None = None,
            on_done: Callable[[ItemOutcome], None] | None = None) -> list[ItemOutcome]:
        raise self.reason
