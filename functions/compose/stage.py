"""The compose stage: plan + clips + music -> the final MP4, each of its frames encoded once.

The timeline is cut into segments (segments.py). A scene's body whose clip was already encoded with
the final video's settings is copied packet for packet; everything else (crossfades, clips from video
models) is encoded here with those settings. Meanwhile the music is cut, faded, levelled and encoded
in audio-only passes (loudness.py). The final pass joins the segments and the soundtrack by copying.
Encoding the whole video again here would cost as much as every other stage together; copying makes
compose a matter of seconds and lets the encode spread over the clip stage's workers (or Modal
containers)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import tempfile
import threading
import time
from pathlib import Path

from functions.compose.audio import AudioShape
from functions.compose.encode import run_with_progress
from functions.compose.graph import (
    ClipFiles,
    ClipFit,
    assembly_args,
    concat_list,
    copyable,
    fit_clip,
    segment_args,
)
from functions.compose.loudness import make_soundtrack
from functions.compose.poster import poster_time, write_poster
from functions.compose.segments import Segment, plan_segments
from functions.compose.timing import ClipWindow, clip_windows
from shared.errors import StageError
from shared.hashing import content_key
from shared.media.probe import probe
from shared.models.render import ClipResult, ComposeRequest, ComposeResult, FinalEncoding
from shared.progress import Reporter, silent
from shared.settings import get_settings
from shared.store import ArtifactStore, get_model, put_model

log = logging.getLogger(__name__)

COMPOSE_VERSION = "3"
SEGMENTS_SHARE, ASSEMBLY_SHARE = 60.0, 35.0
"""Percent of the stage's progress given to encoding segments and to the final assembly."""
ENCODE_TIMEOUT_BASE, ENCODE_TIMEOUT_PER_SECOND = 300.0, 30.0
"""Far beyond any sane encode (a 60 s 1080x1920 video takes about a minute on two cores), but finite."""


def compose_prefix(*, request: ComposeRequest) -> str:
    return f"compose/{content_key(stage='compose', version=COMPOSE_VERSION, request=request)}"


def _extradata(path: Path) -> bytes:
    """The video stream's parameter sets (avcC): pieces joined by copying must all carry the same."""
    import av

    with av.open(str(path)) as container:
        return bytes(container.streams.video[0].codec_context.extradata or b"")


def _count_packets(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(container.streams.video[0]) if packet.size > 0)


def run_compose(*, request: ComposeRequest, store: ArtifactStore, report: Reporter = silent) -> ComposeResult:
    """Make the final video of `request.plan` from its clips and music; reuse it if already made."""
    prefix = compose_prefix(request=request)
    video_key, poster_key, result_key = f"{prefix}/video.mp4", f"{prefix}/poster.jpg", f"{prefix}/result.json"
    if store.exists(result_key) and store.exists(video_key):
        report(percent=100, message="reusing the composed video")
        return get_model(store, result_key, ComposeResult)

    plan = request.plan
    out = plan.output
    windows = clip_windows(plan=plan)
    if len(request.clips) != len(windows):
        raise StageError(f"{len(windows)} scenes but {len(request.clips)} clips", stage="compose")
    encoding = FinalEncoding(preset=request.preset, crf=request.crf)
    fits = [fit_clip(clip=c, window=w, output=out) for c, w in zip(request.clips, windows, strict=True)]
    segments = plan_segments(windows=windows)
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        local: dict[str, Path] = {}
        for key in dict.fromkeys(k for c in request.clips for k in c.part_keys):
            local[key] = stack.enter_context(store.local_path(key))
        files = [_clip_files(clip=c, local=local) for c in request.clips]
        audio_path = stack.enter_context(store.local_path(request.audio_key))
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="momentloop-compose-")))
        shape = AudioShape.for_plan(plan=plan)

        # Segment encodes at once: one per two cores, like the clip renders (`render_concurrency`): each
        # is a threaded x264 of ~0.4 GB; one more thread makes the soundtrack.
        workers = get_settings().render_concurrency
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers + 1) as pool:
            # The soundtrack depends on nothing the video does: make it while the segments encode.
            soundtrack_path = work / "soundtrack.mp4"
            soundtrack_job = pool.submit(make_soundtrack, audio_path=audio_path, shape=shape,
                                         target_lufs=request.target_lufs, true_peak_db=request.true_peak_db,
                                         output_path=soundtrack_path)
            report(percent=0, message="joining the clips")
            pieces = _make_segments(segments=segments, windows=windows, request=request, files=files, fits=fits,
                                    encoding=encoding, work=work, pool=pool, workers=workers, report=report)
            soundtrack = soundtrack_job.result()
        log.info("music at %.1f LUFS, %.1f dBTP: %+.1f dB, limited at %.1f dBFS; soundtrack at %.1f LUFS, %.1f dBTP",
                 soundtrack.source.integrated, soundtrack.source.true_peak, soundtrack.mastering.gain_db,
                 soundtrack.mastering.ceiling_db, soundtrack.result.integrated, soundtrack.result.true_peak)
        copied = sum(s.frames for s, (_, was_copied) in zip(segments, pieces, strict=True) if was_copied)

        list_path = work / "segments.ffconcat"
        entries = [(path, s.frames) for (path, _), s in zip(pieces, segments, strict=True)]
        list_path.write_text(concat_list(entries, fps=out.fps), encoding="utf-8")
        with store.write_path(video_key, suffix=".mp4") as out_path:
            command = assembly_args(list_path=list_path, soundtrack_path=soundtrack_path, duration=shape.duration,
                                    output_path=out_path)
            report(percent=SEGMENTS_SHARE, message="assembling the video and its music")
            run_with_progress(
                command.args,
                what="compose assembly",
                duration=command.duration,
                on_percent=lambda p: report(percent=SEGMENTS_SHARE + ASSEMBLY_SHARE * p / 100, message="assembling"),
                timeout=ENCODE_TIMEOUT_BASE + ENCODE_TIMEOUT_PER_SECOND * command.duration,
            )
            info = probe(out_path)
            with store.write_path(poster_key, suffix=".jpg") as poster_path:
                write_poster(video_path=out_path, at=poster_time(windows=windows, fps=out.fps), output_path=poster_path)
    log.info("composed %s (%.2f s of video, %d of %d frames copied) in %.1f s", video_key, info.duration, copied,
             out.total_frames, time.monotonic() - started)
    result = ComposeResult(
        video_key=video_key,
        poster_key=poster_key,
        duration=info.duration,
        width=info.width or out.width,
        height=info.height or out.height,
        fps=info.fps or float(out.fps),
        # The final file carries the soundtrack's packets unchanged: its loudness is the soundtrack's.
        loudness_lufs=None if soundtrack.result.silent else soundtrack.result.integrated,
        copied_frames=copied,
    )
    put_model(store, result_key, result)
    report(percent=100, message="composed")
    return result


def _clip_files(*, clip: ClipResult, local: dict[str, Path]) -> ClipFiles:
    return ClipFiles(
        head=local[clip.head_key] if clip.head_key else None,
        body=local[clip.clip_key],
        tail=local[clip.tail_key] if clip.tail_key else None,
    )


def _make_segments(
    *,
    segments: list[Segment],
    windows: list[ClipWindow],
    request: ComposeRequest,
    files: list[ClipFiles],
    fits: list[ClipFit],
    encoding: FinalEncoding,
    work: Path,
    pool: concurrent.futures.ThreadPoolExecutor,
    workers: int,
    report: Reporter,
) -> list[tuple[Path, bool]]:
    """Each segment's file, in order, and whether it was copied: copied bodies where their parameter
    sets match the encoded ones, everything else encoded (in `pool`)."""
    out = request.plan.output
    clips = request.clips

    def copy_source(s: Segment) -> Path | None:
        (piece,) = s.pieces
        clip = clips[piece.clip]
        if copyable(clip=clip, piece=piece, window=windows[piece.clip], output=out, encoding=encoding):
            return files[piece.clip].body
        return None

    copies = {i: path for i, s in enumerate(segments) if s.kind == "body" and (path := copy_source(s)) is not None}
    to_encode = [i for i in range(len(segments)) if i not in copies]
    total = sum(segments[i].frames for i in to_encode) or 1
    done = [0]
    lock = threading.Lock()

    def encode(i: int) -> Path:
        s = segments[i]
        dest = work / f"segment{i:04d}.mp4"
        args = segment_args(segment=s, clips=clips, files=files, fits=fits, windows=windows, output=out,
                            encoding=encoding, dest=dest)
        run_with_progress(args, what=f"{s.kind} segment at frame {s.start_frame}", duration=s.frames / out.fps,
                          on_percent=lambda p: None,
                          timeout=ENCODE_TIMEOUT_BASE + ENCODE_TIMEOUT_PER_SECOND * s.frames / out.fps)
        made = _count_packets(dest)
        if made != s.frames:
            raise StageError(f"{s.kind} segment at frame {s.start_frame}: {made} frames made, {s.frames} planned",
                             stage="compose")
        with lock:
            done[0] += s.frames
            report(percent=SEGMENTS_SHARE * done[0] / total, message=f"encoded {done[0]}/{total} frames")
        return dest

    # At most `workers` encodes at once, whatever else shares the pool.
    slots = threading.Semaphore(workers)

    def encode_in_slot(i: int) -> Path:
        with slots:
            return encode(i)

    encoded = dict(zip(to_encode, pool.map(encode_in_slot, to_encode), strict=True))
    encoded_sets = {i: _extradata(path) for i, path in encoded.items()}

    # Copying is only valid between identical parameter sets; a clip body that differs (another
    # encoder build, say) is encoded here like any other segment.
    reference = encoded_sets[to_encode[0]] if to_encode else None
    for i, source in list(copies.items()):
        own = _extradata(source)
        if reference is None:
            reference = own
        elif own != reference:
            log.warning("clip body at frame %d has other parameter sets: encoding it again", segments[i].start_frame)
            del copies[i]
            encoded[i] = encode(i)
            encoded_sets[i] = _extradata(encoded[i])
    if any(found != reference for found in encoded_sets.values()):
        raise StageError("encoded segments disagree on their parameter sets: they cannot be joined", stage="compose")
    return [(copies[i], True) if i in copies else (encoded[i], False) for i in range(len(segments))]


__all__ = ["COMPOSE_VERSION", "compose_prefix", "run_compose"]
