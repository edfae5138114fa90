"""ModalExecutor: one stage's items fanned out to Modal functions, behind the same interface as
LocalExecutor. The pipeline does not know which executor it has.

Each item is one `.spawn()` of the stage's Modal function: an asynchronous call with its own handle,
so one item failing, timing out or being cancelled never touches the others, and the calls keep
running (and land in the content-addressed cache) even if this process goes away. `.map()` would
stream inputs faster, but gives no per-item handle to cancel and ties the inputs to this client.

What travels is small: the request as JSON in, the result as JSON out (artifact keys, never the
artifacts themselves). Artifacts move through the store both sides share: a Modal Volume, committed
before the workers start and reloaded after they finish, or S3.

The worker side is `run_remote_item`, which a Modal function calls in its container: the same unit of
work as LocalExecutor runs, with failures that retrying cannot fix (MomentLoopError: a bad photo, a
refused prompt) returned as a reply rather than raised, so Modal's retries are spent only on what a
retry can fix (a lost container, a network fault) and the one-line reason survives the trip.

This module imports `modal` only when it looks a function up by name; everything else takes handles."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any, Protocol

from pydantic import BaseModel

from functions.pipeline.cache import run_stage_item
from functions.pipeline.executor import (
    ItemOutcome,
    ItemProgress,
    JobStoppedError,
    describe_failure,
    failure_error,
)
from functions.pipeline.stages import get_stage
from shared.errors import InputError, MomentLoopError
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

DEFAULT_APP_NAME = "momentloop"


# ---------------------------------------------------------------- the worker side


class StageReply(BaseModel):
    """What a Modal stage function returns: a result (by reference), or why the item cannot be done."""

    result: dict[str, Any] | None = None
    error: str | None = None
    hint: str | None = None
    bad_input: bool = False


class ProgressSink(Protocol):
    """Where a remote item's progress goes (a `modal.Queue` in production)."""

    def put(self, v: Any, block: bool = True, timeout: float | None = None) -> None: ...


def _queue_reporter(sink: ProgressSink, index: int, *, every: float = 0.5) -> Callable[..., None]:
    last = [0.0]

    def report(*, percent: float | None = None, message: str = "") -> None:
        now = time.monotonic()
        if percent is None or (now - last[0] < every and percent < 100):
            return  # at most two updates a second per item: progress is for eyes, not an audit log
        last[0] = now
        try:
            sink.put((index, float(percent), message), block=False)
        except Exception:  # progress is best effort; the item's own work must go on
            log.debug("progress update for item %d dropped", index, exc_info=True)

    return report


def run_remote_item(
    *,
    stage: str,
    request: dict[str, Any],
    store: ArtifactStore,
    progress: ProgressSink | None = None,
    index: int = 0,
) -> dict[str, Any]:
    """Run one item of `stage` in this (Modal) container and reply with a StageReply as JSON.

    MomentLoop's own errors come back as a reply; anything else is raised, for Modal to retry."""
    spec = get_stage(stage)
    parsed = spec.request.model_validate(request)
    report = _queue_reporter(progress, index) if progress is not None else None
    try:
        if report is None:
            result = run_stage_item(stage_name=stage, request=parsed, store=store)
        else:
            result = run_stage_item(stage_name=stage, request=parsed, store=store, report=report)
    except MomentLoopError as exc:
        reason, hint = describe_failure(exc)
        return StageReply(error=reason, hint=hint, bad_input=isinstance(exc, InputError)).model_dump(mode="json")
    return StageReply(result=result.model_dump(mode="json")).model_dump(mode="json")


def unwrap(reply: dict[str, Any]) -> dict[str, Any]:
    """The result of a reply, or the failure as an error a person can read (for one-off calls)."""
    parsed = StageReply.model_validate(reply)
    if parsed.result is None:
        raise failure_error(error=parsed.error, hint=parsed.hint, bad_input=parsed.bad_input)
    return parsed.result


# ---------------------------------------------------------------- the caller side


class FunctionCallHandle(Protocol):
    """What `.spawn()` returns (a `modal.FunctionCall`)."""

    def get(self, timeout: float | None = None) -> Any: ...
    def cancel(self, terminate_containers: bool = False) -> None: ...


class StageFunction(Protocol):
    """A stage's Modal function (`modal.Function`), or anything with its `.spawn` semantics."""

    def spawn(self, *args: Any, **kwargs: Any) -> FunctionCallHandle: ...


class SyncedVolume(Protocol):
    """A Modal Volume as the caller sees it: publish our writes, then see the workers' writes."""

    def commit(self) -> None: ...
    def reload(self) -> None: ...


class ProgressChannel(Protocol):
    """Carries (index, percent, message) from workers to us (a `modal.Queue` in production)."""

    def put(self, v: Any, block: bool = True, timeout: float | None = None) -> None: ...
    def get_many(self, n_values: int, block: bool = True, timeout: float | None = None) -> list[Any]: ...


def modal_progress_channel() -> contextlib.AbstractContextManager[ProgressChannel]:
    import modal

    channel: contextlib.AbstractContextManager[ProgressChannel] = modal.Queue.ephemeral()
    return channel


class InProcessCall:
    """A `.spawn()` of an InProcessFunction: `get` waits like `modal.FunctionCall.get`."""

    def __init__(self, future: Future[Any]) -> None:
        self.future = future

    def get(self, timeout: float | None = None) -> Any:
        return self.future.result(timeout=timeout)  # raises the builtin TimeoutError, as Modal does

    def cancel(self, terminate_containers: bool = False) -> None:
        self.future.cancel()  # a running body is not interrupted; a queued one never starts


class InProcessFunction:
    """A Modal function's body (`fn.local`) with `.spawn` semantics, run in a thread of this process:
    what the Modal app's own job function uses under `.local()`, with no Modal account involved."""

    def __init__(self, body: Callable[..., Any], *, workers: int = 4) -> None:
        self.body = body
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="in-process")

    def spawn(self, *args: Any, **kwargs: Any) -> InProcessCall:
        return InProcessCall(self.pool.submit(self.body, *args, **kwargs))


class InProcessChannel:
    """A progress channel within one process (`modal.Queue`'s put / get_many)."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue()

    @classmethod
    @contextlib.contextmanager
    def open(cls) -> Iterator[InProcessChannel]:
        yield cls()

    def put(self, v: Any, block: bool = True, timeout: float | None = None) -> None:
        self.queue.put(v, block=block, timeout=timeout)

    def get_many(self, n_values: int, block: bool = True, timeout: float | None = None) -> list[Any]:
        items: list[Any] = []
        try:
            items.append(self.queue.get(block=block and timeout != 0, timeout=timeout or None))
            while len(items) < n_values:
                items.append(self.queue.get_nowait())
        except queue.Empty:
            pass
        return items


@contextlib.contextmanager
def drained(
    channel: ProgressChannel, *, on_progress: ItemProgress, ignore: Callable[[int], bool] = lambda _index: False
) -> Iterator[None]:
    """While the block runs, a thread hands every (index, percent, message) that arrives on `channel` to
    `on_progress` (unless `ignore(index)`); after it, one last round catches what arrived late. Progress
    is best effort: a channel that cannot be read is skipped."""
    done = threading.Event()

    def drain() -> None:
        while True:
            last_round = done.is_set()
            try:
                updates = channel.get_many(100, block=not last_round, timeout=0.5)
            except Exception:
                log.debug("progress channel read failed", exc_info=True)
                updates = []
            for index, percent, message in updates:
                if ignore(index):
                    continue
                # A job's listener refuses once it is asked to stop; the executor's own stop flag ends the
                # calls, and the drain goes on to the end (this thread is not the item's).
                with contextlib.suppress(JobStoppedError):
                    on_progress(index, percent, message)
            if last_round:
                return

    reader = threading.Thread(target=drain, name="modal-progress", daemon=True)
    reader.start()
    try:
        yield
    finally:
        done.set()
        reader.join(timeout=5)


class ModalExecutor:
    """Runs a stage's items as Modal function calls, at most `max_in_flight` at once.

    `functions` maps stage names to function handles (inside the Modal app: its own functions);
    without it, stages are looked up in the deployed app `app_name`. `volume` is the shared Volume
    when the store is one. `stop`, when set, stops the stage: items not yet sent are skipped, and items
    already running are cancelled on Modal when the stop is a cancel (`stop.reason == "cancel"`, the
    default) or left to finish into the cache when it is a shutdown, to be reused on resume."""

    def __init__(
        self,
        *,
        functions: Mapping[str, StageFunction] | None = None,
        app_name: str = DEFAULT_APP_NAME,
        volume: SyncedVolume | None = None,
        stop: threading.Event | None = None,
        progress_channel: Callable[[], contextlib.AbstractContextManager[ProgressChannel]] | None = None,
        max_in_flight: int = 256,
        poll_seconds: float = 1.0,
    ) -> None:
        self.functions: dict[str, StageFunction] = dict(functions or {})
        self.app_name = app_name
        self.volume = volume
        self.stop = stop
        self.progress_channel = progress_channel
        self.max_in_flight = max(1, max_in_flight)
        self.poll_seconds = poll_seconds
        self._lookup_lock = threading.Lock()

    def function(self, stage: str) -> StageFunction:
        with self._lookup_lock:
            if stage not in self.functions:
                import modal

                get_stage(stage)  # an unknown stage is our bug: say so before asking Modal
                self.functions[stage] = modal.Function.from_name(self.app_name, stage)
            return self.functions[stage]

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def _cancel_running(self) -> bool:
        return getattr(self.stop, "reason", "cancel") == "cancel"

    def map(self, *, stage: str, requests: Sequence[BaseModel], on_progress: ItemProgress | None = None,
            on_done: Callable[[ItemOutcome], None] | None = None) -> list[ItemOutcome]:
        if not requests:
            return []
        result_model = get_stage(stage).result
        fn = self.function(stage)
        payloads = [r.model_dump(mode="json") for r in requests]
        if self.volume is not None:
            self.volume.commit()  # the workers must see what we wrote (ingested photos, earlier results)

        outcomes: list[ItemOutcome | None] = [None] * len(requests)
        finished: set[int] = set()
        lock = threading.Lock()

        with self._progress(on_progress=on_progress, finished=finished, lock=lock) as channel:

            def one(index: int) -> ItemOutcome:
                return self._one(fn=fn, stage=stage, index=index, payload=payloads[index], channel=channel,
                                 result_model=result_model)

            workers = min(len(requests), self.max_in_flight)
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"modal-{stage}") as pool:
                futures = [pool.submit(one, i) for i in range(len(requests))]
                for fut in as_completed(futures):
                    outcome = fut.result()
                    with lock:
                        outcomes[outcome.index] = outcome
                        finished.add(outcome.index)
                    if on_done is not None:
                        on_done(outcome)

        if self.volume is not None:
            self._reload()
        return [o for o in outcomes if o is not None]

    def _one(
        self,
        *,
        fn: StageFunction,
        stage: str,
        index: int,
        payload: dict[str, Any],
        channel: ProgressChannel | None,
        result_model: type[BaseModel],
    ) -> ItemOutcome:
        if self._stopping():
            return ItemOutcome(index=index, error="stopped before it started", skipped=True)
        try:
            call = fn.spawn(payload, channel, index)
        except Exception as exc:  # Modal unreachable, app not deployed: this item fails, the others try
            log.warning("%s item %d could not be sent to Modal: %s", stage, index, exc)
            return self._failure(index, exc)
        while True:
            if self._stopping():
                if self._cancel_running():
                    with contextlib.suppress(Exception):
                        call.cancel()
                    return ItemOutcome(index=index, error="cancelled while running on Modal", skipped=True)
                return ItemOutcome(index=index, error="left running on Modal; its result lands in the cache",
                                   skipped=True)
            try:
                reply = call.get(timeout=self.poll_seconds)
            except TimeoutError:  # not done yet (Modal raises the builtin TimeoutError for a poll)
                continue
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # retries exhausted, container lost, a bug raised in the worker,
                # or the call cancelled from outside (Modal's InputCancellation is a BaseException)
                if not isinstance(exc, MomentLoopError):
                    log.warning("%s item %d failed on Modal: %s", stage, index, str(exc).splitlines()[0:1])
                return self._failure(index, exc)
            return self._outcome(index=index, reply=reply, result_model=result_model)

    @staticmethod
    def _failure(index: int, exc: BaseException) -> ItemOutcome:
        reason, hint = describe_failure(exc)
        if type(exc).__module__.split(".")[0] == "modal":
            # Modal's own failures (a timeout, a lost container, an app that is not deployed) are not
            # bugs in our code: say where to look instead.
            hint = "Modal could not run it; see `modal app logs momentloop` (and `modal deploy modal_app.py`)"
        return ItemOutcome(index=index, error=reason, hint=hint, bad_input=isinstance(exc, InputError))

    @staticmethod
    def _outcome(*, index: int, reply: Any, result_model: type[BaseModel]) -> ItemOutcome:
        try:
            parsed = StageReply.model_validate(reply)
            if parsed.result is not None:
                return ItemOutcome(index=index, result=result_model.model_validate(parsed.result))
        except Exception as exc:  # a worker running other code than ours (a stale deploy)
            return ItemOutcome(index=index, error=f"the Modal function replied with something unexpected: {exc}"
                               .splitlines()[0], hint="deploy the app again: modal deploy modal_app.py")
        return ItemOutcome(index=index, error=parsed.error or "failed", hint=parsed.hint, bad_input=parsed.bad_input)

    @contextlib.contextmanager
    def _progress(
        self, *, on_progress: ItemProgress | None, finished: set[int], lock: threading.Lock
    ) -> Iterator[ProgressChannel | None]:
        """A channel the workers report into, drained by a thread into `on_progress`."""
        if on_progress is None or self.progress_channel is None:
            yield None
            return
        with contextlib.ExitStack() as stack:
            try:
                channel = stack.enter_context(self.progress_channel())
            except Exception as exc:  # no progress is better than no video
                log.warning("no progress channel (%s); items report only when they finish", exc)
                channel = None
            if channel is None:
                yield None
            else:
                with self._draining(channel, on_progress=on_progress, finished=finished, lock=lock):
                    yield channel

    @staticmethod
    @contextlib.contextmanager
    def _draining(
        channel: ProgressChannel, *, on_progress: ItemProgress, finished: set[int], lock: threading.Lock
    ) -> Iterator[None]:
        def late(index: int) -> bool:
            with lock:
                return index in finished  # never report an item going back from 100 %

        with drained(channel, on_progress=on_progress, ignore=late):
            yield

    def _reload(self) -> None:
        """See what the workers committed. A Volume refuses to reload while files are open on it (a
        web container streaming a video); results came back by value, so a later reload will do."""
        assert self.volume is not None
        for attempt in range(3):
            try:
                self.volume.reload()
                return
            except Exception as exc:
                if attempt == 2:
                    log.warning("could not reload the artifact volume (%s); reads may lag", exc)
                    return
                time.sleep(0.2 * (attempt + 1))
