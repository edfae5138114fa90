"""The `momentloop` command line.

Exit codes: 0 done, 2 unusable input (one line says why), 1 anything else."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.dependencies import missing_dependency
from shared.errors import InputError, MomentLoopError, OptionError
from shared.models.jobs import ProgressEvent

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


class _Parser(argparse.ArgumentParser):
    """A bad option is one line (and exit code 2), like every other error; the usage is a --help away.
    Subcommands' parsers are made of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="momentloop", description="Turn photos into a short, beat-synced, stylized video.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (and tracebacks) to stderr")
    parser.add_argument("--data-dir", type=Path, help="artifact cache and job database (MOMENTLOOP_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)

    make = sub.add_parser("make", help="make a video from photos (and a song)")
    make.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, or folders of photos")
    _video_options(make)
    make.add_argument("--product", type=Path, metavar="FILE", help="a product turntable (a WebM made by "
                      "`momentloop product`) shown as one scene, timed to the music")
    make.add_argument("--product-background", type=Path, metavar="PHOTO", help="the photo behind the product "
                      "(default: the calmest of the photos)")

    product = sub.add_parser("product", help="a 360° turntable (WebM with alpha) of a product, from photos "
                             "around it or a video walking around it")
    _product_options(product)

    demo = sub.add_parser("demo", help="make a video from the real photos that ship with scikit-image")
    _video_options(demo)

    sub.add_parser("styles", help="list the looks, one per line")

    serve = sub.add_parser("serve", help="serve the web app: the API, live progress and the web UI")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")

    users = sub.add_parser("users", help="who may sign in to the web app")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; prints their token on the last line (shown once)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")
    listing = users_sub.add_parser("list", help="list the users")
    listing.add_argument("--data", type=Path, metavar="DIR", help="data folder (same as --data-dir)")
    return parser


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {text}")
    return value


def _video_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.mp4", help="where to write the video")
    p.add_argument("--music", type=Path, metavar="FILE", help="a song (anything ffmpeg reads); else one is made")
    p.add_argument("--style", default="ghibli", metavar="NAME",
                   help="the look (see `momentloop styles`; default %(default)s)")
    p.add_argument("--aspect", default="9:16", choices=["9:16", "16:9", "1:1"],
                   help="frame shape (default %(default)s)")
    p.add_argument("--duration", type=_seconds, metavar="SECONDS", help="length (default: about 3 s a photo)")
    p.add_argument("--fps", type=_fps, default=30, metavar="N", help="frames per second, 12-60 (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="variation seed (same seed, same video; default %(default)s)")
    p.add_argument("--plan-out", type=Path, metavar="FILE.json", help="also write the scene plan as JSON")
    cloud = p.add_argument_group("cloud providers (a comma-separated list is a fallback chain, e.g. kling,veo,local)")
    cloud.add_argument("--style-provider", metavar="NAME", help="local, gemini, openai, replicate[:MODEL] "
                       "(MOMENTLOOP_STYLE_PROVIDER)")
    cloud.add_argument("--plan-provider", metavar="NAME", help="local, gemini, openai (MOMENTLOOP_PLAN_PROVIDER)")
    cloud.add_argument("--clip-provider", metavar="NAME[:MODEL]", help="local, kling, seedance, veo, sora (OpenAI "
                       "announced its shutdown for 2026-09-24), replicate[:MODEL], gemini, openai "
                       "(MOMENTLOOP_CLIP_PROVIDER)")
    cloud.add_argument("--music-provider", metavar="NAME", help="local, replicate (MusicGen) for a generated song "
                       "(MOMENTLOOP_MUSIC_PROVIDER)")
    cloud.add_argument("--budget", type=_usd, metavar="USD", help="stop the job before it spends more than this "
                       "on cloud providers (MOMENTLOOP_BUDGET_USD)")
    cloud.add_argument("--dry-run", action="store_true", help="print the plan and the estimated cost per stage; "
                       "spend nothing, render nothing")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 1.0 <= value <= 600.0:
        raise argparse.ArgumentTypeError(f"duration must be between 1 and 600 seconds, got {text}")
    return value


def _usd(text: str) -> float:
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an amount of US dollars: {text!r}") from None
    if not 0 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"a budget is 0 to 100000 US dollars, got {text}")
    return value


def _provider_overrides(args: argparse.Namespace) -> dict[str, object]:
    """Settings given on the command line (they win over MOMENTLOOP_* variables)."""
    chosen = {"style_provider": args.style_provider, "plan_provider": args.plan_provider,
              "clip_provider": args.clip_provider, "music_provider": args.music_provider,
              "budget_usd": args.budget}
    return {k: v for k, v in chosen.items() if v is not None}


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
            if event.message and self.totals.get(stage, 1) == 1:
                # A one-item stage (analyze music, plan, compose) says what it is doing: a bar at 0 % for
                # a minute (librosa compiling on the first run) would otherwise look frozen.
                self.progress.update(self.tasks[stage], description=f"{title} ({escape(event.message)})")
        elif event.type == "item" and event.item is not None:
            self.items[stage][event.item] = 100.0
        elif event.type == "stage" and event.status == "done":
            self.items[stage] = {"*": 100.0 * self.totals.get(stage, 1)}
        elif event.type == "log" and event.status in ("skipped", "fallback", "note"):
            self.progress.console.print(f"[yellow]  {event.message}[/]")
        done = sum(self.items[stage].values()) / max(1, self.totals.get(stage, 1))
        self.progress.update(self.tasks[stage], completed=min(100.0, done))


def _copy_out(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".momentloop-", suffix=dest.suffix, dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        # mkstemp makes the file private (0600); the user's video gets the permissions any new file of
        # theirs would (0644 under the usual umask), so it can be shared or served.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _make(args: argparse.Namespace, paths: list[Path]) -> int:
    from functions.pipeline.backends import make_executor, open_job_store, open_store
    from functions.pipeline.runner import MakeRequest, Pipeline
    from functions.style import list_looks
    from shared.settings import Settings

    looks = [look.name for look in list_looks()]
    if args.style not in looks:
        raise OptionError(f"unknown style {args.style!r} (choose from: {', '.join(looks)})")
    if args.output.suffix.lower() != ".mp4":
        raise OptionError(f"the output must be an .mp4 file, got {args.output.name}")
    from functions.pipeline.cost.ledger import JobLedger
    from functions.pipeline.preflight import check_providers, executor_limits

    given: dict[str, Any] = {**({"data_dir": args.data_dir} if args.data_dir else {}), **_provider_overrides(args)}
    settings = Settings(**given)
    # Unknown providers and missing keys are reported now, in one line, not minutes into the job.
    for warning in check_providers(settings=settings, generate_music=args.music is None, strict=not args.dry_run):
        err.print(f"[yellow]warning: {warning}[/]")
    # The stores and executor MOMENTLOOP_STORE / MOMENTLOOP_DATABASE_URL / MOMENTLOOP_EXECUTOR name.
    store = open_store(settings=settings)
    jobs = open_job_store(settings=settings)
    workers, limits = executor_limits(settings)
    executor = make_executor(settings=settings, store=store, workers=workers, limits=limits)
    product, backdrop = getattr(args, "product", None), getattr(args, "product_background", None)
    if backdrop is not None and product is None:
        raise OptionError("--product-background needs --product")
    if product is not None:
        from functions.clips.product_scene import probe_turntable

        if not product.is_file():
            raise InputError(f"{product}: no such turntable file")
        probe_turntable(product)  # one line on why it cannot be used, before any work starts
    request = MakeRequest(photos=paths, music=args.music, look=args.style, aspect=args.aspect,
                          duration=args.duration, fps=args.fps, seed=args.seed, product=product,
                          product_background=backdrop)
    if args.dry_run:
        return _dry_run(args=args, request=request, settings=settings, store=store, jobs=jobs, executor=executor)
    ledger = JobLedger(settings=settings, store=store, seed=args.seed)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal) as progress:
        pipeline = Pipeline(store=store, jobs=jobs, executor=executor, settings=settings,
                            listener=StageBars(progress), ledger=ledger)
        try:
            result = pipeline.make(request=request)
        finally:
            if ledger.spent > 0:
                err.print(f"spent ${ledger.spent:.4f} on cloud providers"
                          + (f" (budget ${ledger.budget:.2f})" if ledger.budget is not None else ""), markup=False)
    with store.local_path(result.video.video_key) as video:
        _copy_out(video, args.output)
    if args.plan_out:
        args.plan_out.parent.mkdir(parents=True, exist_ok=True)
        args.plan_out.write_text(result.plan.model_dump_json(indent=2))
    _summary(result=result, output=args.output, seconds=time.perf_counter() - started)
    return 0


def _dry_run(*, args: argparse.Namespace, request: object, settings: object, store: object, jobs: object,
             executor: object) -> int:
    from functions.pipeline.cost.dry_run import dry_run
    from functions.pipeline.cost.ledger import usd

    report = dry_run(request=request, settings=settings, store=store, jobs=jobs, executor=executor)  # type: ignore[arg-type]
    plan = report.plan
    scenes = Table(title=f"plan: {len(plan.scenes)} scenes, {plan.output.duration:.2f} s at {plan.tempo:.0f} BPM, "
                         f"look {plan.look}", box=None, pad_edge=False, title_justify="left")
    for col in ("#", "photo", "start", "end", "beats", "move", "in"):
        scenes.add_column(col, justify="left" if col in ("photo", "move", "in") else "right")
    for sc in plan.scenes:
        scenes.add_row(str(sc.index + 1), sc.photo, f"{sc.start:.2f}", f"{sc.end:.2f}", str(sc.beats), sc.move.value,
                       sc.transition_in.value)
    out.print(scenes)
    for d in plan.dropped:
        out.print(f"[dim]left out {d.photo}: {d.reason}[/]")
    costs = Table(title="estimated cost (nothing was spent)", box=None, pad_edge=False, title_justify="left")
    for col in ("stage", "provider", "items", "estimate", "at most", "detail"):
        costs.add_column(col, justify="right" if col in ("items", "estimate", "at most") else "left")
    for line in report.estimate.lines:
        costs.add_row(line.stage, line.provider, str(line.items), usd(line.expected), usd(line.worst), line.detail)
    costs.add_row("total", "", "", usd(report.estimate.expected), usd(report.estimate.worst), "")
    out.print(costs)
    for note in report.notes:
        out.print(f"[dim]note: {note}[/]")
    if args.budget is not None:
        e = report.estimate
        if e.worst <= args.budget:
            verdict = "the estimate fits, even at its most"
        elif e.expected <= args.budget:
            verdict = f"the estimate fits, but at most ({usd(e.worst)}) it would not; the job stops before passing it"
        else:
            verdict = f"the estimate ({usd(e.expected)}) is over it; the job would stop before spending past it"
        out.print(f"budget ${args.budget:.2f}: {verdict}")
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
    spend = f", spent ${result.spend_usd:.4f}" if result.spend_usd else ""
    out.print(
        f"{output}: {len(plan.scenes)} scenes, {v.width}x{v.height} {v.fps:g} fps, {v.duration:.2f} s, "
        f"{plan.tempo:.0f} BPM, look {plan.look}, {result.cache_hits} cache hits, {seconds:.1f} s{spend}"
    )


def _product_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="photos, a folder of photos, or one video")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.webm",
                   help="where to write the turntable (VP9 WebM with alpha); its poster goes beside it")
    p.add_argument("--preview", action="store_true", help="use the CPU point-splat preview renderer even on a GPU")
    p.add_argument("--report", type=Path, metavar="FILE.json",
                   help="write the registration figures and every registered photo's pose and intrinsics")
    p.add_argument("--frames", type=_turn_frames, default=120, metavar="N", help="frames of the full turn "
                   "(default 120: 4 s at 30 fps)")
    p.add_argument("--fps", type=_fps, default=30, metavar="N", help="frames per second (12-60)")
    p.add_argument("--size", type=_turn_size, default=(1080, 1080), metavar="WxH",
                   help="turntable size, even numbers (default 1080x1080; one number: a square)")
    p.add_argument("--method", default="splatfacto", choices=["splatfacto", "nerfacto"],
                   help="nerfstudio method when a GPU renders (default splatfacto)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="variation seed")


def _turn_frames(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 2 <= value <= 1440:
        raise argparse.ArgumentTypeError(f"frames must be between 2 and 1440, got {text}")
    return value


def _turn_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        width, height = (int(parts[0]), int(parts[-1])) if len(parts) <= 2 else (0, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size like 1080x1080: {text!r}") from None
    if not (64 <= width <= 4096 and 64 <= height <= 4096) or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"a size is two even numbers from 64 to 4096, got {text}")
    return width, height


class PhaseBars:
    """One progress bar per phase of a stage whose messages read "<phase>: <what>" (the product stage)."""

    def __init__(self, progress: Progress, *, phases: dict[str, str], to_phase_percent: Any) -> None:
        self.progress = progress
        self.phases = phases
        self.to_phase_percent = to_phase_percent
        self.tasks: dict[str, TaskID] = {}
        self.current: str | None = None

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        phase, _, detail = message.partition(": ")
        if phase not in self.phases:
            return
        if self.current is not None and self.current != phase:
            self.progress.update(self.tasks[self.current], completed=100)
        self.current = phase
        title = self.phases[phase]
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(title, total=100)
        update: dict[str, Any] = {"description": f"{title} ({detail})" if detail else title}
        if percent is not None:
            update["completed"] = self.to_phase_percent(phase=phase, percent=percent)
        self.progress.update(self.tasks[phase], **update)


PRODUCT_PHASES = {
    "frames": "read photos",
    "poses": "place cameras (COLMAP)",
    "dataset": "dataset and orbit",
    "train": "train (GPU)",
    "render": "render turntable",
    "encode": "encode",
}


def _product(args: argparse.Namespace) -> int:
    from functions.pipeline.backends import open_store
    from functions.pipeline.ingest import expand_photo_paths, ingest_file, ingest_photos
    from functions.product.poses import RESHOOT_HINT
    from functions.product.stage import phase_percent, product_report, run_product
    from functions.product.video import VIDEO_SUFFIXES
    from shared.models.media import PhotoSource
    from shared.models.product import ProductRequest
    from shared.settings import Settings

    if args.output.suffix.lower() != ".webm":
        raise OptionError(f"the output must be a .webm file (VP9 with alpha), got {args.output.name}")
    videos = [p for p in args.paths if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    if videos and len(args.paths) > 1:
        raise OptionError("give either one video or photos, not both")
    if not args.verbose:
        with contextlib.suppress(ImportError):
            import pycolmap

            # COLMAP's own log lines (even its errors, which come back as our one-line reason) would bury the bars
            pycolmap.logging.minloglevel = 3
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    store = open_store(settings=settings)
    width, height = args.size
    common: dict[str, Any] = {"frames": args.frames, "fps": args.fps, "width": width, "height": height,
                              "renderer": "preview" if args.preview else "auto", "method": args.method,
                              "seed": args.seed}
    if videos:
        video = PhotoSource(key=ingest_file(store=store, path=videos[0]), name=videos[0].name, index=0)
        request = ProductRequest(video=video, **common)
    else:
        photos = expand_photo_paths(args.paths)
        if len(photos) < 3:
            raise InputError(f"only {len(photos)} photo(s) given; a turntable needs 20 or more around the object",
                             hint=RESHOOT_HINT)
        request = ProductRequest(photos=ingest_photos(store=store, paths=photos), **common)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, transient=False, disable=not err.is_terminal) as progress:
        result = run_product(request=request, store=store,
                             report=PhaseBars(progress, phases=PRODUCT_PHASES, to_phase_percent=phase_percent))
    with store.local_path(result.turntable_key) as clip:
        _copy_out(clip, args.output)
    poster = args.output.with_name(f"{args.output.stem}-poster.png")
    with store.local_path(result.poster_key) as image:
        _copy_out(image, poster)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        document = product_report(result=result, turntable=args.output, poster=poster)
        args.report.write_text(json.dumps(document, indent=1))
    for r in result.rejected:
        err.print(f"[yellow]skipped {r.name}: {r.reason.removeprefix(r.name + ': ')}[/]")
    reg = result.registration
    quality = "PREVIEW quality (CPU point splats)" if result.preview else f"{result.method} on GPU"
    out.print(
        f"{args.output}: {result.frames} frames {result.width}x{result.height} {result.fps} fps with alpha, "
        f"{quality}; {reg.registered_images}/{reg.total_images} photos placed, {reg.points} points, "
        f"reprojection {reg.mean_reprojection_error_px:.2f} px; {time.perf_counter() - started:.1f} s",
        markup=False,
    )
    return 0


def _styles() -> int:
    from functions.style import list_looks

    for look in list_looks():
        out.print(f"{look.name:<12} {look.description}")
    return 0


def _data_dir(args: argparse.Namespace) -> dict[str, Path]:
    data = getattr(args, "data", None) or args.data_dir
    return {"data_dir": data} if data else {}


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.settings import ServerSettings

    settings = ServerSettings(**_data_dir(args))  # type: ignore[arg-type]
    if not (settings.web_dir / "index.html").is_file():
        raise OptionError(f"the web UI is not at {settings.web_dir}",
                          hint="reinstall MomentLoop, or point MOMENTLOOP_WEB_DIR at its web/ folder")
    app = create_app(settings=settings)
    # Everything imported so far lives as long as the process: keep it out of the collector's scans, and
    # make full collections rare. With a thousand event streams open, a full collection costs ~100 ms
    # during which no event goes out (measured with bench/sse_fanout.py: it set the p99 latency).
    gc.freeze()
    gc.set_threshold(700, 10, 100)
    err.print(f"MomentLoop on http://{args.host}:{args.port} (data in {settings.data_dir}); Ctrl-C stops it",
              markup=False)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info" if args.verbose else "warning",
                access_log=args.verbose, timeout_graceful_shutdown=5)
    return 0


def _users(args: argparse.Namespace) -> int:
    from functions.pipeline.backends import open_project_store
    from shared.projects import ConflictError
    from shared.settings import Settings

    settings = Settings(**_data_dir(args))  # type: ignore[arg-type]
    store = open_project_store(settings=settings)
    if args.users_command == "list":
        for user in store.list_users():
            out.print(f"{user.name}\t{user.created_at:%Y-%m-%d %H:%M}", markup=False)
        return 0
    try:
        user, token = store.add_user(name=args.name)
    except ConflictError as exc:
        raise OptionError(str(exc)) from None
    err.print(f"added {user.name}; their token (shown once, keep it secret) is on the next line", markup=False)
    out.print(token, markup=False)
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
        if args.command == "serve":
            return _serve(args)
        if args.command == "users":
            return _users(args)
        if args.command == "product":
            return _product(args)
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
        missing = missing_dependency(exc)  # a package to install, said as such
        if missing is not None:
            err.print(f"momentloop: failed: {missing} (hint: {missing.hint})", markup=False)
            return 1
        err.print(f"momentloop: failed: {exc.__class__.__name__}: {exc} (run with -v for details)", markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
