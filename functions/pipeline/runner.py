"""The orchestrator: runs the stage graph for one job through an Executor.

ingest → analyze (photos ∥ music) → plan → style (per photo) → clips (per scene) → compose.
Every item's result is cached by content, so a re-run, a resumed job or a new look redoes only what
changed."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from functions.compose import clip_windows
from functions.pipeline.cache import cached_result, run_stage_item
from functions.pipeline.executor import Executor, ItemOutcome
from functions.pipeline.ingest import expand_photo_paths, ingest_file, ingest_photos
from functions.pipeline.stages import get_stage
from shared.errors import InputError, MusicError, NoUsablePhotosError, StageError
from shared.jobs import JobStore
from shared.models import (
    AnalyzeMusicRequest,
    AnalyzePhotoRequest,
    Aspect,
    ClipRequest,
    ClipResult,
    ComposeRequest,
    ComposeResult,
    EventType,
    MusicInfo,
    MusicRequest,
    MusicTrack,
    OutputSpec,
    PhotoInfo,
    PhotoRejection,
    PlanRequest,
    ProgressEvent,
    ScenePlan,
    StyledImage,
    StyleRequest,
)
from shared.settings import Settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)

DEFAULT_SECONDS_PER_PHOTO = 3.0
DEFAULT_MIN_SECONDS = 10.0
DEFAULT_MAX_SECONDS = 60.0


class MakeRequest(BaseModel):
    """Everything `momentloop make` needs."""

    photos: list[Path] = Field(min_length=1)
    music: Path | None = None
    look: str = "ghibli"
    aspect: Aspect = "9:16"
    duration: float | None = Field(default=None, gt=0, le=600)
    fps: int = Field(default=30, ge=12, le=60)
    seed: int = 0


class StageStats(BaseModel):
    stage: str
    seconds: float = 0.0
    items: int = 0
    cache_hits: int = 0
    failures: int = 0


class MakeResult(BaseModel):
    job_id: str
    plan: ScenePlan
    clips: list[ClipResult]
    video: ComposeResult
    rejected: list[PhotoRejection]
    stats: list[StageStats]

    @property
    def cache_hits(self) -> int:
        return sum(s.cache_hits for s in self.stats)


EventListener = Callable[[ProgressEvent], None]


class Pipeline:
    """One job's run. Events go to the job store (for SSE and history) and to an optional listener."""

    def __init__(
        self,
        *,
        store: ArtifactStore,
        jobs: JobStore,
        executor: Executor,
        settings: Settings,
        listener: EventListener | None = None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.executor = executor
        self.settings = settings
        self.listener = listener
        self.stats: dict[str, StageStats] = {}
        self._emit_lock = threading.Lock()
        self.job_id = ""

    # ------------------------------------------------------------------ events

    def emit(self, type: EventType, **fields: object) -> None:
        with self._emit_lock:
            event = self.jobs.append_event(self.job_id, type=type, **fields)  # type: ignore[arg-type]
        if self.listener is not None:
            self.listener(event)

    def _map(self, *, stage: str, requests: Sequence[BaseModel], labels: Sequence[str]) -> list[ItemOutcome]:
        stats = self.stats.setdefault(stage, StageStats(stage=stage))
        spec = get_stage(stage)
        hits = sum(cached_result(stage=spec, request=r, store=self.store) is not None for r in requests)
        stats.cache_hits += hits
        stats.items += len(requests)
        self.emit("stage", stage=stage, status="running", percent=0.0, total=len(requests),
                  message=f"{len(requests)} item(s), {hits} cached")
        started = time.perf_counter()
        done = 0
        lock = threading.Lock()

        def progress(index: int, percent: float | None, message: str) -> None:
            if percent is not None:
                self.emit("progress", stage=stage, item=labels[index], percent=max(0.0, min(100.0, percent)),
                          message=message)

        def finished(outcome: ItemOutcome) -> None:
            nonlocal done
            with lock:
                done += 1
                overall = 100.0 * done / max(1, len(requests))
            if outcome.ok:
                self.emit("item", stage=stage, item=labels[outcome.index], status="done", percent=overall)
            else:
                stats.failures += 1
                self.emit("item", stage=stage, item=labels[outcome.index], status="failed", percent=overall,
                          error=outcome.error, hint=outcome.hint)

        outcomes = self.executor.map(stage=stage, requests=requests, on_progress=progress, on_done=finished)
        stats.seconds += time.perf_counter() - started
        self.emit("stage", stage=stage, status="done", percent=100.0)
        return outcomes

    def _single(self, *, stage: str, request: BaseModel, label: str) -> BaseModel:
        outcome = self._map(stage=stage, requests=[request], labels=[label])[0]
        if outcome.result is None and outcome.bad_input:
            raise InputError(outcome.error or "unusable input", hint=outcome.hint or "")
        if outcome.result is None:
            raise StageError(outcome.error or "failed", stage=stage, item=label, hint=outcome.hint or "")
        return outcome.result

    # ------------------------------------------------------------------ the job

    def make(self, *, request: MakeRequest, job_id: str | None = None) -> MakeResult:
        job = self.jobs.create_job(kind="make", params=request.model_dump(mode="json"), job_id=job_id)
        self.job_id = job.id
        self.jobs.set_status(job.id, status="running")
        try:
            result = self._make(request=request)
        except Exception as exc:
            hint = getattr(exc, "hint", None) or None
            self.jobs.set_status(job.id, status="failed", error=str(exc))
            self.emit("failed", message=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                      error=str(exc), hint=hint)
            raise
        self.jobs.set_status(job.id, status="done", result={
            "video_key": result.video.video_key,
            "poster_key": result.video.poster_key,
            "clip_keys": [c.clip_key for c in result.clips],
        })
        self.emit("done", percent=100.0, message=f"{len(result.plan.scenes)} scenes, {result.video.duration:.2f} s")
        return result

    def _make(self, *, request: MakeRequest) -> MakeResult:
        s = self.settings
        paths = expand_photo_paths(request.photos)
        if not paths:
            raise NoUsablePhotosError([])
        sources = ingest_photos(store=self.store, paths=paths)
        music_key = None
        if request.music is not None:
            if not request.music.is_file():
                raise MusicError(f"{request.music}: no such music file")
            music_key = ingest_file(store=self.store, path=request.music)

        outcomes = self._map(
            stage="analyze_photo",
            requests=[AnalyzePhotoRequest(source=src, max_pixels=s.max_pixels, max_side=s.max_photo_side)
                      for src in sources],
            labels=[src.name for src in sources],
        )
        photos = [o.result for o in outcomes if isinstance(o.result, PhotoInfo)]
        rejected = [PhotoRejection(name=sources[o.index].name, reason=o.error or "unusable")
                    for o in outcomes if not o.ok]
        for r in rejected:
            self.emit("log", stage="analyze_photo", item=r.name, status="skipped", message=f"skipped {r.reason}")
        if not photos:
            raise NoUsablePhotosError([(r.name, r.reason) for r in rejected])

        duration = request.duration or min(
            DEFAULT_MAX_SECONDS, max(DEFAULT_MIN_SECONDS, DEFAULT_SECONDS_PER_PHOTO * len(photos))
        )
        track = self._single(
            stage="music",
            request=MusicRequest(duration=duration, user_key=music_key,
                                 user_name=request.music.name if request.music else None, seed=request.seed,
                                 provider=self.settings.music_provider),
            label=request.music.name if request.music else "generated",
        )
        assert isinstance(track, MusicTrack)
        music = self._single(stage="analyze_music", request=AnalyzeMusicRequest(track=track), label=track.name)
        assert isinstance(music, MusicInfo)

        output = OutputSpec.for_aspect(aspect=request.aspect, fps=request.fps, duration=duration)
        plan = self._single(
            stage="plan",
            request=PlanRequest(photos=photos, music=music, output=output, look=request.look, seed=request.seed),
            label="plan",
        )
        assert isinstance(plan, ScenePlan)

        styled = self._style(plan=plan, look=request.look, seed=request.seed)
        clips = self._clips(plan=plan, styled=styled, seed=request.seed)
        video = self._single(
            stage="compose",
            request=ComposeRequest(plan=plan, clips=clips, audio_key=track.audio_key, preset=s.output_preset,
                                   crf=s.output_crf, target_lufs=s.target_lufs, true_peak_db=s.true_peak_db),
            label="video",
        )
        assert isinstance(video, ComposeResult)
        return MakeResult(job_id=self.job_id, plan=plan, clips=clips, video=video, rejected=rejected,
                          stats=list(self.stats.values()))

    def _style(self, *, plan: ScenePlan, look: str, seed: int) -> dict[str, str]:
        """Style each photo used by the plan once. A photo whose style fails keeps its own look."""
        keys = list(dict.fromkeys(sc.image_key for sc in plan.scenes))
        names = {sc.image_key: sc.photo for sc in plan.scenes}
        outcomes = self._map(
            stage="style",
            requests=[StyleRequest(image_key=k, look=look, provider=self.settings.style_provider, seed=seed)
                      for k in keys],
            labels=[names[k] for k in keys],
        )
        styled: dict[str, str] = {}
        for key, outcome in zip(keys, outcomes, strict=True):
            if isinstance(outcome.result, StyledImage):
                styled[key] = outcome.result.image_key
            else:
                styled[key] = key
                self.emit("log", stage="style", item=names[key], status="fallback",
                          message=f"kept the original look: {outcome.error}")
        return styled

    def _clips(self, *, plan: ScenePlan, styled: dict[str, str], seed: int) -> list[ClipResult]:
        windows = clip_windows(plan=plan)
        requests = [
            ClipRequest(image_key=styled[scene.image_key], scene=scene, output=plan.output, frames=w.frames,
                        lead_in=w.lead_in, lead_out=w.lead_out, provider=self.settings.clip_provider, seed=seed)
            for scene, w in zip(plan.scenes, windows, strict=True)
        ]
        labels = [f"scene {sc.index + 1}: {sc.photo}" for sc in plan.scenes]
        outcomes = self._map(stage="clips", requests=requests, labels=labels)
        failed = [(labels[o.index], o.error) for o in outcomes if not o.ok]
        if failed:
            detail = "; ".join(f"{name}: {why}" for name, why in failed)
            raise StageError(f"{len(failed)} scene(s) could not be rendered ({detail})", stage="clips")
        return [o.result for o in outcomes if isinstance(o.result, ClipResult)]


def run_single(*, stage: str, request: BaseModel, store: ArtifactStore) -> BaseModel:
    """Run one stage item in this process (used by `modal_app.py` functions and tests)."""
    return run_stage_item(stage_name=stage, request=request, store=store)


__all__ = ["InputError", "MakeRequest", "MakeResult", "Pipeline", "StageStats", "run_single"]
