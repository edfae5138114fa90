"""`momentloop make` (and `demo`): photos and a song → the video, with a progress bar per stage; or, with
`--dry-run`, the storyboard and what the cloud providers would cost, spending nothing."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.table import Table

from api.cli_output import STAGE_TITLES, StageBars, copy_out, err, out, progress_bars
from shared.errors import InputError, OptionError


def _provider_overrides(args: argparse.Namespace) -> dict[str, object]:
    """Settings given on the command line (they win over MOMENTLOOP_* variables)."""
    chosen = {"style_provider": args.style_provider, "plan_provider": args.plan_provider,
              "clip_provider": args.clip_provider, "music_provider": args.music_provider,
              "budget_usd": args.budget}
    return {k: v for k, v in chosen.items() if v is not None}


def make(args: argparse.Namespace, paths: list[Path]) -> int:
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
    with progress_bars(err) as progress:
        pipeline = Pipeline(store=store, jobs=jobs, executor=executor, settings=settings,
                            listener=StageBars(progress), ledger=ledger)
        try:
            result = pipeline.make(request=request)
        finally:
            if ledger.spent > 0:
                err.print(f"spent ${ledger.spent:.4f} on cloud providers"
                          + (f" (budget ${ledger.budget:.2f})" if ledger.budget is not None else ""), markup=False)
    with store.local_path(result.video.video_key) as video:
        copy_out(video, args.output)
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
