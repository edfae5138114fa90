"""End-to-end benchmark: 12 real photos + 60 s of music → a 60 s 1080×1920 30 fps video.

Measured side by side in one run on this machine:
  (a) floor    one libx264 encode of 60 s of 1080×1920 raw frames at the final video's settings
  (b) ours     `momentloop make`, cold artifact cache, end to end (decode → … → final MP4)
  (c) moviepy  MoviePy 2.x composing the same clips, crossfades and music, same encoder settings
and peak RSS of (b) (the whole process tree, ffmpeg included).

    python bench/run.py [--media ../shared/media] [--seconds 60] [--skip-moviepy]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.media import h264  # noqa: E402
from shared.media.ffmpeg import ffmpeg_exe  # noqa: E402
from shared.models.render import FinalEncoding  # noqa: E402
from shared.settings import Settings  # noqa: E402

PHOTOS = [
    "astronaut.png", "berlin_cathedral.jpg", "canon_lamp_orient6.jpg", "chelsea_cat.png", "coffee.png",
    "fox_parade.jpg", "hato_pigeon.jpg", "iphone13_kitchen.heic", "kimono_portrait.jpg",
    "nokia_harbour_wide.jpg", "nokia_sunset_street.heif", "waterfall_landscape_orient6.jpg",
]


class PeakRSS:
    """Samples the RSS of a process and all its children (ffmpeg included) every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):  # a child may exit between listing and reading
                        total += p.memory_info().rss
                self.peak = max(self.peak, total)
            except psutil.Error:
                return
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = PeakRSS(proc.pid)
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    peak = rss.stop()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd[:6])}…\n{stderr[-3000:]}")
    return seconds, peak


def make_music(dest: Path, seconds: float) -> None:
    """A real-sounding song for the run: our generator's track, given to `make` as a user file, so that the
    run pays for beat tracking like any user song."""
    from functions.music import run_music
    from shared.models.media import MusicRequest
    from shared.store import LocalStore

    store = LocalStore(dest.parent / "music-store")
    track = run_music(request=MusicRequest(duration=seconds + 6, seed=7), store=store)
    with store.local_path(track.audio_key) as wav:
        shutil.copyfile(wav, dest)


def final_encoding(settings: Settings) -> FinalEncoding:
    return FinalEncoding(preset=settings.output_preset, crf=settings.output_crf)


def floor_encode(*, video: Path, work: Path, settings: Settings, fps: int) -> float:
    """(a): decode our output to raw frames on disk (not timed), then time one libx264 encode of them."""
    raw = work / "frames.yuv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                    "-y", str(raw)], check=True)
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "1080x1920",
           "-r", str(fps), "-i", str(raw), *h264.encoder_args(encoding=final_encoding(settings), fps=fps),
           "-movflags", "+faststart", "-y", str(work / "floor.mp4")]
    seconds, _ = timed(cmd)
    raw.unlink()
    return seconds


def moviepy_compose(*, plan: dict, clips: list[list[Path]], music: Path, out: Path, settings: Settings) -> float:
    """(c): the same clips, crossfades and music, composed the way MoviePy 2.x projects do it. A clip our
    renderer wrote in parts (head, body, tail) is given to MoviePy as its parts, concatenated."""
    # MoviePy names the codec and preset itself; every other option is the final video's own.
    fps = int(plan["output"]["fps"])
    options = h264.encoder_options(encoding=final_encoding(settings), fps=fps)
    moviepy_params = [a for name, value in options.items() if name not in ("vcodec", "preset")
                      for a in (f"-{name}", str(value))]
    script = f"""
import json, sys
from moviepy import AudioFileClip, CompositeVideoClip, VideoFileClip, afx, concatenate_videoclips, vfx
plan = json.loads({json.dumps(json.dumps(plan))})
paths = {json.dumps([[str(p) for p in parts] for parts in clips])}
layers, t = [], 0.0
for i, (scene, parts) in enumerate(zip(plan["scenes"], paths)):
    pieces = [VideoFileClip(p) for p in parts]
    clip = pieces[0] if len(pieces) == 1 else concatenate_videoclips(pieces)
    fade = scene["transition_seconds"] if scene["transition_in"] == "crossfade" else 0.0
    start = scene["start"] - fade / 2
    if fade:
        clip = clip.with_effects([vfx.CrossFadeIn(fade)])
    layers.append(clip.with_start(start))
duration = plan["output"]["duration"]
video = CompositeVideoClip(layers, size=(plan["output"]["width"], plan["output"]["height"])).with_duration(duration)
audio = AudioFileClip({str(music)!r}).subclipped(plan["music_offset"], plan["music_offset"] + duration)
audio = audio.with_effects([afx.AudioFadeOut(plan["fade_out"])])
video = video.with_audio(audio)
video.write_videofile({str(out)!r}, fps=plan["output"]["fps"], codec="libx264", preset={settings.output_preset!r},
                      ffmpeg_params={moviepy_params!r},
                      audio_codec="aac", audio_fps=48000, threads=os.cpu_count(), logger=None)
""".replace("threads=os.cpu_count()", f"threads={os.cpu_count()}")
    seconds, _ = timed([sys.executable, "-c", script])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    photos = [args.media / "photos" / "good" / n for n in PHOTOS]
    missing = [p for p in photos if not p.is_file()]
    if missing:
        raise SystemExit(f"real photos missing (looked in {args.media}): {', '.join(p.name for p in missing)}")

    settings = Settings()
    with tempfile.TemporaryDirectory(prefix="momentloop-bench-") as tmp:
        work = Path(tmp)
        music = work / "song.wav"
        make_music(music, args.seconds)
        cli = [sys.executable, "-m", "api.cli"]
        # Warm-up in a separate cache: pays one-off costs a user pays once per install (numba's JIT cache
        # for librosa, the OS file cache), so (b) measures a video, not an installation.
        timed([*cli, "--data-dir", str(work / "warm"), "make", str(photos[0]), str(photos[1]), "--duration", "4",
               "-o", str(work / "warm.mp4")])
        out = work / "ours.mp4"
        ours, peak = timed([*cli, "--data-dir", str(work / "data"), "make", *map(str, photos), "--music", str(music),
                            "--duration", str(args.seconds), "--aspect", "9:16", "--style", "ghibli",
                            "--plan-out", str(work / "plan.json"), "-o", str(out)])
        plan = json.loads((work / "plan.json").read_text())
        events = stage_seconds(work / "data" / "momentloop.db")
        floor = floor_encode(video=out, work=work, settings=settings, fps=int(plan["output"]["fps"]))
        clips = order_clips(work / "data" / "momentloop.db", work / "data" / "artifacts")
        mp = None
        if not args.skip_moviepy:
            mp = moviepy_compose(plan=plan, clips=clips, music=music, out=work / "moviepy.mp4",
                                 settings=settings)

    compose = events.get("compose", float("nan"))
    rows = [
        ("(a) floor: one libx264 encode of the raw frames", floor, 1.0),
        ("(b) ours: momentloop make, end to end, cold cache", ours, ours / floor),
        ("    of which compose (bodies copied, crossfades encoded)", compose, compose / floor),
    ]
    if mp is not None:
        rows.append(("(c) MoviePy 2.x: the same compose", mp, mp / floor))
    print(f"\n{args.seconds:.0f} s 1080x1920 30 fps, 12 photos, preset {settings.output_preset} crf "
          f"{settings.output_crf}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores\n")
    print(f"{'':<54}{'seconds':>9}{'x floor':>9}")
    for name, sec, ratio in rows:
        print(f"{name:<54}{sec:>9.1f}{ratio:>9.2f}")
    print(f"\nours / floor            {ours / floor:6.2f}   (target <= 1.5)")
    if mp is not None:
        print(f"MoviePy / our compose   {mp / compose:6.2f}   (target >= 5)")
    print(f"peak RSS of ours        {peak / 2**30:6.2f} GiB (target < 1.5)")
    print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in events.items()))
    if args.json:
        args.json.write_text(json.dumps({"floor": floor, "ours": ours, "compose": compose, "moviepy": mp,
                                         "peak_rss": peak, "stages": events}, indent=2))


def stage_spans(db: Path) -> dict[str, tuple[float, float]]:
    """(first, last) stage event of each stage, POSIX seconds, from the newest job's own event log."""
    from shared.db.jobs import SQLJobStore

    with SQLJobStore(db) as store:
        newest = store.list_jobs()[-1]
        events = store.events(newest.id)
    times: dict[str, list[float]] = {}
    for e in events:
        if e.type == "stage" and e.stage:
            times.setdefault(e.stage, []).append(e.ts.timestamp())
    return {k: (min(v), max(v)) for k, v in times.items()}


def stage_seconds(db: Path) -> dict[str, float]:
    """Wall time per stage (first 'running' to last 'done' event)."""
    return {k: end - start for k, (start, end) in stage_spans(db).items()}


def order_clips(db: Path, artifacts: Path) -> list[list[Path]]:
    """Each clip's files (head, body, tail) in scene order, as the job recorded them."""
    from shared.db.jobs import SQLJobStore

    with SQLJobStore(db) as store:
        result = store.list_jobs()[-1].result or {}
    return [[artifacts / key for key in parts] for parts in result["clip_parts"]]


if __name__ == "__main__":
    main()
