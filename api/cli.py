"""The `momentloop` command line.

Exit codes: 0 done, 2 unusable input (one line says why), 1 anything else."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.errors import InputError, MomentLoopError, OptionError
from shared.models import ProgressEvent

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

STAGE_TITLES = {
    "analyze_photo": "analyze photos",
    "music": "music",
    "analyze_music": "analyze music",
    "plan": "plan",
    "style": "style",
    "clips": "clips",
    "compose": "compose",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="momentloop", description="Turn photos into a short, beat-synced, stylized video."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (and tracebacks) to stderr")
    parser.add_argument("--data-dir", type=Path, help="artifact cache and job database (MOMENTLOOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a video from photos (and a song)")
    make.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, or folders of photos")
    _video_options(make)

    demo = sub.add_parser("demo", help="make a video from the real photos that ship with scikit-image")
    _video_options(demo)

    sub.add_parser("styles", help="list the looks, one per line")
    return parser


def _video_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.mp4", help="where to write the video")
    p.add_argument("--music", type=Path, metavar="FILE", help="a song (anything ffmpeg reads); else one is made")
    p.add_argument("--style", default="ghibli", metavar="NAME", help="the look (see `momentloop styles`)")
    p.add_argument("--aspect", default="9:16", choices=["9:16", "16:9", "1:1"], help="frame shape")
    p.add_argument("--duration", type=_seconds, metavar="SECONDS", help="length (default: about 3 s a photo)")
    p.add_argument("--fps", type=_fps, default=30, metavar="N", help="frames per second (12-60)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="variation seed (same seed, same video)")
    p.add_argument("--plan-out", type=Path, metavar="FILE.json", help="also write the scene plan as JSON")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1.0 <= value <= 600.0:
        raise argparse.ArgumentTypeError(f"duration must be between 1 and 600 seconds, got {text}")
    return value


def _fps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 12 <= value <= 60:
        raise argparse.ArgumentTypeError(f"fps must be between 12 and 60, got {text}")
    return value


def demo_photos() -> list[Path]:
    """Real photographs that ship inside the scikit-image wheel (public domain / CC0)."""
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    names = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
             "hubble_deep_field.jpg", "camera.png"]
    return [folder / n for n in names if (folder / n).is_file()]


class StageBars:
    """One progress bar per stage: the mean progress of its items, fed by the pipeline's events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}
        self.items: dict[str, dict[str, float]] = {}
        self.totals: dict[str, int] = {}

    def __call__(self, event: ProgressEvent) -> None:
        stage = event.stage
        if stage is None:
            return
        title = STAGE_TITLES.get(stage, stage)
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(title, total=100)
            self.items[stage] = {}
        if event.type == "stage" and event.status == "running":
            self.totals[stage] = event.total or 1
            self.progress.update(self.tasks[stage], description=f"{title} ({event.message})")
        elif event.type == "progress" and event.item is not None and event.percent is not None:
            self.items[stage][event.item] = event.percent
        elif event.type == "item" and event.item is not None:
            self.items[stage][event.item] = 100.0
        elif event.type == "stage" and event.status == "done":
            self.items[stage] = {"*": 100.0 * self.totals.get(stage, 1)}
        elif event.type == "log" and event.status in ("skipped", "fallback"):
            self.progress.console.print(f"[yellow]  {event.message}[/]")
        done = sum(self.items[stage].values()) / max(1, self.totals.get(stage, 1))
        self.progress.update(self.tasks[stage], completed=min(100.0, done))


def _copy_out(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".momentloop-", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _make(args: argparse.Namespace, paths: list[Path]) -> int:
    from functions.pipeline.executor import LocalExecutor
    from functions.pipeline.runner import MakeRequest, Pipeline
    from functions.style import list_looks
    from shared.jobs import SQLiteJobStore
    from shared.settings import Settings
    from shared.store import LocalStore

    looks = [look.name for look in list_looks()]
    if args.style not in looks:
        raise OptionError(f"unknown style {args.style!r} (choose from: {', '.join(looks)})")
    if args.output.suffix.lower() != ".mp4":
        raise OptionError(f"the output must be an .mp4 file, got {args.output.name}")
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    store = LocalStore(settings.artifacts_dir)
    jobs = SQLiteJobStore(settings.database_path)
    executor = LocalExecutor(store=store, workers=settings.workers)
    request = MakeRequest(photos=paths, music=args.music, look=args.style, aspect=args.aspect,
                          duration=args.duration, fps=args.fps, seed=args.seed)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal) as progress:
        pipeline = Pipeline(store=store, jobs=jobs, executor=executor, settings=settings,
                            listener=StageBars(progress))
        result = pipeline.make(request=request)
    with store.local_path(result.video.video_key) as video:
        _copy_out(video, args.output)
    if args.plan_out:
        args.plan_out.parent.mkdir(parents=True, exist_ok=True)
        args.plan_out.write_text(result.plan.model_dump_json(indent=2))
    _summary(result=result, output=args.output, seconds=time.perf_counter() - started)
    return 0


def _summary(*, result: object, output: Path, seconds: float) -> None:
    from functions.pipeline.runner import MakeResult

    assert isinstance(result, MakeResult)
    v, plan = result.video, result.plan
    table = Table(title=None, box=None, pad_edge=False)
    for col in ("stage", "items", "cached", "seconds"):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for s in result.stats:
        table.add_row(STAGE_TITLES.get(s.stage, s.stage), str(s.items), str(s.cache_hits), f"{s.seconds:.1f}")
    err.print(table)
    for r in result.rejected:
        err.print(f"[yellow]skipped {r.name}: {r.reason.removeprefix(r.name + ': ')}[/]")
    for d in plan.dropped:
        err.print(f"[dim]left out {d.photo}: {d.reason}[/]")
    out.print(
        f"{output}: {len(plan.scenes)} scenes, {v.width}x{v.height} {v.fps:g} fps, {v.duration:.2f} s, "
        f"{plan.tempo:.0f} BPM, look {plan.look}, {result.cache_hits} cache hits, {seconds:.1f} s"
    )


def _styles() -> int:
    from functions.style import list_looks

    for look in list_looks():
        out.print(f"{look.name:<12} {look.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    try:
        if args.command == "styles":
            return _styles()
        if args.command == "demo":
            photos = demo_photos()
            if not photos:
                raise InputError("scikit-image's sample photos are missing; reinstall scikit-image")
            return _make(args, photos)
        return _make(args, args.paths)
    except InputError as exc:
        err.print(f"momentloop: error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), markup=False)
        return 2
    except MomentLoopError as exc:
        if args.verbose:
            err.print_exception()
        err.print(f"momentloop: failed: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), markup=False)
        return 1
    except KeyboardInterrupt:
        err.print("momentloop: interrupted; run the same command again to resume", markup=False)
        return 130
    except Exception as exc:
        if args.verbose:
            err.print_exception()
        err.print(f"momentloop: failed: {exc.__class__.__name__}: {exc} (run with -v for details)", markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
