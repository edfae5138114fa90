"""CPU seconds per stage of one video, the input of the Modal cost model in docs/deploy.md.

Runs `momentloop make` on the `bench/run.py` photos and song with one item at a time
(MOMENTLOOP_WORKERS=1), samples the CPU time of its whole process tree (ffmpeg included) every 20 ms,
and splits it by the stage the job's event log says was running at the time. Photo and music analysis
run side by side by design, so they are reported together.

    python bench/stage_cpu.py [--media ../shared/media] [--seconds 60] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import PHOTOS, make_music, stage_spans  # noqa: E402


class TreeCPU:
    """(wall time, CPU seconds so far) of a process and all its descendants, every 20 ms.

    A child that has exited is counted through its parent's `children_*` times (ffmpeg encoders are
    waited for by the Python process), a live one through its own."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _total(self) -> float:
        t = self.proc.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in self.proc.children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append((time.time(), self._total()))
            except psutil.Error:
                return
            time.sleep(0.02)

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def cpu_between(samples: list[tuple[float, float]], start: float, end: float) -> float:
    def at(t: float) -> float:
        before = [cpu for wall, cpu in samples if wall <= t]
        return before[-1] if before else 0.0

    return at(end) - at(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    photos = [args.media / "photos" / "good" / n for n in PHOTOS]
    if missing := [p.name for p in photos if not p.is_file()]:
        raise SystemExit(f"real photos missing (looked in {args.media}): {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="momentloop-stagecpu-") as tmp:
        work = Path(tmp)
        music = work / "song.wav"
        make_music(music, args.seconds)
        env = {**os.environ, "MOMENTLOOP_WORKERS": "1"}
        cli = [sys.executable, "-m", "api.cli", "--data-dir", str(work / "data"), "make", *map(str, photos),
               "--music", str(music), "--duration", str(args.seconds), "--style", "ghibli", "-o", str(work / "o.mp4")]
        proc = subprocess.Popen(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sampler = TreeCPU(proc.pid)
        _, stderr = proc.communicate()
        samples = sampler.stop()
        if proc.returncode != 0:
            raise SystemExit(f"make failed:\n{stderr[-3000:]}")
        spans = sorted(((k, *v) for k, v in stage_spans(work / "data" / "momentloop.db").items()),
                       key=lambda span: span[1])
    rows: dict[str, tuple[float, float]] = {}
    for stage, start, end in spans:
        name = "analyze (photos + music)" if stage in ("analyze_photo", "analyze_music", "music") else stage
        # Overlapping stages (analysis) are merged into one span so their CPU is not counted twice.
        if name in rows:
            s0, e0 = rows[name]
            rows[name] = (min(s0, start), max(e0, end))
        else:
            rows[name] = (start, end)
    print(f"\n{args.seconds:.0f} s 1080x1920, 12 photos, MOMENTLOOP_WORKERS=1, {os.cpu_count()} cores\n")
    print(f"{'stage':<28}{'wall s':>8}{'CPU s':>8}")
    figures = {}
    for name, (start, end) in rows.items():
        cpu = cpu_between(samples, start, end)
        figures[name] = {"wall": end - start, "cpu": cpu}
        print(f"{name:<28}{end - start:>8.1f}{cpu:>8.1f}")
    total = samples[-1][1] if samples else 0.0
    print(f"{'whole process tree':<28}{samples[-1][0] - samples[0][0]:>8.1f}{total:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps({"stages": figures, "total_cpu": total}, indent=2))


if __name__ == "__main__":
    main()
