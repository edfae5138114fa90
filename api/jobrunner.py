"""Running plan and render jobs inside the server: a bounded set of background threads over a queue.

Jobs are rows in the job store before they run, so nothing is lost when the process dies: on start,
jobs left `queued` or `running` are queued again, and the content-addressed cache makes every item
that had finished a cache hit. A cancel stops a job between items; a shutdown does the same but puts
the job back in the queue for the next start."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from api.files import stored_size
from api.media import window_waveform
from api.settings import ServerSettings
from api.storyboard import fingerprint
from functions.pipeline.backends import ScaleSettings, make_executor
from functions.pipeline.runner import (
    JobStoppedError,
    MakeResult,
    MusicInput,
    Pipeline,
    Prepared,
    StopFlag,
    VideoOptions,
)
from functions.providers_common.keys import executor_limits
from shared.errors import MomentLoopError
from shared.jobs import JobStore
from shared.models import EventType, JobRecord, JobStatus, PhotoSource, ProgressEvent, ScenePlan
from shared.projects import AssetRecord, ExportRecord, PlanRecord, ProjectRecord, ProjectStore
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

JobKind = Literal["plan", "render", "render_scene"]
JOB_KINDS: tuple[JobKind, ...] = ("plan", "render", "render_scene")


class ProjectChangedError(MomentLoopError):
    """The project's photos, music or output options changed while its job ran."""

    def __init__(self) -> None:
        super().__init__("the project's photos, music or video options changed while this job ran",
                         hint="make the storyboard again")


class ListableJobStore(JobStore, Protocol):
    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]: ...


class NotifyingJobStore:
    """The job store, telling `notify` about every new event and status (so the SSE feed reads it at once)."""

    def __init__(self, inner: ListableJobStore, *, notify: Callable[[str], None]) -> None:
        self.inner = inner
        self.notify = notify

    def create_job(self, *, kind: str, params: dict[str, Any], job_id: str | None = None) -> JobRecord:
        return self.inner.create_job(kind=kind, params=params, job_id=job_id)

    def get_job(self, job_id: str) -> JobRecord:
        return self.inner.get_job(job_id)

    def set_status(self, job_id: str, *, status: JobStatus, result: dict[str, Any] | None = None,
                   error: str | None = None) -> None:
        self.inner.set_status(job_id, status=status, result=result, error=error)
        self.notify(job_id)

    def append_event(self, job_id: str, *, type: EventType, **fields: Any) -> ProgressEvent:
        event = self.inner.append_event(job_id, type=type, **fields)
        self.notify(job_id)
        return event

    def events(self, job_id: str, *, after: int = 0) -> list[ProgressEvent]:
        return self.inner.events(job_id, after=after)

    def list_jobs(self, *, statuses: Sequence[JobStatus] | None = None) -> list[JobRecord]:
        return self.inner.list_jobs(statuses=statuses)


class ProjectJobParams(BaseModel):
    """A job's whole input, snapshotted when it was asked for: a resumed job does exactly the same work."""

    project_id: str
    user_id: str
    sources: list[PhotoSource]
    asset_ids: list[str]
    music: MusicInput | None
    options: VideoOptions
    fingerprint: str
    plan: ScenePlan | None = None
    scene: int | None = None


def job_params(*, project: ProjectRecord, assets: list[AssetRecord], plan: ScenePlan | None = None,
               scene: int | None = None) -> ProjectJobParams:
    photos = [a for a in assets if a.kind == "photo"]
    song = next((a for a in assets if a.kind == "music"), None)
    return ProjectJobParams(
        project_id=project.id,
        user_id=project.user_id,
        sources=[PhotoSource(key=a.key, name=a.name, index=i) for i, a in enumerate(photos)],
        asset_ids=[a.id for a in photos],
        music=MusicInput(key=song.key, name=song.name) if song else None,
        options=VideoOptions(look=project.look, aspect=project.aspect, duration=project.duration, fps=project.fps),
        fingerprint=fingerprint(project=project, assets=assets),
        plan=plan,
        scene=scene,
    )


@dataclass
class _Slot:
    stop: StopFlag = field(default_factory=StopFlag)
    started: bool = False


class JobRunner:
    def __init__(self, *, settings: ServerSettings, scale: ScaleSettings, artifacts: ArtifactStore,
                 jobs: NotifyingJobStore, projects: ProjectStore) -> None:
        self.settings = settings
        self.scale = scale
        self.artifacts = artifacts
        self.jobs = jobs
        self.projects = projects
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for n in range(self.settings.job_workers):
            # Daemon threads: a stop that outlasts the grace period ends with the process, and the job,
            # still `running` in the store, resumes on the next start like after a crash.
            t = threading.Thread(target=self._worker, name=f"ml-job-{n}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        with self._lock:
            for slot in self._slots.values():
                slot.stop.request("shutdown")
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))

    def resume_interrupted(self) -> list[str]:
        """Queue again the jobs a previous process left unfinished (killed, or stopped mid-job)."""
        pending = self.jobs.list_jobs(statuses=["queued", "running"])
        ours = {link.job_id for link in self.projects.job_links([j.id for j in pending])}
        resumed = []
        for job in pending:
            if job.kind not in JOB_KINDS or job.id not in ours:
                continue
            if job.status == "running":
                self.jobs.append_event(job.id, type="log", status="resumed",
                                       message="the server restarted; resuming (finished work is reused)")
            self.submit(job.id)
            resumed.append(job.id)
        return resumed

    # ------------------------------------------------------------------ requests

    def is_active(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._slots

    def submit(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._slots:
                return
            self._slots[job_id] = _Slot()
        self._queue.put(job_id)

    def cancel(self, job_id: str) -> None:
        """Stop the job between items (or at once, if it has not started) and mark it cancelled."""
        with self._lock:
            slot = self._slots.get(job_id)
            if slot is not None and slot.started:
                slot.stop.request("cancel")
                return
            if slot is not None:
                slot.stop.request("cancel")  # the worker that picks it up skips it
        job = self.jobs.get_job(job_id)
        if job.status in ("queued", "running"):
            self.jobs.set_status(job_id, status="cancelled")
            self.jobs.append_event(job_id, type="failed", status="cancelled", message="cancelled",
                                   hint="resume it to run it after all")

    # ------------------------------------------------------------------ work

    def _worker(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            with self._lock:
                slot = self._slots.get(job_id)
                if slot is None or slot.stop.is_set():
                    self._slots.pop(job_id, None)
                    continue
                slot.started = True
            try:
                self._run(job_id=job_id, stop=slot.stop)
            except JobStoppedError:
                pass
            except MomentLoopError as exc:
                log.info("job %s failed: %s", job_id, exc)
            except Exception:
                log.exception("job %s failed", job_id)
            finally:
                with self._lock:
                    self._slots.pop(job_id, None)

    def _run(self, *, job_id: str, stop: StopFlag) -> None:
        job = self.jobs.get_job(job_id)
        params = ProjectJobParams.model_validate(job.params)
        from functions.providers_common.ledger import JobLedger

        # The executor MOMENTLOOP_EXECUTOR names, tuned like `momentloop make`'s (cloud stages by their limits).
        workers, limits = executor_limits(self.settings)
        executor = make_executor(settings=self.settings, store=self.artifacts, scale=self.scale, stop=stop,
                                 workers=workers, limits=limits)
        # The same budget and spend accounting as `momentloop make` (cloud providers only; local is free).
        ledger = JobLedger(settings=self.settings, store=self.artifacts, seed=params.options.seed)
        pipeline = Pipeline(store=self.artifacts, jobs=self.jobs, executor=executor, settings=self.settings,
                            stop=stop, ledger=ledger)
        if job.kind == "plan":
            pipeline.execute(job_id=job_id, work=lambda: self._plan(pipeline=pipeline, params=params),
                             finish=_plan_summary)
        else:
            pipeline.execute(job_id=job_id, work=lambda: self._render(pipeline=pipeline, params=params),
                             finish=_render_summary)

    def _still_current(self, params: ProjectJobParams) -> bool:
        project = self.projects.get_project(user_id=params.user_id, project_id=params.project_id)
        return fingerprint(project=project, assets=self.projects.list_assets(project_id=project.id)) \
            == params.fingerprint

    def _save_plan(self, *, params: ProjectJobParams, prepared: Prepared) -> None:
        plan = prepared.plan
        waveform = window_waveform(store=self.artifacts, track=prepared.track, offset=plan.music_offset,
                                   duration=plan.output.duration)
        self.projects.save_plan(PlanRecord(
            project_id=params.project_id, plan=plan, track=prepared.track, asset_ids=params.asset_ids,
            waveform=waveform, fingerprint=params.fingerprint, updated_at=datetime.now(UTC)))

    def _plan(self, *, pipeline: Pipeline, params: ProjectJobParams) -> Prepared:
        prepared = pipeline.prepare(sources=params.sources, music=params.music, options=params.options)
        if not self._still_current(params):
            raise ProjectChangedError()
        self._save_plan(params=params, prepared=prepared)
        return prepared

    def _render(self, *, pipeline: Pipeline, params: ProjectJobParams) -> tuple[MakeResult, ExportRecord]:
        prepared = pipeline.prepare(sources=params.sources, music=params.music, options=params.options,
                                    plan=params.plan)
        clips, video = pipeline.render(plan=prepared.plan, track=prepared.track, seed=params.options.seed)
        if params.plan is None and self._still_current(params):
            self._save_plan(params=params, prepared=prepared)
        existing = self.projects.export_for_job(job_id=pipeline.job_id)
        if existing is not None and existing.video_key == video.video_key:
            export = existing  # a resumed job that had already recorded its export
        else:
            export = self.projects.add_export(
                project_id=params.project_id, job_id=pipeline.job_id, video_key=video.video_key,
                poster_key=video.poster_key, duration=video.duration, width=video.width, height=video.height,
                size_bytes=stored_size(store=self.artifacts, key=video.video_key))
        result = MakeResult(job_id=pipeline.job_id, plan=prepared.plan, clips=clips, video=video,
                            rejected=prepared.rejected, stats=list(pipeline.stats.values()),
                            spend_usd=pipeline.ledger.spent if pipeline.ledger is not None else 0.0)
        return result, export


def _plan_summary(prepared: Prepared) -> tuple[dict[str, object], str]:
    plan = prepared.plan
    skipped = f", {len(prepared.rejected)} photo(s) skipped" if prepared.rejected else ""
    return (
        {"scenes": len(plan.scenes), "rejected": [r.model_dump() for r in prepared.rejected]},
        f"{len(plan.scenes)} scenes on {plan.tempo:.0f} BPM, {plan.output.duration:.1f} s{skipped}",
    )


def _render_summary(value: tuple[MakeResult, ExportRecord]) -> tuple[dict[str, object], str]:
    result, export = value
    video = result.video
    return (
        {"video_key": video.video_key, "poster_key": video.poster_key, "export_id": export.id,
         "cache_hits": result.cache_hits, "spend_usd": result.spend_usd},
        f"{len(result.plan.scenes)} scenes, {video.duration:.2f} s, {video.width}x{video.height}",
    )
