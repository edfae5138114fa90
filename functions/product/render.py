"""The turntable's frames: which renderer makes them (the CPU point-splat preview, or nerfstudio on a GPU),
the orbit cameras and where each frame goes (`plan_render`), and the renderers themselves, each over a range
of frames so many machines can share one turntable. The render's key hashes the capture and the turntable
settings."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import ModuleType
from typing import Literal

import cv2
import numpy as np

from functions.product.capture import load_points, materialize_dataset
from functions.product.nerf_store import StoredRun, fetch_run, store_run, stored_run
from functions.product.orbit import orbit_poses
from functions.product.splats import object_cloud, render_splats
from functions.product.texture import SourceViews
from functions.product.turntable import write_rgba_png
from shared.errors import OptionError
from shared.hashing import content_key
from shared.models.base import Frozen
from shared.models.product import Intrinsics, ProductCapture, ProductMethod, ProductRenderPlan, ProductRequest
from shared.progress import Reporter, silent
from shared.store import ArtifactStore

RENDER_VERSION = "4"
"""Bump when the rendered frames change for the same capture and settings."""
TEXTURE_MAX_SIDE = 1280
"""Photos colouring the preview are read at most this big: sharp enough for a 1080 frame of the object,
light enough to keep every photo of a 200-photo capture in memory."""
FRAME_FILL = 0.8
"""The object's sphere fills this share of the turntable's short side."""

Renderer = Literal["preview", "nerf"]


class _RenderBasis(Frozen):
    capture: str
    renderer: Renderer
    method: ProductMethod | None
    max_steps: int | None
    frames: int
    fps: int
    width: int
    height: int
    seed: int


def _nerf_module() -> ModuleType | None:
    """The GPU renderer (functions/product/nerf.py), imported late: it may be absent on CPU installs."""
    try:
        from functions.product import nerf  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None
    return nerf  # type: ignore[no-any-return, unused-ignore]


def choose_renderer(*, request: ProductRequest, gpu_elsewhere: bool = False) -> Renderer:
    """preview when asked; nerf when asked (a GPU is then required); auto: nerf only where a GPU is.
    `gpu_elsewhere`: the pieces run where GPUs are (the Modal app's GPU functions), not on this machine."""
    if request.renderer == "preview":
        return "preview"
    nerf = _nerf_module()
    has_gpu = gpu_elsewhere or bool(nerf is not None and nerf.gpu_available())
    if request.renderer == "nerf" and not has_gpu:
        raise OptionError("the nerf renderer needs a GPU with nerfstudio (pip install 'momentloop[gpu]')",
                          hint="use the CPU preview renderer (--preview), or run on Modal")
    return "nerf" if has_gpu else "preview"


def render_intrinsics(*, capture: ProductCapture, width: int, height: int) -> Intrinsics:
    """A pinhole camera whose short side holds the object (`frame_radius`), seen from the orbit, at FRAME_FILL."""
    ratio = capture.frame_radius / capture.orbit.radius
    focal = 0.5 * FRAME_FILL * min(width, height) / np.tan(np.arcsin(min(0.99, ratio)))
    return Intrinsics(fx=float(focal), fy=float(focal), cx=width / 2, cy=height / 2, width=width, height=height)


def plan_render(*, request: ProductRequest, capture: ProductCapture, renderer: Renderer) -> ProductRenderPlan:
    nerf = renderer == "nerf"
    basis = _RenderBasis(capture=capture.key, renderer=renderer, method=request.method if nerf else None,
                         max_steps=request.max_steps if nerf else None, frames=request.frames, fps=request.fps,
                         width=request.width, height=request.height, seed=request.seed)
    key = f"product/{content_key(stage='product-render', version=RENDER_VERSION, request=basis)}"
    cameras = orbit_poses(orbit=capture.orbit, count=request.frames)
    return ProductRenderPlan(
        key=key,
        renderer=renderer,
        method=request.method if nerf else None,
        cameras=[tuple(tuple(float(v) for v in row) for row in pose) for pose in cameras],
        intrinsics=render_intrinsics(capture=capture, width=request.width, height=request.height),
        frame_keys=[f"{key}/frames/{i:05d}.png" for i in range(request.frames)],
        fps=request.fps,
    )


def source_views(*, capture: ProductCapture, store: ArtifactStore, max_side: int = TEXTURE_MAX_SIDE) -> SourceViews:
    """The capture's registered photos (from its dataset), for colouring the preview."""
    images = [f for f in capture.dataset_files if f != "transforms.json"]
    if len(images) != len(capture.cameras):
        raise ValueError(f"{len(images)} dataset images for {len(capture.cameras)} cameras")

    def load(index: int) -> np.ndarray:
        with store.local_path(f"{capture.dataset_key}/{images[index]}") as path:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"dataset image {images[index]} does not decode")
        scale = min(1.0, max_side / max(bgr.shape[:2]))
        if scale < 1.0:
            bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    return SourceViews(cam_to_world=[np.asarray(c.cam_to_world) for c in capture.cameras],
                       intrinsics=[c.intrinsics for c in capture.cameras], load=load,
                       centre=np.asarray(capture.orbit.centre))


def render_preview_frames(*, capture: ProductCapture, plan: ProductRenderPlan, store: ArtifactStore, start: int = 0,
                          stop: int | None = None, report: Reporter = silent) -> list[str]:
    """Render frames [start, stop) with the CPU splat renderer into their keys (frames already there are
    kept: a killed render resumes). Returns their keys."""
    stop = len(plan.frame_keys) if stop is None else stop
    xyz, rgb, seen_by = load_points(capture=capture, store=store)
    cloud = object_cloud(points=xyz, colors=rgb, seen_by=seen_by, centre=np.asarray(capture.orbit.centre),
                         crop_radius=capture.object_radius)
    views = source_views(capture=capture, store=store)
    report(percent=0.0, message=f"{len(cloud)} points as splats, coloured from {len(capture.cameras)} photos, "
                                f"frames {start}-{stop - 1}")
    keys = []
    for i in range(start, stop):
        key = plan.frame_keys[i]
        if not store.exists(key):
            frame = render_splats(cloud=cloud, cam_to_world=np.asarray(plan.cameras[i]), intrinsics=plan.intrinsics,
                                  texture=views)
            with store.write_path(key, suffix=".png") as tmp:
                write_rgba_png(frame=frame, dest=tmp)
        keys.append(key)
        report(percent=100.0 * (i + 1 - start) / max(1, stop - start), message=f"frame {i + 1}/{len(plan.frame_keys)}")
    return keys


def _gpu_nerf(*, what: str) -> ModuleType:
    """nerf.py, on a machine whose GPU can run it; why not, otherwise."""
    nerf = _nerf_module()
    if nerf is None:
        raise OptionError("the nerf renderer is not installed here", hint="use the CPU preview renderer (--preview)")
    if not nerf.gpu_available():
        raise nerf.GpuUnavailableError(what)
    return nerf


def nerf_work_dir(*, plan: ProductRenderPlan) -> Path:
    """The same folder on every machine: nerfstudio records the dataset's path in the run's config.yml, so
    the machines training and rendering a turntable put its dataset at one place."""
    return Path(tempfile.gettempdir()) / "momentloop-nerf" / plan.key.replace("/", "_")


def _nerf_dataset(nerf: ModuleType, *, capture: ProductCapture, store: ArtifactStore, dest: Path,
                  downscaled: bool = False) -> Path:
    """The capture's nerfstudio dataset out of the store into `dest`, with the sparse points splatfacto starts
    its Gaussians from (else from a random cube, needing far more steps); `downscaled`: with the images_{n}/
    copies training made, for a renderer on another machine. Returns `dest`."""
    dataset = materialize_dataset(capture=capture, store=store, dest=dest)
    xyz, rgb, _ = load_points(capture=capture, store=store)
    nerf.write_seed_points(dataset_dir=dataset, points_xyz=xyz, points_rgb=rgb)
    if downscaled:
        nerf.write_downscaled(dataset_dir=dataset)
    return dataset


def train_nerf(*, capture: ProductCapture, request: ProductRequest, store: ArtifactStore, work_dir: Path,
               report: Reporter = silent) -> Path:
    """Train nerfstudio (`request.method`) on the capture's dataset in `work_dir`; return its config.yml."""
    nerf = _gpu_nerf(what="training the product model")
    dataset = _nerf_dataset(nerf, capture=capture, store=store, dest=work_dir / "dataset")
    config: Path = nerf.train(dataset_dir=dataset, output_dir=work_dir / "nerf", method=request.method,
                              max_steps=request.max_steps, report=report)
    return config


def train_stored_run(*, capture: ProductCapture, request: ProductRequest, plan: ProductRenderPlan,
                     store: ArtifactStore, report: Reporter = silent) -> StoredRun:
    """The turntable's trained run, put in the store for the machines rendering its frames; a run stored
    before is reused (a retried or resumed job trains once)."""
    key = f"{plan.key}/nerf"
    run = stored_run(store=store, key=key)
    if run is None:
        config = train_nerf(capture=capture, request=request, store=store, work_dir=nerf_work_dir(plan=plan),
                            report=report)
        run = store_run(config=config, method=request.method, store=store, key=key)
    return run


def render_stored_run(*, capture: ProductCapture, plan: ProductRenderPlan, store: ArtifactStore, run: StoredRun,
                      start: int, stop: int, report: Reporter = silent) -> list[str]:
    """Frames [start, stop) with the stored run, on this machine's GPU: its dataset (kept by a warm machine)
    and the run fetched from the store first."""
    nerf = _gpu_nerf(what="rendering the turntable")
    work = nerf_work_dir(plan=plan)
    if not (work / "dataset" / "transforms.json").is_file():
        _nerf_dataset(nerf, capture=capture, store=store, dest=work / "dataset", downscaled=True)
    config = fetch_run(run=run, store=store, dest=work / "nerf")
    return render_nerf_frames(capture=capture, plan=plan, store=store, config=config, work_dir=work, start=start,
                              stop=stop, report=report)


def render_nerf_frames(*, capture: ProductCapture, plan: ProductRenderPlan, store: ArtifactStore, config: Path,
                       work_dir: Path, start: int = 0, stop: int | None = None,
                       report: Reporter = silent) -> list[str]:
    """Render frames [start, stop) with the trained model (`config`) and put them at their keys. Only the
    object's neighbourhood is rendered (the room around it stays transparent)."""
    nerf = _gpu_nerf(what="rendering the turntable")
    stop = len(plan.frame_keys) if stop is None else stop
    out_dir = work_dir / f"frames-{start:05d}"
    paths: list[Path] = nerf.render_frames(
        config=config, cameras=[np.asarray(c) for c in plan.cameras[start:stop]], intrinsics=plan.intrinsics,
        width=plan.intrinsics.width, height=plan.intrinsics.height, out_dir=out_dir, start_index=start,
        report=report, crop_centre=capture.orbit.centre, crop_half_size=capture.object_radius,
    )
    if len(paths) != stop - start:
        raise RuntimeError(f"the nerf renderer returned {len(paths)} frames for {stop - start} cameras")
    keys = plan.frame_keys[start:stop]
    for key, path in zip(keys, paths, strict=True):
        store.put_file(key, path)
    return keys

