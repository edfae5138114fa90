"""A project's product turntable as a web job (kind `product`): the photos → functions/product's stage →
a turntable recorded on the project, with every phase's progress (and, on a GPU, each training step and
its loss) on the job's event log, which the SSE stream tails.

Where it runs follows MOMENTLOOP_EXECUTOR, like a render: `local` runs `run_product` in this process (the
CPU preview where there is no GPU); `modal` hands the pieces to the deployed Modal app exactly as its own
`make_product` does (`modal_app.run_product_pieces`: poses on CPU, training and render chunks on GPUs,
the encode on CPU), their progress drained from a Modal queue into this job's (fenced) event log. The job
itself stays here, under this replica's lease: claimed, renewed, resumed like every other job."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from functions.pipeline.runner import JobStoppedError
from shared.errors import OptionError
from shared.models.product import ProductRequest, ProductResult
from shared.settings import Settings
from shared.store import ArtifactStore

PRODUCT_PIECES = ("product_poses", "product_train", "product_render", "product_preview", "product_encode")
STAGE = "product"
EVERY_SECONDS = 0.25
"""At most four progress events a second within one phase: a phase's first and last always go out."""


class ProductJobParams(BaseModel):
    """A product job's whole input, snapshotted when it was asked for (a resumed job redoes exactly it)."""

    project_id: str
    user_id: str
    asset_ids: list[str]
    request: ProductRequest
    use: bool = True


Emit = Callable[..., None]


class ProductProgress:
    """The stage's reporter (`report(percent=, message="<phase>: <what>")`) as `progress` events of the job:
    `item` the phase, `percent` never going back (pieces and retries restart their own counts), a new
    phase always written, and a stop asked for (cancel, shutdown) raised at the next report."""

    def __init__(self, *, emit: Emit, stop: threading.Event | None) -> None:
        self.emit = emit
        self.stop = stop
        self.percent = 0.0
        self.phase = ""
        self.phases: list[str] = []
        self._last = 0.0
        self._lock = threading.Lock()

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        if self.stop is not None and self.stop.is_set():
            raise JobStoppedError()
        phase, sep, _ = message.partition(":")
        phase = phase.strip() if sep else self.phase or STAGE
        with self._lock:
            now = time.monotonic()
            new_phase = phase != self.phase
            if percent is not None:
                self.percent = max(self.percent, min(100.0, float(percent)))
            if not new_phase and now - self._last < EVERY_SECONDS and (percent or 0.0) < 100.0 \
                    and "step" not in message:
                return
            self._last = now
            if new_phase:
                self.phase = phase
                self.phases.append(phase)
            self.emit("progress", stage=STAGE, item=phase, percent=self.percent, message=message)

    def on_progress(self, percent: float, message: str) -> None:
        """`run_product_pieces`' callback: the same events, from its progress drain (a thread: a stop is
        seen by the job after the pieces return, the Modal calls being past recall by then)."""
        with contextlib.suppress(JobStoppedError):
            self(percent=percent, message=message)


@dataclass
class ModalProductBackend:
    """What the Modal path needs: `calls[name](*args)` / `calls[name + ".starmap"](arg_tuples)` for each
    product piece, a progress channel to open, and the Volume to commit / reload around the pieces (None
    on S3)."""

    calls: dict[str, Any]
    channel: Callable[[], contextlib.AbstractContextManager[Any]]
    volume: Any = None


def modal_product_backend(*, settings: Settings, store: ArtifactStore, stop: threading.Event | None) -> \
        ModalProductBackend:
    """The deployed app's product functions, over a store the Modal containers share (the same rule, and
    the same refusal of a folder on this machine, as a render's executor)."""
    import modal

    from functions.pipeline.backends import make_executor
    from functions.pipeline.modal_executor import ModalExecutor, modal_progress_channel

    scale = settings.scale
    executor = make_executor(settings=settings, store=store, scale=scale, stop=stop)
    volume = executor.volume if isinstance(executor, ModalExecutor) else None
    calls: dict[str, Any] = {}
    for name in PRODUCT_PIECES:
        fn = modal.Function.from_name(scale.modal_app, name)
        calls[name] = fn.remote
        calls[f"{name}.starmap"] = lambda args, f=fn: list(f.starmap(args))
    return ModalProductBackend(calls=calls, channel=modal_progress_channel, volume=volume)


def _pieces_runner() -> Callable[..., dict[str, Any]]:
    """modal_app.run_product_pieces: the one sequence of pieces `make_product` runs too."""
    try:
        import modal_app
    except ImportError as exc:
        raise OptionError("MOMENTLOOP_EXECUTOR=modal needs modal_app.py importable to make product turntables",
                          hint="run the server from the repository (or inside the Modal app)") from exc
    runner: Callable[..., dict[str, Any]] = modal_app.run_product_pieces
    return runner


def run_product_job(*, request: ProductRequest, settings: Settings, store: ArtifactStore, progress: ProductProgress,
                    stop: threading.Event | None,
                    backend: Callable[..., ModalProductBackend] | None = None) -> ProductResult:
    """The turntable for `request`, here (`local`) or on Modal (`modal`), its progress into `progress`.
    A poor capture raises the stage's InputError (one line and the reshoot hint)."""
    if settings.executor == "local":
        from functions.product.stage import run_product

        return run_product(request=request, store=store, report=progress)
    made = (backend or modal_product_backend)(settings=settings, store=store, stop=stop)
    run_pieces = _pieces_runner()
    if made.volume is not None:
        made.volume.commit()  # the containers must see the photos this replica received
    with _opened(made.channel) as channel:
        reply = run_pieces(request=request.model_dump(mode="json"), calls=made.calls, channel=channel,
                           on_progress=progress.on_progress)
    if made.volume is not None:
        made.volume.reload()  # and we theirs: the turntable and its poster
    if stop is not None and stop.is_set():
        raise JobStoppedError()
    return ProductResult.model_validate(reply)


@contextlib.contextmanager
def _opened(factory: Callable[[], contextlib.AbstractContextManager[Any]]) -> Iterator[Any]:
    with factory() as channel:
        yield channel
