"""GPU product benchmark: the fox capture → COLMAP poses → splatfacto → held-out PSNR → turntable render
→ VP9-alpha WebM, timed per phase, with the GPU's name. The numbers docs/benchmarks.md records for issue 6
(target: the whole turntable in < 5 min on an H100-class GPU, < 10 min on an A10G-class, PSNR ≥ 25 dB).

Needs a CUDA GPU with nerfstudio installed (modal_app.py's GPU image); elsewhere it stops with exit code 2.

    python bench/product_gpu.py [--media ../shared/media] [--method splatfacto] [--steps N]
                                [--frames 120] [--size 1080] [--json result.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    ap.add_argument("--method", default="splatfacto", choices=["splatfacto", "nerfacto"])
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: the method's preset)")
    ap.add_argument("--frames", type=int, default=120, help="turntable frames (one full turn; 120 = 4 s)")
    ap.add_argument("--size", type=int, default=1080, help="turntable width and height in pixels")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    return ap.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The product stage's own pieces (functions/product/), one after another on this GPU, timed."""
    import numpy as np
    import torch

    from functions.pipeline.ingest import ingest_photos
    from functions.product.capture import prepare_capture
    from functions.product.encode import encode_product
    from functions.product.nerf import evaluate_psnr, frame_chunks
    from functions.product.nerf_command import default_steps
    from functions.product.render import plan_render, render_nerf_frames, train_nerf
    from functions.product.stage import RENDER_CHUNK
    from functions.product.turntable import read_turntable_rgba
    from shared.models.product import ProductRequest
    from shared.store import LocalStore

    photos = sorted((args.media / "multiview" / "fox" / "images").glob("*.jpg"))
    if not photos:
        raise FileNotFoundError(f"no fox photos under {args.media}/multiview/fox/images")
    work = args.work or Path(tempfile.mkdtemp(prefix="momentloop-product-bench-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store = LocalStore(work / "artifacts")
    request = ProductRequest(photos=ingest_photos(store=store, paths=photos), frames=args.frames, fps=30,
                             width=args.size, height=args.size, renderer="nerf", method=args.method,
                             max_steps=args.steps)
    phases: dict[str, float] = {}
    started = time.monotonic()

    t = time.monotonic()
    capture = prepare_capture(request=request, store=store)
    phases["colmap+dataset"] = time.monotonic() - t
    plan = plan_render(request=request, capture=capture, renderer="nerf")

    t = time.monotonic()
    config = train_nerf(capture=capture, request=request, store=store, work_dir=work / "nerf-work")
    phases["train"] = time.monotonic() - t

    t = time.monotonic()
    for a, b in frame_chunks(total=len(plan.frame_keys), chunk=RENDER_CHUNK):  # Modal's, one after another
        render_nerf_frames(capture=capture, plan=plan, store=store, config=config, work_dir=work / "nerf-work",
                           start=a, stop=b)
    phases["render"] = time.monotonic() - t

    t = time.monotonic()
    result = encode_product(request=request, capture=capture, plan=plan, store=store)
    phases["encode"] = time.monotonic() - t
    turntable_seconds = time.monotonic() - started

    t = time.monotonic()
    psnr = evaluate_psnr(config=config)
    phases["eval"] = time.monotonic() - t

    with store.local_path(result.turntable_key) as webm:
        alpha = [float(frame[..., 3].mean()) / 255 for frame in read_turntable_rgba(webm)]
    return {
        "gpu": torch.cuda.get_device_name(0),
        "method": args.method,
        "steps": args.steps or default_steps(method=args.method),
        "photos": len(photos),
        "registered": capture.registration.registered_images,
        "frames": result.frames,
        "size": args.size,
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "capture_phases_s": capture.phase_seconds,
        "turntable_total_s": round(turntable_seconds, 2),
        "heldout_psnr_db": round(psnr, 2),
        "mean_alpha": round(float(np.mean(alpha)), 3),
        "turntable": str(store.root / result.turntable_key),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from functions.product.nerf import GpuUnavailableError, require_gpu

    try:
        require_gpu(what="the GPU product benchmark")
    except GpuUnavailableError as exc:
        sys.stderr.write(f"product_gpu: {exc} ({exc.hint})\n")
        return 2
    result = run(args)
    width = max(len(k) for k in result["phases_s"])
    lines = [f"GPU {result['gpu']}, {result['method']}, {result['registered']}/{result['photos']} photos placed"]
    lines += [f"  {k:<{width}}  {v:8.2f} s" for k, v in result["phases_s"].items()]
    lines += [f"  turntable total {result['turntable_total_s']:.1f} s, "
              f"held-out PSNR {result['heldout_psnr_db']:.2f} dB"]
    sys.stdout.write("\n".join(lines) + "\n" + json.dumps(result) + "\n")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
