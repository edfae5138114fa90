"""The orchestrator: runs the stage graph for one job through an Executor.

ingest → analyze (photos ∥ music) → plan → style (per photo) → clips (per scene) → compose.
Every item's result is cached by content, so a re-run, a resumed job or a new look redoes only what
changed. The CLI (`make`) and the web app (plan and render jobs) run the same methods: `prepare` (analysis
and the storyboard), `render` (style, clips, compose) and `run` (both), inside `execute`, which owns the
job's status and its terminal event."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from functions.compose import clip_windows
from functions.pipeline.cache import cached_result
from functions.pipeline.executor import Executor, ItemOutcome, JobStoppedError, StopFlag
from functions.pipeline.ingest import expand_photo_paths, ingest_file, ingest_photos, ingest_turntable
from functions.pipeline.stages import get_stage
from functions.pipeline.video_models import (
    MakeRequest,
    MakeResult,
    MusicInput,
    Prepared,
    ProductSource,
    StageStats,
    VideoOptions,
)
from shared.dependencies import missing_dependency
from shared.errors import InputError, MomentLoopError, MusicError, NoUsablePhotosError, StageError
from shared.jobs import JobStore
from shared.models.base import OutputSpec
from shared.models.jobs import EventType, ProgressEvent
from shared.models.media import (
    AnalyzeMusicRequest,
    AnalyzePhotoRequest,
    MusicInfo,
    MusicRequest,
    MusicTrack,
    PhotoInfo,
    PhotoRejection,
    PhotoSource,
)
from shared.models.plan import PlanRequest, ProductInput, Scene, ScenePlan
from shared.models.render import (
    ClipRequest,
    ClipResult,
    ComposeRequest,
    ComposeResult,
    FinalEncoding,
    StyledImage,
    StyleRequest,
)
from shared.settings import Settings
from shared.store import ArtifactStore

if TYPE_CHECKING:
    from functions.pipeline.cost.ledger import JobLedger

log = logging.getLogger(__name__)

DEFAULT_SECONDS_PER_PHOTO = 3.0
DEFAULT_MIN_SECONDS = 10.0
DEFAULT_MAX_SECONDS = 60.0

T = TypeVar("T")

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
        stop: StopFlag | None = None,
        ledger: JobLedger | None = None,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.jobs = jobs
        self.executor = executor
        self.settings = settings
        self.listener = listener
        self.stop = stop
        self.stats: dict[str, StageStats] = {}
        self._emit_lock = threading.Lock()
        self.job_id = ""

    # ------------------------------------------------------------------ events

    def emit(self, type: EventType, **fields: object) -> None:
        with self._emit_lock:
            event = self.jobs.append_event(self.job_id, type=type, **fields)  # type: ignore[arg-type]
        if self.listener is not None:
            self.listener(event)

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise JobStoppedError()

    def _map(self, *, stage: str, requests: Sequence[BaseModel], labels: Sequence[str]) -> list[ItemOutcome]:
        self._check_stop()
        stats = self.stats.setdefault(stage, StageStats(stage=stage))
        spec = get_stage(stage)
        cached = [cached_result(stage=spec, request=r, store=self.store) is not None for r in requests]
        hits = sum(cached)
        if self.ledger is not None:  # the budget: refuse before spending, never after
            self.ledger.before_stage(stage=stage, requests=[r for r, c in zip(requests, cached, strict=True) if not c])
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
            if outcome.skipped:
                return
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
        if self.ledger is not None:  # spend, and the provider links that failed before the one that answered
            for note in self.ledger.after_stage(
                stage=stage, outcomes=[(labels[o.index], o.result, cached[o.index]) for o in outcomes]
            ):
                self.emit("log", stage=stage, item=note.item, status=note.status, message=note.message)
        # Items that never started leave the stage unfinished: no "done" for it, and the job stops here.
        self._check_stop()
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

    def execute(self, *, job_id: str, work: Callable[[], T], finish: Callable[[T], tuple[dict[str, object], str]]) -> T:
        """Run `work` as job `job_id`: status `running`, then `done` with `finish(value)`'s result and
        message, `failed` with the reason and a hint, or `cancelled`. The terminal event comes after the
        status, so whoever sees it can read the final job. A job stopped for a shutdown goes back to
        `queued`, with no terminal event: it resumes when the server starts again."""
        self.job_id = job_id
        self.jobs.set_status(job_id, status="running")
        try:
            value = work()
            result, message = finish(value)
        except JobStoppedError:
            if self.stop is not None and self.stop.reason == "shutdown":
                self.jobs.set_status(job_id, status="queued")
                self.emit("log", status="interrupted",
                          message="the server is stopping; this job resumes when it starts again")
            else:
                self.jobs.set_status(job_id, status="cancelled")
                self.emit("failed", status="cancelled", message="cancelled",
                          hint="resume it to finish; finished work is kept")
            raise
        except Exception as exc:
            hint = getattr(exc, "hint", None) or None
            missing = None if isinstance(exc, MomentLoopError) else missing_dependency(exc)
            if missing is not None:  # a package to install, not a bug
                hint = missing.hint
            elif not isinstance(exc, MomentLoopError):
                log.exception("job %s failed", job_id)
                hint = hint or "this is a bug in MomentLoop; please report it"
            shown: Exception = missing or exc
            reason = str(shown).splitlines()[0] if str(shown) else type(exc).__name__
            self.jobs.set_status(job_id, status="failed", error=reason, result={"hint": hint} if hint else None)
            self.emit("failed", status="failed", message=reason, error=reason, hint=hint)
            raise
        self.jobs.set_status(job_id, status="done", result=result)
        self.emit("done", status="done", percent=100.0, message=message)
        return value

    def make(self, *, request: MakeRequest, job_id: str | None = None) -> MakeResult:
        job = self.jobs.create_job(kind="make", params=request.model_dump(mode="json"), job_id=job_id)

        def work() -> MakeResult:
            sources, music = self.ingest(request=request)
            product = self.ingest_product(request=request, after=len(sources))
            return self.run(sources=sources, music=music, options=request.options(), product=product)

        return self.execute(job_id=job.id, work=work, finish=make_summary)

    def ingest(self, *, request: MakeRequest) -> tuple[list[PhotoSource], MusicInput | None]:
        """The request's files copied into the store (content-addressed: once, however often they come)."""
        paths = expand_photo_paths(request.photos)
        if not paths:
            raise NoUsablePhotosError([])
        sources = ingest_photos(store=self.store, paths=paths)
        music = None
        if request.music is not None:
            if not request.music.is_file():
                raise MusicError(f"{request.music}: no such music file")
            music = MusicInput(key=ingest_file(store=self.store, path=request.music), name=request.music.name)
        return sources, music

    def ingest_product(self, *, request: MakeRequest, after: int) -> ProductSource | None:
        """The request's turntable, checked and copied into the store, and its background photo (numbered
        `after`, past the photos). A file that is not a turntable is an InputError, before any work."""
        if request.product is None:
            return None
        key, info = ingest_turntable(store=self.store, path=request.product)
        background = None
        if request.product_background is not None:
            path = request.product_background
            if not path.is_file():
                raise InputError(f"{path}: no such background photo")
            background = PhotoSource(key=ingest_file(store=self.store, path=path), name=path.name, index=after)
        return ProductSource(key=key, name=request.product.name, frames=info.frames, duration=info.duration,
                             background=background)

    def run(self, *, sources: Sequence[PhotoSource], music: MusicInput | None, options: VideoOptions,
            plan: ScenePlan | None = None, product: ProductSource | None = None) -> MakeResult:
        """The whole video. With `plan` (a storyboard the user edited), planning is skipped and that plan
        is rendered as it is, in `options.look`; everything else comes from the cache when it can."""
        prepared = self.prepare(sources=sources, music=music, options=options, plan=plan, product=product)
        clips, video = self.render(plan=prepared.plan, track=prepared.track, seed=options.seed)
        return MakeResult(job_id=self.job_id, plan=prepared.plan, clips=clips, video=video,
                          rejected=prepared.rejected, stats=list(self.stats.values()),
                          spend_usd=self.ledger.spent if self.ledger is not None else 0.0)

    def prepare(
        self,
        *,
        sources: Sequence[PhotoSource],
        music: MusicInput | None,
        options: VideoOptions,
        plan: ScenePlan | None = None,
        product: ProductSource | None = None,
    ) -> Prepared:
        """Analysis, the soundtrack and the storyboard (planned, or `plan` as given, in `options.look`).
        With `product`, one scene of the plan is the product shot."""
        s = self.settings

        def soundtrack(duration: float) -> tuple[MusicTrack, MusicInfo]:
            track = self._single(
                stage="music",
                request=MusicRequest(duration=duration, user_key=music.key if music else None,
                                     user_name=music.name if music else None, seed=options.seed,
                                     provider=s.music_provider),
                label=music.name if music else "generated",
            )
            assert isinstance(track, MusicTrack)
            info = self._single(stage="analyze_music", request=AnalyzeMusicRequest(track=track), label=track.name)
            assert isinstance(info, MusicInfo)
            return track, info

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ml-music") as pool:
            # A user's song, or a length given up front, need nothing from the photos: beat tracking runs
            # beside photo analysis instead of after it.
            early = (pool.submit(soundtrack, options.duration or DEFAULT_MAX_SECONDS)
                     if music is not None or options.duration is not None else None)
            # The product's background photo is analysed with the photos, and kept out of their scenes.
            extra = [product.background] if product is not None and product.background is not None else []
            outcomes = self._map(
                stage="analyze_photo",
                requests=[AnalyzePhotoRequest(source=src, max_pixels=s.max_pixels, max_side=s.max_photo_side)
                          for src in [*sources, *extra]],
                labels=[src.name for src in [*sources, *extra]],
            )
            backdrop = _product_background(outcomes[len(sources):])
            if extra and backdrop is None:
                self.emit("log", stage="analyze_photo", item=extra[0].name, status="skipped",
                          message=f"the product's background {extra[0].name} is unusable "
                                  f"({outcomes[-1].error}); one of the photos is used instead")
            outcomes = outcomes[: len(sources)]
            photos = [o.result for o in outcomes if isinstance(o.result, PhotoInfo)]
            rejected = [PhotoRejection(name=sources[o.index].name, reason=o.error or "unusable")
                        for o in outcomes if not o.ok]
            for r in rejected:
                self.emit("log", stage="analyze_photo", item=r.name, status="skipped",
                          message=f"skipped {r.reason}")
            if not photos:
                if early is not None:
                    early.cancel()
                raise NoUsablePhotosError([(r.name, r.reason) for r in rejected])
            duration = options.duration or min(
                DEFAULT_MAX_SECONDS, max(DEFAULT_MIN_SECONDS, DEFAULT_SECONDS_PER_PHOTO * len(photos))
            )
            track, info = early.result() if early is not None else soundtrack(duration)

        if plan is None:
            output = OutputSpec.for_aspect(aspect=options.aspect, fps=options.fps, duration=duration)
            planned = self._single(
                stage="plan",
                request=PlanRequest(photos=photos, music=info, output=output, look=options.look, seed=options.seed,
                                    provider=self.settings.plan_provider, order=options.order,
                                    product=_product_input(product=product, background=backdrop)),
                label="plan",
            )
            assert isinstance(planned, ScenePlan)
            plan = planned
        else:
            from functions.plan.prompts import restyle_plan

            self._check_stop()
            plan = restyle_plan(plan, look=options.look)
            self.emit("log", stage="plan", status="given", message=f"the edited storyboard: {len(plan.scenes)} scenes")
        return Prepared(photos=photos, rejected=rejected, track=track, music=info, plan=plan)

    def render(self, *, plan: ScenePlan, track: MusicTrack, seed: int) -> tuple[list[ClipResult], ComposeResult]:
        """Style every photo of `plan`, render every scene, compose the video once."""
        s = self.settings
        styled = self._style(plan=plan, look=plan.look, seed=seed)
        clips = self._clips(plan=plan, styled=styled, seed=seed)
        video = self._single(
            stage="compose",
            request=ComposeRequest(plan=plan, clips=clips, audio_key=track.audio_key, preset=s.output_preset,
                                   crf=s.output_crf, target_lufs=s.target_lufs, true_peak_db=s.true_peak_db),
            label="video",
        )
        assert isinstance(video, ComposeResult)
        return clips, video

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
        # Clip bodies are encoded with the final video's settings, so compose copies them (see
        # functions/compose/stage.py); heads and tails, which compose blends, come apart.
        final = FinalEncoding(preset=self.settings.output_preset, crf=self.settings.output_crf)
        requests = [
            ClipRequest(image_key=styled[scene.image_key], scene=scene, output=plan.output, frames=w.frames,
                        lead_in=w.lead_in, lead_out=w.lead_out, seed=seed,
                        provider=_clip_provider(scene=scene, settings=self.settings),
                        head_frames=2 * w.lead_in_frames, tail_frames=2 * w.lead_out_frames, final=final)
            for scene, w in zip(plan.scenes, windows, strict=True)
        ]
        labels = [f"scene {sc.index + 1}: {'product over ' if sc.kind == 'product' else ''}{sc.photo}"
                  for sc in plan.scenes]
        outcomes = self._map(stage="clips", requests=requests, labels=labels)
        failed = [(labels[o.index], o.error) for o in outcomes if not o.ok]
        if failed:
            detail = "; ".join(f"{name}: {why}" for name, why in failed)
            raise StageError(f"{len(failed)} scene(s) could not be rendered ({detail})", stage="clips")
        return [o.result for o in outcomes if isinstance(o.result, ClipResult)]


def _clip_provider(*, scene: Scene, settings: Settings) -> str:
    # A video model cannot turn our turntable: product shots are always composited locally (and free).
    return "local" if scene.kind == "product" else settings.clip_provider


def _product_background(outcomes: Sequence[ItemOutcome]) -> PhotoInfo | None:
    return next((o.result for o in outcomes if isinstance(o.result, PhotoInfo)), None)


def _product_input(*, product: ProductSource | None, background: PhotoInfo | None) -> ProductInput | None:
    if product is None:
        return None
    return ProductInput(key=product.key, name=product.name, frames=product.frames, duration=product.duration,
                        background=background)


def make_summary(result: MakeResult) -> tuple[dict[str, object], str]:
    """What a finished `make` job records, and its last message."""
    return (
        {"video_key": result.video.video_key, "poster_key": result.video.poster_key,
         "clip_keys": [c.clip_key for c in result.clips], "clip_parts": [c.part_keys for c in result.clips],
         "spend_usd": result.spend_usd},
        f"{len(result.plan.scenes)} scenes, {result.video.duration:.2f} s",
    )


__all__ = [
    "InputError",
    "JobStoppedError",
    "MakeRequest",
    "MakeResult",
    "MusicInput",
    "Pipeline",
    "Prepared",
    "ProductSource",
    "StageStats",
    "StopFlag",
    "VideoOptions",
    "make_summary",
]
