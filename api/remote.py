"""The Modal app's jobs, and `modal run modal_app.py`'s command line.

In the cloud (modal_app.py's `make_video` and `make_product`, each a thin Modal function around these):
one job run in its container, its items fanned out by the executor it is given to the stage functions, its
events and status in the job store like every other job's. On this machine (`run_remote_make`, the
`modal run` entrypoint): the photos uploaded to the artifact Volume, the job followed on a progress bar per
stage, the video downloaded; exit codes as `momentloop make`'s (0 done, 2 unusable input, 1 anything else)."""

from __future__ import annotations

import contextlib
import os
import queue
import tempfile
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from api.cli_output import StageBars, err, progress_bars
from api.cli_output import out as console
from functions.pipeline.backends import open_job_store, open_store
from functions.pipeline.executor import Executor
from functions.pipeline.ingest import expand_photo_paths
from functions.pipeline.runner import MakeRequest, MakeResult, Pipeline
from functions.product.job import turntable, turntable_summary
from shared.errors import InputError
from shared.models.jobs import ProgressEvent
from shared.models.product import ProductRequest
from shared.settings import get_settings
from shared.store import ArtifactStore, LocalStore


def _failure(exc: BaseException) -> dict[str, Any]:
    """A failed job's reply: one line, the hint, and whether the input was the user's fault."""
    return {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            "hint": getattr(exc, "hint", "") or "", "bad_input": isinstance(exc, InputError)}


def _video_result(made: MakeResult, store: ArtifactStore) -> dict[str, Any]:
    video = made.video
    return {
        "job_id": made.job_id, "video_key": video.video_key, "poster_key": video.poster_key,
        "video_url": None if isinstance(store, LocalStore) else store.url(video.video_key),
        "width": video.width, "height": video.height, "fps": video.fps, "duration": video.duration,
        "scenes": len(made.plan.scenes), "tempo": made.plan.tempo, "look": made.plan.look,
        "rejected": [r.model_dump() for r in made.rejected], "stats": [s.model_dump() for s in made.stats],
    }


def video_job(*, request: dict[str, Any], executor: Executor) -> Iterator[dict[str, Any]]:
    """`make_video`: one whole video job. Yields the job's events as they happen ({"event": ProgressEvent}),
    then {"result": ...} or {"error": ..., "hint": ..., "bad_input": ...}."""
    settings = get_settings()
    store = open_store(settings=settings)
    events: queue.Queue[ProgressEvent | None] = queue.Queue()
    pipeline = Pipeline(store=store, jobs=open_job_store(settings=settings), executor=executor, settings=settings,
                        listener=events.put)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = _video_result(pipeline.make(request=MakeRequest.model_validate(request)), store)
        except Exception as exc:
            outcome.update(_failure(exc))
        finally:
            events.put(None)

    runner = threading.Thread(target=work, name="momentloop-job")
    runner.start()
    while (event := events.get()) is not None:
        yield {"event": event.model_dump(mode="json")}
    runner.join()
    yield outcome


def product_job(*, request: dict[str, Any], job_id: str | None, executor: Executor) -> dict[str, Any]:
    """`make_product`: one product turntable as job `job_id` (or a new "product" job), its progress on the
    job's event log, where the web app's SSE stream reads it. Returns {"job_id", "result": ProductResult} or
    {"job_id", "error", "hint", "bad_input"}."""
    settings = get_settings()
    jobs = open_job_store(settings=settings)
    job_id = job_id or jobs.create_job(kind="product", params=request).id
    pipeline = Pipeline(store=open_store(settings=settings), jobs=jobs, executor=executor, settings=settings)
    try:
        result = pipeline.execute(job_id=job_id, finish=turntable_summary, work=lambda: turntable(
            pipeline=pipeline, request=ProductRequest.model_validate(request)))
    except Exception as exc:
        return {"job_id": job_id, **_failure(exc)}
    return {"job_id": job_id, "result": result.model_dump(mode="json")}


class ArtifactVolume(Protocol):
    """The artifact Volume as this machine sees it (`modal.Volume`: batch_upload / read_file / remove_file)."""

    def batch_upload(self, force: bool = False) -> contextlib.AbstractContextManager[Any]: ...
    def read_file(self, path: str) -> Iterable[bytes]: ...
    def remove_file(self, path: str, recursive: bool = False) -> None: ...


def run_remote_make(
    *,
    job: Callable[[dict[str, Any]], Iterable[dict[str, Any]]],
    volume: ArtifactVolume,
    volume_root: str,
    photos: Path,
    out: Path,
    style: str,
    music: Path | None,
    aspect: str,
    duration: float | None,
    fps: int,
    seed: int,
) -> int:
    """What `modal run` does: upload, follow the job's events on a progress bar, download.

    `job` yields `video_job`'s messages (`make_video.remote_gen`, or `.local` in tests); `volume` is the
    artifact Volume, mounted at `volume_root` in the job."""
    if out.suffix.lower() != ".mp4":
        err.print(f"momentloop: error: the output must be an .mp4 file, got {out.name}", markup=False)
        return 2
    if not photos.exists() or (music is not None and not music.is_file()):
        err.print(f"momentloop: error: {music if photos.exists() else photos}: no such file or folder", markup=False)
        return 2
    paths = expand_photo_paths([photos])
    if not paths:
        err.print(f"momentloop: error: no photos in {photos}", markup=False)
        return 2

    upload = f"uploads/{uuid.uuid4().hex[:16]}"
    with volume.batch_upload() as batch:
        for p in paths:
            batch.put_file(p, f"/{upload}/photos/{p.name}")
        if music is not None:
            batch.put_file(music, f"/{upload}/music/{music.name}")
    request = {
        "photos": [f"{volume_root}/{upload}/photos/{p.name}" for p in paths],
        "music": f"{volume_root}/{upload}/music/{music.name}" if music is not None else None,
        "look": style, "aspect": aspect, "duration": duration, "fps": fps, "seed": seed,
    }
    final: dict[str, Any] = {}
    try:
        with progress_bars(err) as progress:
            bars = StageBars(progress)
            for message in job(request):
                if "event" in message:
                    bars(ProgressEvent.model_validate(message["event"]))
                else:
                    final = message
    except Exception as exc:  # Modal itself failed (not deployed, quota, network): one line, not a traceback
        final = {"error": f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                 "hint": "see `modal app logs momentloop`"}
    finally:
        try:
            volume.remove_file(upload, recursive=True)  # the job keeps its own content-addressed copies
        except Exception as exc:
            err.print(f"momentloop: could not remove the upload folder {upload}: {exc}", markup=False)

    if "result" not in final:
        hint = f" (hint: {final['hint']})" if final.get("hint") else ""
        err.print(f"momentloop: {'error' if final.get('bad_input') else 'failed'}: "
                  f"{final.get('error', 'the job ended without a result')}{hint}", markup=False)
        return 2 if final.get("bad_input") else 1
    result = final["result"]
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".momentloop-", suffix=".mp4", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if result.get("video_url"):  # S3: straight from the bucket
                with urllib.request.urlopen(result["video_url"], timeout=60) as resp:
                    while chunk := resp.read(1 << 20):
                        f.write(chunk)
            else:
                for chunk in volume.read_file(result["video_key"]):
                    f.write(chunk)
        os.replace(name, out)
    finally:
        Path(name).unlink(missing_ok=True)
    console.print(
        f"{out}: {result['scenes']} scenes, {result['width']}x{result['height']} {result['fps']:g} fps, "
        f"{result['duration']:.2f} s, {result['tempo']:.0f} BPM, look {result['look']}", markup=False)
    return 0
