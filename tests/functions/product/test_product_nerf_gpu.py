"""nerfstudio for real, on a CUDA GPU with nerfstudio installed (modal_app.py's GPU image); skipped elsewhere.

A short splatfacto run on 16 fox frames through the product stage's own pieces: the trained model renders
the orbit with the object opaque in the middle of the frame and clear corners, chunks rendered apart equal
one render, and the held-out PSNR is a finite number of dB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from functions.product.nerf import evaluate_psnr, gpu_available, render_frames
from functions.product.turntable import read_rgba_png

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not gpu_available(), reason="needs a CUDA GPU with nerfstudio (the Modal GPU image)"),
]


def test_splatfacto_trains_renders_with_alpha_and_scores_heldout_frames(media_dir: Path, tmp_path: Path) -> None:
    from functions.pipeline.ingest import ingest_photos
    from functions.product.capture import prepare_capture
    from functions.product.render import plan_render, train_nerf
    from shared.models.product import ProductRequest
    from shared.store import LocalStore

    photos = sorted((media_dir / "multiview" / "fox" / "images").glob("*.jpg"))[:32:2]
    store = LocalStore(tmp_path / "artifacts")
    request = ProductRequest(photos=ingest_photos(store=store, paths=photos), frames=8, width=256, height=256,
                             renderer="nerf", method="splatfacto", max_steps=1500)
    capture = prepare_capture(request=request, store=store)
    plan = plan_render(request=request, capture=capture, renderer="nerf")
    work = tmp_path / "work"
    config = train_nerf(capture=capture, request=request, store=store, work_dir=work)

    cameras = [np.asarray(c) for c in plan.cameras]
    whole = render_frames(config=config, cameras=cameras, intrinsics=plan.intrinsics, width=256, height=256,
                          out_dir=tmp_path / "whole", crop_centre=capture.orbit.centre,
                          crop_half_size=capture.object_radius)
    assert [p.name for p in whole] == [f"frame_{i:05d}.png" for i in range(8)]
    parts = [*render_frames(config=config, cameras=cameras[:3], intrinsics=plan.intrinsics, width=256, height=256,
                            out_dir=tmp_path / "parts", crop_centre=capture.orbit.centre,
                            crop_half_size=capture.object_radius),
             *render_frames(config=config, cameras=cameras[3:], intrinsics=plan.intrinsics, width=256, height=256,
                            out_dir=tmp_path / "parts", start_index=3, crop_centre=capture.orbit.centre,
                            crop_half_size=capture.object_radius)]
    for a, b in zip(whole, parts, strict=True):
        assert a.name == b.name
        assert np.abs(read_rgba_png(a).astype(int) - read_rgba_png(b).astype(int)).max() <= 2
    for path in whole:
        alpha = read_rgba_png(path)[..., 3].astype(float) / 255
        assert alpha[96:160, 96:160].mean() > 0.8, f"{path.name}: the object is opaque at the centre"
        corners = np.concatenate([alpha[:16, :16].ravel(), alpha[:16, -16:].ravel(),
                                  alpha[-16:, :16].ravel(), alpha[-16:, -16:].ravel()])
        assert corners.mean() < 0.5, f"{path.name}: the room around the object is cropped away"

    psnr = evaluate_psnr(config=config)
    assert np.isfinite(psnr) and psnr > 15.0
