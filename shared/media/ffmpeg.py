"""Where ffmpeg is, and running it with errors that carry the command and stderr."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from functools import lru_cache

from shared.errors import FFmpegError

log = logging.getLogger(__name__)

# What the project asks of an ffmpeg, so that one on PATH missing any of it is passed over for the wheel's.
# Exactly what the code uses: tests/shared/test_media_ffmpeg.py reads the filters out of every ffmpeg-python
# graph and filter chain, and the codecs out of every command, and fails when these lists and the code differ.
NEEDED_FILTERS = (
    # compose: each scene's frames, the crossfades, the final frames' tags
    "setpts", "fps", "tpad", "trim", "scale", "crop", "format", "setparams", "setsar", "settb", "xfade",
    # compose: the music shaped, levelled by one gain and a true-peak limiter, and measured
    "atrim", "asetpts", "aformat", "apad", "afade", "volume", "aresample", "alimiter", "ebur128",
    # a user's song to WAV
    "volumedetect", "pan",
)
NEEDED_ENCODERS = ("libx264", "libvpx-vp9", "aac", "pcm_s16le", "pcm_f32le")
NEEDED_DECODERS = ("libvpx-vp9",)
"""Decoders named before an input: the turntable's alpha plane is read only by libvpx (the native vp9
decoder drops it)."""
NEEDED_OPTIONS = ("-display_rotation",)
"""The input option that sets a video's display rotation (ffmpeg 6.0 on; Debian 12's 5.1 has everything
else, and the videos of rotated phones are made with it)."""


def _listing(exe: str, *what: str) -> str:
    return subprocess.run([exe, "-hide_banner", *what], capture_output=True, text=True, timeout=20,
                          check=False).stdout


def missing_capabilities(exe: str) -> list[str]:
    """What `exe` lacks of what the project uses (empty: it has it all; an ffmpeg that cannot run lacks all)."""
    try:
        filters, encoders, decoders = _listing(exe, "-filters"), _listing(exe, "-encoders"), _listing(exe, "-decoders")
        options = _listing(exe, "-h", "long")
    except (OSError, subprocess.SubprocessError):
        return [*NEEDED_FILTERS, *(f"{e} encoder" for e in NEEDED_ENCODERS),
                *(f"{d} decoder" for d in NEEDED_DECODERS), *NEEDED_OPTIONS]
    return ([f for f in NEEDED_FILTERS if f" {f} " not in filters]
            + [f"{e} encoder" for e in NEEDED_ENCODERS if f" {e} " not in encoders]
            + [f"{d} decoder" for d in NEEDED_DECODERS if f" {d} " not in decoders]
            + [o for o in NEEDED_OPTIONS if f"\n{o}" not in f"\n{options}"])


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """MOMENTLOOP_FFMPEG, else an ffmpeg on PATH that has all the project uses, else the binary in the
    imageio-ffmpeg wheel (an older PATH ffmpeg, such as Debian 12's 5.1, is passed over for it)."""
    override = os.environ.get("MOMENTLOOP_FFMPEG")
    if override:
        return override
    on_path = shutil.which("ffmpeg")
    lacking = missing_capabilities(on_path) if on_path else []
    if on_path and not lacking:
        return on_path
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    if on_path:
        log.info("ffmpeg on PATH (%s) lacks %s; using %s", on_path, ", ".join(lacking), exe)
    return str(exe)


def run_ffmpeg(args: list[str], *, what: str, timeout: float | None = None) -> str:
    """Run ffmpeg with `args` (no executable); return stderr (where ffmpeg writes its reports)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"{what} timed out", cmd=cmd, stderr=str(exc.stderr or "")) from None
    if proc.returncode != 0:
        raise FFmpegError(f"{what} failed", cmd=cmd, stderr=proc.stderr)
    return proc.stderr


def feed_ffmpeg(args: list[str], *, frames: Iterable[Sequence[bytes | memoryview]], what: str) -> int:
    """Run ffmpeg with `args` (no executable), writing each frame's buffers (its planes, in order) to
    its stdin; return how many frames were written. An ffmpeg that fails is an FFmpegError carrying the
    command and its stderr; an exception from `frames` kills ffmpeg and propagates."""
    cmd = [ffmpeg_exe(), *args]
    written = 0
    # stderr goes to a file, not a pipe: a chatty ffmpeg can then never block on a full pipe while we
    # block writing its stdin.
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        try:
            for buffers in frames:
                for buffer in buffers:
                    proc.stdin.write(buffer)
                written += 1
            proc.stdin.close()
            code = proc.wait()
        except BrokenPipeError:  # ffmpeg stopped reading: its exit code and stderr say why
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if not proc.stdin.closed:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
        if code != 0:
            err.seek(0)
            raise FFmpegError(f"{what} failed", cmd=cmd, stderr=err.read().decode(errors="replace"))
    return written
