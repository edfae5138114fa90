"""Running the one long ffmpeg encode while reporting how far it is."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Callable

from shared.errors import FFmpegError
from shared.media.ffmpeg import ffmpeg_exe


def progress_seconds(line: str) -> float | None:
    """Seconds of output written, from one `-progress` line (`out_time_us=`), else None."""
    key, _, value = line.strip().partition("=")
    if key not in ("out_time_us", "out_time_ms"):  # both are microseconds (a historical misnomer)
        return None
    try:
        return int(value) / 1_000_000
    except ValueError:  # "N/A" before the first frame is out
        return None


def run_with_progress(
    args: list[str],
    *,
    what: str,
    duration: float,
    on_percent: Callable[[float], None],
    timeout: float | None = None,
) -> str:
    """Run ffmpeg with `args`, calling `on_percent` (0..100 of `duration`) as it goes; return stderr.

    Progress comes on stdout (`-progress pipe:1`); stderr goes to a temporary file so that a chatty
    ffmpeg can never fill a pipe nobody reads. A watchdog kills an ffmpeg that outlives `timeout`, even
    one that has stopped writing anything."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    expired = threading.Event()
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)

        def kill_on_timeout() -> None:
            expired.set()
            proc.kill()

        watchdog = threading.Timer(timeout, kill_on_timeout) if timeout is not None else None
        if watchdog is not None:
            watchdog.daemon = True
            watchdog.start()
        try:
            assert proc.stdout is not None
            last = -1.0
            for line in proc.stdout:
                seconds = progress_seconds(line)
                if seconds is None or duration <= 0:
                    continue
                percent = max(0.0, min(100.0, 100.0 * seconds / duration))
                if percent - last >= 1.0:
                    last = percent
                    on_percent(percent)
            rc = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
        err.seek(0)
        stderr = err.read()
    if expired.is_set():
        raise FFmpegError(f"{what} timed out after {timeout:.0f} s", cmd=cmd, stderr=stderr)
    if rc != 0:
        raise FFmpegError(f"{what} failed", cmd=cmd, stderr=stderr)
    return stderr
