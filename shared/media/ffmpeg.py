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

_NEEDED_FILTERS = ("xfade", "loudnorm")


def _capable(exe: str) -> bool:
    """A PATH ffmpeg older than 4.3 has no xfade; such a build is passed over for the bundled one."""
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
        enc = subprocess.run(
            [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return all(f" {name} " in out for name in _NEEDED_FILTERS) and "libx264" in enc


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """MOMENTLOOP_FFMPEG, else a capable ffmpeg on PATH, else the binary in the imageio-ffmpeg wheel."""
    override = os.environ.get("MOMENTLOOP_FFMPEG")
    if override:
        return override
    on_path = shutil.which("ffmpeg")
    if on_path and _capable(on_path):
        return on_path
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    if on_path:
        log.info("ffmpeg on PATH (%s) lacks xfade/loudnorm/libx264; using %s", on_path, exe)
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
