"""`momentloop product`: photos around a product (or a video walking around it) → a 360° turntable, a VP9
WebM with alpha, and its poster, with a progress bar per phase; `--report` adds every placed photo's pose."""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Any

from api.cli_output import PhaseBars, copy_out, err, out, progress_bars
from shared.errors import InputError, OptionError

PRODUCT_PHASES = {
    "frames": "read photos",
    "poses": "place cameras (COLMAP)",
    "dataset": "dataset and orbit",
    "train": "train (GPU)",
    "render": "render turntable",
    "encode": "encode",
}


def product(args: argparse.Namespace) -> int:
    from functions.pipeline.backends import open_store
    from functions.pipeline.ingest import expand_photo_paths, ingest_file, ingest_photos
    from functions.product.encode import product_report
    from functions.product.phases import phase_percent
    from functions.product.poses import RESHOOT_HINT
    from functions.product.stage import run_product
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
    with progress_bars(err) as progress:
        result = run_product(request=request, store=store,
                             report=PhaseBars(progress, phases=PRODUCT_PHASES, to_phase_percent=phase_percent))
    with store.local_path(result.turntable_key) as clip:
        copy_out(clip, args.output)
    poster = args.output.with_name(f"{args.output.stem}-poster.png")
    with store.local_path(result.poster_key) as image:
        copy_out(image, poster)
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
