"""Running plan, render and product jobs inside the server: a bounded set of background threads over a queue.

Jobs are rows in the job store before they run, so nothing is lost when the process dies: on start,
jobs left `queued` or `running` are queued again, and the content-addressed cache makes every item
that had finished a cache hit. A cancel stops a job between items; a shutdown does the same but puts
the job back in the queue for the next start.

Several replicas may share one job store (PostgreSQL). A replica runs a job only while it holds the
job's lease (api/leases.py): it claims the job before queueing it, a heartbeat renews the leases of
all the jobs it holds, and it releases each one when done. A second thread looks for unfinished
jobs nobody holds (their replica died: its lease ran out) and takes them over, with a `resumed by
<replica>` event. A replica whose lease was lost stops that job at once and writes nothing more.

The renewals have a thread of their own: the look-out asks the database about every unfinished job and
its project, and when that waits (a busy database, a lock, a busy machine) the renewals must not wait
behind it, or the replica loses the jobs it is running to another one while both are alive."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.files import stored_size
from api.job_params import JOB_KINDS, ProjectChangedError, ProjectJobParams
from api.leases import HeldLease, died_on_this_host, replica_name, runner_stopped
from api.media import window_waveform
from api.product_job import ProductJobParams, product_summary, run_product_job
from api.settings import ServerSettings
from api.storyboard import carry_over, fingerprint, plan_digest, stale_reasons
from functions.pipeline.backends import make_executor
from functions.pipeline.executor import Executor, JobStoppedError, StopFlag, UnavailableExecutor
from functions.pipeline.preflight import executor_limits
from functions.pipeline.runner import MakeResult, Pipeline, Prepared
from shared.errors import MomentLoopError
from shared.jobs import UNFINISHED, JobLease, LeaseLostError, ListableJobStore
from shared.projects import ExportRecord, PlanRecord, ProjectStore
from shared.settings import ScaleSettings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

@dataclass
class _Slot:
    lease: HeldLease
    stop: StopFlag = field(default_factory=StopFlag)
    started: bool = False


class JobRunner:
    def __init__(self, *, settings: ServerSettings, scale: ScaleSettings, artifacts: ArtifactStore,
                 jobs: ListableJobStore, projects: ProjectStore,
                 executor_factory: Callable[..., Executor] = make_executor) -> None:
        self.settings = settings
        self.executor_factory = executor_factory
        """functions/pipeline/backends.py's make_executor; tests give Modal executors over in-process functions."""
        self.scale = scale
        self.artifacts = artifacts
        self.jobs = jobs
        self.projects = projects
        self.owner = replica_name()
        """This replica's name in the leases it holds and the events it writes when it takes a job over."""
        # A SQLite file is shared only on one host, where a dead predecessor's jobs need not wait out
        # their leases; PostgreSQL replicas run on many hosts, where only the lease's expiry tells.
        self._same_host_only = scale.database_url is None
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._draining = threading.Event()  # stopping: no new job is taken; held leases are still renewed
        self._closing = threading.Event()
        self._heartbeats: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for n in range(self.settings.job_workers):
            # Daemon threads: a stop that outlasts the grace period ends with the process, and the job,
            # still `running` in the store, resumes on the next start like after a crash.
            t = threading.Thread(target=self._worker, name=f"ml-job-{n}", daemon=True)
            t.start()
            self._threads.append(t)
        for target, name in ((self._renew_beat, "ml-job-leases"), (self._takeover_beat, "ml-job-takeover")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._heartbeats.append(t)

    def stop(self) -> None:
        self._draining.set()  # what this replica lets go of now is for the others to take
        with self._lock:
            for slot in self._slots.values():
                slot.stop.request("shutdown")
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds
        for t in self._threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        # The heartbeats go last: a job still finishing its item keeps its lease until the process ends
        # (then it runs out, and another replica resumes the job).
        self._closing.set()
        for t in self._heartbeats:
            t.join(timeout=max(1.0, deadline - time.monotonic()))
        runner_stopped(self.owner)

    def resume_interrupted(self) -> list[str]:
        """At start: take over the unfinished jobs nobody holds, left by a process that was killed or
        stopped mid-job (this one before a restart, another replica, or a version without leases)."""
        return self._take_over(unclaimed_too=True)

    def take_over_expired(self) -> list[str]:
        """Take over the unfinished jobs whose lease ran out: their replica died or stopped with them.
        A job nobody ever claimed is left alone here: whoever made it is about to claim it."""
        return self._take_over(unclaimed_too=False)

    def _take_over(self, *, unclaimed_too: bool) -> list[str]:
        pending = self.jobs.list_jobs(statuses=list(UNFINISHED))
        with self._lock:
            pending = [job for job in pending if job.id not in self._slots]
        ours = {link.job_id for link in self.projects.job_links([j.id for j in pending])} if pending else set()
        resumed = []
        for job in pending:
            if job.kind not in JOB_KINDS or job.id not in ours:
                continue
            held = self.jobs.lease(job.id)
            take_from = self._dead_owner(held)
            if held is None and not unclaimed_too:
                continue
            if held is not None and not held.expired and take_from is None:
                continue  # held by a live owner: the claim would refuse it (asking costs a write)
            if self._take(job.id, take_from=take_from, resumed=True):
                resumed.append(job.id)
        return resumed

    def _dead_owner(self, held: JobLease | None) -> str | None:
        """The lease holder, when it is certainly dead before its lease runs out (SQLite only)."""
        if not self._same_host_only or held is None or held.expired or held.owner == self.owner:
            return None
        return held.owner if died_on_this_host(held.owner) else None

    def _renew_beat(self) -> None:
        """Renew the leases of the jobs this replica holds, every heartbeat, whatever else waits."""
        while not self._closing.wait(self.settings.job_heartbeat_seconds):
            try:
                self._renew_leases()
            except Exception:  # a database hiccup: try again next beat; the fences hold meanwhile
                log.exception("job lease renewal failed")

    def _takeover_beat(self) -> None:
        """Take over the jobs whose owner died, every heartbeat."""
        while not self._closing.wait(self.settings.job_heartbeat_seconds):
            if self._draining.is_set():
                continue
            try:
                taken = self.take_over_expired()
                if taken:
                    log.info("%s took over %d job(s) whose owner stopped", self.owner, len(taken))
            except Exception:  # a database hiccup: try again next beat
                log.exception("looking for jobs to take over failed")

    def _renew_leases(self) -> None:
        with self._lock:
            held = [(job_id, slot) for job_id, slot in self._slots.items()
                    if not slot.lease.lost and not slot.lease.finishing]
        for job_id, slot in held:
            asked_at = time.monotonic()
            if self.jobs.renew(job_id, owner=self.owner, lease_seconds=self.settings.job_lease_seconds):
                slot.lease.renewed(asked_at=asked_at, lease_seconds=self.settings.job_lease_seconds)
            elif not slot.lease.finishing:
                # Taken over (our lease ran out) or cancelled by another replica: stop writing, stop working.
                log.warning("%s lost the lease of job %s; stopping it here", self.owner, job_id)
                slot.lease.lose()
                slot.stop.request("shutdown")

    # ------------------------------------------------------------------ requests

    def is_active(self, job_id: str) -> bool:
        """Queued or running here, or held by another replica whose lease has not run out."""
        with self._lock:
            if job_id in self._slots:
                return True
        held = self.jobs.lease(job_id)
        return held is not None and not held.expired

    def submit(self, job_id: str) -> bool:
        """Claim the job and queue it. False when another replica holds it (it runs there)."""
        return self._take(job_id, take_from=None, resumed=False)

    def _take(self, job_id: str, *, take_from: str | None, resumed: bool) -> bool:
        with self._lock:
            if job_id in self._slots:
                return True
        lease_seconds = self.settings.job_lease_seconds
        asked_at = time.monotonic()
        if not self.jobs.claim(job_id, owner=self.owner, lease_seconds=lease_seconds, take_from=take_from):
            return False
        if self._draining.is_set():
            return True  # held but never run here: its lease runs out, and a live replica takes it
        lease = HeldLease(job_id=job_id, owner=self.owner, valid_until=asked_at + lease_seconds)
        with self._lock:
            if job_id in self._slots:  # queued meanwhile by another thread of this replica
                return True
            self._slots[job_id] = _Slot(lease=lease)
        if resumed:
            self.jobs.append_event(
                job_id, type="log", status="resumed",
                message=f"resumed by {self.owner}: the server running it stopped or restarted; "
                        "finished work is reused")
        self._queue.put(job_id)
        return True

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
        if job.status in UNFINISHED:
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
                skip = slot is None or slot.stop.is_set() or slot.lease.lost
                if slot is not None and not skip:
                    slot.started = True
            if slot is None:
                continue
            if skip:
                self._let_go(job_id=job_id, slot=slot)
                continue
            try:
                self._run(job_id=job_id, slot=slot)
            except JobStoppedError:
                pass
            except LeaseLostError as exc:
                log.warning("%s", exc)
            except MomentLoopError as exc:
                log.info("job %s failed: %s", job_id, exc)
            except Exception:
                log.exception("job %s failed", job_id)
            finally:
                self._let_go(job_id=job_id, slot=slot)

    def _let_go(self, *, job_id: str, slot: _Slot) -> None:
        """Release the job's lease (anyone may take it now) and forget it. A lost lease is not ours to
        release; nor is the lease of a job stopped because this replica is stopping: it runs out, and
        another replica takes the job over (as one whose replica died)."""
        try:
            if not slot.lease.lost and (slot.lease.finishing or not self._draining.is_set()):
                self.jobs.release(job_id, owner=self.owner)
        except Exception:  # its lease runs out by itself
            log.exception("could not release job %s", job_id)
        finally:
            with self._lock:
                self._slots.pop(job_id, None)

    def _run(self, *, job_id: str, slot: _Slot) -> None:
        stop = slot.stop
        job = self.jobs.get_job(job_id)
        # Every write of this job goes through its lease: once lost, the job stops and writes nothing more.
        jobs = self.jobs.with_hooks(fence=slot.lease)
        if job.kind == "product":
            product = ProductJobParams.model_validate(job.params)
            pipeline = Pipeline(store=self.artifacts, jobs=jobs, executor=self._executor(stop), settings=self.settings,
                                stop=stop)
            pipeline.execute(job_id=job_id, finish=product_summary, work=lambda: run_product_job(
                pipeline=pipeline, params=product, lease=slot.lease, projects=self.projects))
            return
        params = ProjectJobParams.model_validate(job.params)
        from functions.pipeline.cost.ledger import JobLedger

        # The same budget and spend accounting as `momentloop make` (cloud providers only; local is free).
        ledger = JobLedger(settings=self.settings, store=self.artifacts, seed=params.options.seed)
        pipeline = Pipeline(store=self.artifacts, jobs=jobs, executor=self._executor(stop), settings=self.settings,
                            stop=stop, ledger=ledger)
        if job.kind == "plan":
            pipeline.execute(job_id=job_id, work=lambda: self._plan(pipeline=pipeline, params=params,
                                                                    lease=slot.lease),
                             finish=_plan_summary)
        else:
            pipeline.execute(job_id=job_id, work=lambda: self._render(pipeline=pipeline, params=params,
                                                                      lease=slot.lease),
                             finish=_render_summary)

    def _executor(self, stop: StopFlag) -> Executor:
        """The executor MOMENTLOOP_EXECUTOR names, tuned like `momentloop make`'s (cloud stages by their
        limits); one that cannot be made fails the job with the reason when it is first asked to run."""
        workers, limits = executor_limits(self.settings)
        try:
            return self.executor_factory(settings=self.settings, store=self.artifacts, scale=self.scale, stop=stop,
                                         workers=workers, limits=limits)
        except MomentLoopError as exc:
            return UnavailableExecutor(exc)

    def _still_current(self, params: ProjectJobParams) -> bool:
        project = self.projects.get_project(user_id=params.user_id, project_id=params.project_id)
        return fingerprint(project=project, assets=self.projects.list_assets(project_id=project.id)) \
            == params.fingerprint

    def _new_plan(self, *, params: ProjectJobParams, prepared: Prepared) -> PlanRecord:
        """The storyboard just planned, with every edit of the one it replaces that still applies taken
        over (by photo) and a note of what changed and which edits were kept."""
        plan = prepared.plan
        waveform = window_waveform(store=self.artifacts, track=prepared.track, offset=plan.music_offset,
                                   duration=plan.output.duration)
        project = self.projects.get_project(user_id=params.user_id, project_id=params.project_id)
        assets = self.projects.list_assets(project_id=project.id)
        record = PlanRecord(
            project_id=params.project_id, plan=plan, track=prepared.track, asset_ids=params.asset_ids,
            waveform=waveform, fingerprint=params.fingerprint, updated_at=datetime.now(UTC),
            made_for=params.made_for)
        previous = self.projects.get_plan(project_id=params.project_id)
        why: list[str] = []
        if previous is not None:
            product = self.projects.project_product(project_id=project.id)
            why = [r.detail for r in stale_reasons(record=previous, project=project, assets=assets,
                                                   product=product.turntable_key if product else None)]
        return carry_over(previous=previous, record=record, live_assets={a.id for a in assets}, why=why)

    def _plan(self, *, pipeline: Pipeline, params: ProjectJobParams, lease: HeldLease) -> Prepared:
        prepared = pipeline.prepare(sources=params.sources, music=params.music, options=params.options,
                                    product=params.product)
        if not self._still_current(params):
            raise ProjectChangedError()
        lease.check()  # the project's records, too, are written only by the job's holder
        record = self._new_plan(params=params, prepared=prepared)
        self.projects.save_plan(record)
        return prepared.model_copy(update={"plan": record.plan})

    def _render(self, *, pipeline: Pipeline, params: ProjectJobParams,
                lease: HeldLease) -> tuple[MakeResult, ExportRecord]:
        prepared = pipeline.prepare(sources=params.sources, music=params.music, options=params.options,
                                    plan=params.plan, product=params.product)
        planned: PlanRecord | None = None
        if params.plan is None and self._still_current(params):
            # No storyboard fit the project: the one just planned, with the user's edits carried over, is
            # what is rendered and kept.
            planned = self._new_plan(params=params, prepared=prepared)
            prepared = prepared.model_copy(update={"plan": planned.plan})
        clips, video = pipeline.render(plan=prepared.plan, track=prepared.track, seed=params.options.seed)
        lease.check()  # the project's records, too, are written only by the job's holder
        if planned is not None and self._still_current(params):
            self.projects.save_plan(planned)
        existing = self.projects.export_for_job(job_id=pipeline.job_id)
        if existing is not None and existing.video_key == video.video_key:
            export = existing  # a resumed job that had already recorded its export
        else:
            export = self.projects.add_export(
                project_id=params.project_id, job_id=pipeline.job_id, video_key=video.video_key,
                poster_key=video.poster_key, duration=video.duration, width=video.width, height=video.height,
                size_bytes=stored_size(store=self.artifacts, key=video.video_key),
                fingerprint=params.fingerprint, plan_digest=plan_digest(prepared.plan), look=params.options.look,
                made_for=params.made_for)
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
