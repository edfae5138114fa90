"""The Executor contract, run against LocalExecutor and ModalExecutor alike: ordered outcomes, results
by reference, one item's failure isolated from the others, progress, and stopping. ModalExecutor runs
over a fake Modal Function with `.spawn` / `FunctionCall.get` / `.cancel` semantics (JSON across the
boundary, a builtin TimeoutError while a call is pending, exceptions re-raised by `get`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import modal.exception
import pytest
from pydantic import BaseModel

from functions.pipeline import stages as stages_module
from functions.pipeline.executor import Executor, ItemOutcome, JobStoppedError, LocalExecutor
from functions.pipeline.modal_executor import InProcessChannel, ModalExecutor, drained, run_remote_item
from shared.errors import InputError
from shared.progress import Reporter, silent
from shared.store import ArtifactStore, LocalStore


class EchoRequest(BaseModel):
    value: int
    seconds: float = 0.0
    fail: str | None = None  # "input": the user's input is unusable; "bug": our code raised


class EchoResult(BaseModel):
    value: int
    key: str


@dataclass
class Calls:
    started: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


def echo_entry(calls: Calls) -> Callable[..., EchoResult]:
    def run(*, request: EchoRequest, store: ArtifactStore, report: Reporter = silent) -> EchoResult:
        with calls.lock:
            calls.started.append(request.value)
        report(percent=0, message=f"item {request.value} starting")
        if request.fail == "input":
            raise InputError(f"photo{request.value}.jpg: not a photo", hint="export it as JPEG")
        if request.fail == "bug":
            raise ZeroDivisionError("division by zero\nTraceback line that must not reach the user")
        deadline = time.monotonic() + request.seconds
        while time.monotonic() < deadline and not calls.release.is_set():
            time.sleep(0.01)
        key = f"echo/{request.value}.txt"
        store.put_bytes(key, f"value {request.value}".encode())
        report(percent=100, message="done")
        return EchoResult(value=request.value, key=key)

    return run


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    recorded = Calls()
    monkeypatch.setitem(stages_module.stages(), "echo", stages_module.Stage(
        "echo", echo_entry(recorded), EchoRequest, EchoResult, version=f"test-{time.time_ns()}"))
    return recorded


# ---------------------------------------------------------------- a fake Modal Function


class FakeCall:
    """`modal.FunctionCall`: `get(timeout)` raises the builtin TimeoutError while pending, re-raises the
    remote exception, and raises once cancelled."""

    def __init__(self, future: Future[Any]) -> None:
        self.future = future
        self.cancelled = threading.Event()

    def get(self, timeout: float | None = None) -> Any:
        if self.cancelled.is_set():
            raise modal.exception.InputCancellation("cancelled")
        return json.loads(json.dumps(self.future.result(timeout=timeout)))

    def cancel(self, terminate_containers: bool = False) -> None:
        self.cancelled.set()


class FakeFunction:
    """A stage's Modal function: `.spawn(request, progress, index)` runs the real worker body
    (`run_remote_item`) in another thread, with the request crossing a JSON boundary, or raises as
    Modal does for the items in `remote_errors`."""

    def __init__(self, stage: str, store: ArtifactStore, *, remote_errors: dict[int, BaseException] | None = None,
                 unreachable: set[int] | None = None, on_cancel: Callable[[], None] | None = None) -> None:
        self.stage, self.store = stage, store
        self.pool = ThreadPoolExecutor(max_workers=16)
        self.spawned: list[FakeCall] = []
        self.remote_errors = remote_errors or {}
        self.unreachable = unreachable or set()
        self.on_cancel = on_cancel

    def spawn(self, request: dict[str, Any], progress: Any = None, index: int = 0) -> FakeCall:
        if index in self.unreachable:
            raise modal.exception.ConnectionError("could not connect to the Modal server")
        wire = json.loads(json.dumps(request))

        def body() -> Any:
            if index in self.remote_errors:
                raise self.remote_errors[index]
            return run_remote_item(stage=self.stage, request=wire, store=self.store, progress=progress, index=index)

        call = FakeCall(self.pool.submit(body))
        if self.on_cancel is not None:
            original = call.cancel

            def cancel(terminate_containers: bool = False) -> None:
                original(terminate_containers)
                assert self.on_cancel is not None
                self.on_cancel()

            call.cancel = cancel  # type: ignore[method-assign]
        self.spawned.append(call)
        return call


class FakeVolume:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def commit(self) -> None:
        self.log.append("commit")

    def reload(self) -> None:
        self.log.append("reload")


class Stop(threading.Event):
    """The runner's StopFlag: `reason` says whether the job is cancelled or the server shuts down."""

    def __init__(self, reason: str = "cancel") -> None:
        super().__init__()
        self.reason = reason


@dataclass
class Subject:
    executor: Executor
    store: LocalStore
    fake: FakeFunction | None = None


@pytest.fixture(params=["local", "modal"])
def make(request: pytest.FixtureRequest, tmp_path: Path, calls: Calls) -> Iterator[Callable[..., Subject]]:
    store = LocalStore(tmp_path / "artifacts")
    made: list[Subject] = []

    def build(*, workers: int = 4, stop: threading.Event | None = None, **fake_options: Any) -> Subject:
        if request.param == "local":
            subject = Subject(LocalExecutor(store=store, workers=workers, stop=stop), store)
        else:
            fake = FakeFunction("echo", store, **fake_options)
            subject = Subject(ModalExecutor(functions={"echo": fake}, stop=stop, max_in_flight=workers,
                                            progress_channel=InProcessChannel.open, poll_seconds=0.02), store, fake)
        made.append(subject)
        return subject

    yield build
    calls.release.set()


def run(subject: Subject, requests: list[EchoRequest], *, then: Callable[[ItemOutcome], None] | None = None,
        **kwargs: Any) -> tuple[list[ItemOutcome], list[ItemOutcome]]:
    done: list[ItemOutcome] = []
    lock = threading.Lock()

    def on_done(o: ItemOutcome) -> None:
        with lock:
            done.append(o)
        if then is not None:
            then(o)

    outcomes = subject.executor.map(stage="echo", requests=requests, on_done=on_done, **kwargs)
    return outcomes, done


# ---------------------------------------------------------------- the contract


def test_outcomes_come_in_input_order_with_results_by_reference(make: Callable[..., Subject]) -> None:
    subject = make()
    requests = [EchoRequest(value=v, seconds=0.05 * (5 - v)) for v in range(5)]  # later items finish first
    outcomes, done = run(subject, requests)
    assert [o.index for o in outcomes] == [0, 1, 2, 3, 4]
    assert sorted(o.index for o in done) == [0, 1, 2, 3, 4], "on_done once per item"
    for v, o in enumerate(outcomes):
        assert o.ok and isinstance(o.result, EchoResult) and o.result.value == v
        assert subject.store.get_bytes(o.result.key) == f"value {v}".encode(), "the artifact is in the store"
    assert subject.executor.map(stage="echo", requests=[]) == []


def test_one_failing_item_never_fails_the_others(make: Callable[..., Subject]) -> None:
    subject = make()
    requests = [EchoRequest(value=0), EchoRequest(value=1, fail="input"), EchoRequest(value=2, fail="bug"),
                EchoRequest(value=3)]
    outcomes, done = run(subject, requests)
    assert [o.ok for o in outcomes] == [True, False, False, True] and len(done) == 4
    bad_input, bug = outcomes[1], outcomes[2]
    assert bad_input.bad_input and bad_input.error == "photo1.jpg: not a photo"
    assert bad_input.hint == "export it as JPEG"
    assert not bug.bad_input and bug.error is not None and bug.error.startswith("ZeroDivisionError")
    assert "\n" not in bug.error and bug.hint is not None and "bug" in bug.hint


def test_items_report_progress_while_they_run(make: Callable[..., Subject]) -> None:
    subject = make()
    seen: list[tuple[int, float | None, str]] = []
    finished: set[int] = set()
    lock = threading.Lock()

    def on_progress(index: int, percent: float | None, message: str) -> None:
        with lock:
            assert index not in finished, "no progress after an item is done"
            seen.append((index, percent, message))

    def on_done(o: ItemOutcome) -> None:
        with lock:
            finished.add(o.index)

    subject.executor.map(stage="echo", requests=[EchoRequest(value=v, seconds=0.3) for v in range(3)],
                         on_progress=on_progress, on_done=on_done)
    assert {i for i, _, _ in seen} == {0, 1, 2}
    assert (0, 0.0, "item 0 starting") in seen


def test_a_stop_before_the_stage_starts_runs_nothing(make: Callable[..., Subject], calls: Calls) -> None:
    stop = Stop()
    stop.set()
    subject = make(stop=stop)
    outcomes, _ = run(subject, [EchoRequest(value=v) for v in range(4)])
    assert all(o.skipped and not o.ok for o in outcomes) and len(outcomes) == 4
    assert calls.started == []
    if subject.fake is not None:
        assert subject.fake.spawned == [], "nothing was sent to Modal"


def test_a_stop_mid_stage_starts_no_new_item_and_fails_none(make: Callable[..., Subject], calls: Calls) -> None:
    stop = Stop()
    subject = make(workers=1, stop=stop)
    outcomes, _ = run(subject, [EchoRequest(value=v, seconds=0.05) for v in range(6)],
                      then=lambda o: stop.set() if o.index == 0 else None)
    assert outcomes[0].ok, "an item finished before the stop keeps its result"
    assert all(o.ok or o.skipped for o in outcomes), "a stopped item is skipped, never reported as failed"
    assert any(o.skipped for o in outcomes) and len(calls.started) < 6


# ---------------------------------------------------------------- what only Modal has


@pytest.fixture()
def modal_subject(tmp_path: Path, calls: Calls) -> Iterator[Callable[..., tuple[ModalExecutor, FakeFunction]]]:
    store = LocalStore(tmp_path / "artifacts")

    def build(**options: Any) -> tuple[ModalExecutor, FakeFunction]:
        fake_options = {k: options.pop(k) for k in ("remote_errors", "unreachable", "on_cancel") if k in options}
        fake = FakeFunction("echo", store, **fake_options)
        return ModalExecutor(functions={"echo": fake}, poll_seconds=0.02, **options), fake

    yield build
    calls.release.set()


def test_modal_failures_name_modal_not_a_bug(modal_subject: Callable[..., Any], calls: Calls) -> None:
    executor, _ = modal_subject(
        remote_errors={1: modal.exception.FunctionTimeoutError("Function timed out after 1200 s")},
        unreachable={2},
    )
    outcomes = executor.map(stage="echo", requests=[EchoRequest(value=v) for v in range(4)])
    assert [o.ok for o in outcomes] == [True, False, False, True]
    assert "timed out" in (outcomes[1].error or "") and "could not connect" in (outcomes[2].error or "")
    for o in outcomes[1:3]:
        assert o.hint is not None and "modal" in o.hint.lower() and "bug" not in o.hint


def test_a_cancel_cancels_the_calls_running_on_modal(modal_subject: Callable[..., Any], calls: Calls) -> None:
    stop = Stop("cancel")
    executor, fake = modal_subject(stop=stop, on_cancel=calls.release.set)
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    outcomes = executor.map(stage="echo", requests=[EchoRequest(value=v, seconds=30) for v in range(3)])
    assert time.monotonic() - started < 10, "the stage stops without waiting for running items"
    assert all(o.skipped and o.error == "cancelled while running on Modal" for o in outcomes)
    assert len(fake.spawned) == 3 and all(call.cancelled.is_set() for call in fake.spawned)


def test_a_shutdown_leaves_running_calls_to_finish_into_the_cache(modal_subject: Callable[..., Any],
                                                                  calls: Calls, tmp_path: Path) -> None:
    stop = Stop("shutdown")
    executor, fake = modal_subject(stop=stop)
    threading.Timer(0.3, stop.set).start()
    outcomes = executor.map(stage="echo", requests=[EchoRequest(value=v, seconds=1.0) for v in range(2)])
    assert all(o.skipped for o in outcomes) and not any(call.cancelled.is_set() for call in fake.spawned)
    replies = [call.future.result(timeout=10) for call in fake.spawned]  # the work went on without us
    assert [r["result"]["value"] for r in replies] == [0, 1]
    assert LocalStore(tmp_path / "artifacts").exists("echo/1.txt")


def test_the_volume_is_committed_before_and_reloaded_after_the_workers(modal_subject: Callable[..., Any]) -> None:
    log: list[str] = []
    executor, fake = modal_subject(volume=FakeVolume(log))
    original = fake.spawn

    def spawn(*args: Any, **kwargs: Any) -> FakeCall:
        log.append("spawn")
        return original(*args, **kwargs)

    fake.spawn = spawn  # type: ignore[method-assign]
    executor.map(stage="echo", requests=[EchoRequest(value=v) for v in range(3)])
    assert log == ["commit", "spawn", "spawn", "spawn", "reload"]


def test_a_call_cancelled_from_outside_fails_only_its_item(modal_subject: Callable[..., Any]) -> None:
    executor, _ = modal_subject(remote_errors={0: modal.exception.InputCancellation("cancelled by `modal app stop`")})
    outcomes = executor.map(stage="echo", requests=[EchoRequest(value=v) for v in range(2)])
    assert [o.ok for o in outcomes] == [False, True] and not outcomes[0].skipped
    assert "cancelled" in (outcomes[0].error or "")


def test_the_progress_drain_outlives_a_listener_that_stops_the_job() -> None:
    """A job's listener raises JobStoppedError once the job is asked to stop (the product stage's reporter
    does); on the drain's thread that must not end the drain: the executor's stop flag ends the calls, and the
    updates still arriving are read to the end."""
    channel = InProcessChannel()
    seen: list[int] = []

    def listener(index: int, percent: float | None, message: str) -> None:
        seen.append(index)
        if index == 0:
            raise JobStoppedError()

    with drained(channel, on_progress=listener):
        for index in range(3):
            channel.put((index, 50.0, "half way"))
            time.sleep(0.05)
    assert seen == [0, 1, 2]
