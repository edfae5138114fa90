"""The compose stage: plan + clips + music -> the final MP4, in one ffmpeg encode."""

from __future__ import annotations

import contextlib
import logging
import time

from functions.compose.audio import AudioShape
from functions.compose.encode import run_with_progress
from functions.compose.graph import build_compose_command
from functions.compose.loudness import integrated_loudness_of, plan_loudness
from functions.compose.poster import poster_time, write_poster
from functions.compose.timing import clip_windows
from shared.errors import StageError
from shared.hashing import content_key
from shared.media.probe import probe
from shared.models import ComposeRequest, ComposeResult
from shared.progress import Reporter, silent
from shared.store import ArtifactStore, get_model, put_model

log = logging.getLogger(__name__)

COMPOSE_VERSION = "1"
MEASURE_SHARE = 5.0
"""Percent of the stage's progress given to the loudness measuring pass (audio only: quick)."""
ENCODE_SHARE = 90.0
ENCODE_TIMEOUT_BASE, ENCODE_TIMEOUT_PER_SECOND = 300.0, 30.0
"""Far beyond any sane encode (a 60 s 1080x1920 video takes about a minute on two cores), but finite."""


def compose_prefix(*, request: ComposeRequest) -> str:
    return f"compose/{content_key(stage='compose', version=COMPOSE_VERSION, request=request)}"


def run_compose(*, request: ComposeRequest, store: ArtifactStore, report: Reporter = silent) -> ComposeResult:
    """Encode the final video of `request.plan` from its clips and music, once; reuse it if already made."""
    prefix = compose_prefix(request=request)
    video_key, poster_key, result_key = f"{prefix}/video.mp4", f"{prefix}/poster.jpg", f"{prefix}/result.json"
    if store.exists(result_key) and store.exists(video_key):
        report(percent=100, message="reusing the composed video")
        return get_model(store, result_key, ComposeResult)

    plan = request.plan
    windows = clip_windows(plan=plan)
    if len(request.clips) != len(windows):
        raise StageError(f"{len(windows)} scenes but {len(request.clips)} clips", stage="compose")
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        clip_paths = [stack.enter_context(store.local_path(c.clip_key)) for c in request.clips]
        audio_path = stack.enter_context(store.local_path(request.audio_key))

        report(percent=0, message="measuring the music's loudness")
        shape = AudioShape.for_plan(plan=plan)
        loudness = plan_loudness(
            audio_path=audio_path, shape=shape, target_lufs=request.target_lufs, true_peak_db=request.true_peak_db
        )
        log.info(
            "music at %.1f LUFS, %.1f dBTP: %s normalisation",
            loudness.measured.input_i, loudness.measured.input_tp, loudness.mode,
        )

        with store.write_path(video_key, suffix=".mp4") as out_path:
            command = build_compose_command(
                request=request,
                clip_paths=clip_paths,
                audio_path=audio_path,
                loudness=loudness,
                output_path=out_path,
            )
            report(percent=MEASURE_SHARE, message="encoding the video")
            run_with_progress(
                command.args,
                what="compose encode",
                duration=command.duration,
                on_percent=lambda p: report(percent=MEASURE_SHARE + ENCODE_SHARE * p / 100, message="encoding"),
                timeout=ENCODE_TIMEOUT_BASE + ENCODE_TIMEOUT_PER_SECOND * command.duration,
            )
            info = probe(out_path)
            lufs = integrated_loudness_of(out_path)
            with store.write_path(poster_key, suffix=".jpg") as poster_path:
                write_poster(
                    video_path=out_path, at=poster_time(windows=windows, fps=plan.output.fps),
                    output_path=poster_path,
                )
    log.info("composed %s (%.2f s of video) in %.1f s", video_key, info.duration, time.monotonic() - started)
    result = ComposeResult(
        video_key=video_key,
        poster_key=poster_key,
        duration=info.duration,
        width=info.width or plan.output.width,
        height=info.height or plan.output.height,
        fps=info.fps or float(plan.output.fps),
        loudness_lufs=lufs,
    )
    put_model(store, result_key, result)
    report(percent=100, message="composed")
    return result
