"""A capture the test renders itself: known cameras circling a textured box on a textured floor."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.product.orbit import look_at
from functions.product.poses import estimate_poses

pytest.importorskip("pycolmap", reason="pycolmap is not installed (pip install pycolmap)")

W, H, F = 480, 360, 400.0
K = np.array([[F, 0, W / 2], [0, F, H / 2], [0, 0, 1.0]])


def texture(seed: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, 3), np.float32)
    for sigma in (1.5, 4.0, 10.0):  # blobs at several scales: plenty of SIFT corners
        noise = rng.normal(size=(size, size, 3)).astype(np.float32)
        img += cv2.GaussianBlur(noise, (0, 0), sigma) * sigma
    img = (img - img.min()) / (img.max() - img.min())
    return (img * 255).astype(np.uint8)


def faces() -> list[tuple[np.ndarray, np.ndarray]]:
    """(4 corners, texture) per quad: the floor, then the box's six faces."""
    quads = [(np.array([[-3, -3, -1], [3, -3, -1], [3, 3, -1], [-3, 3, -1]], float), texture(0, 512))]
    c = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    idx = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    for i, q in enumerate(idx):
        quads.append((c[list(q)], texture(i + 1, 256)))
    return quads


def render(pose: np.ndarray, quads: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    w2c = np.linalg.inv(pose)
    eye = pose[:3, 3]
    out = np.full((H, W, 3), 40, np.uint8)
    # painter's order: the floor first, then box faces from far to near; back faces culled
    order = [0, *sorted(range(1, len(quads)), key=lambda i: -np.linalg.norm(quads[i][0].mean(0) - eye))]
    for i in order:
        corners, tex = quads[i]
        if i > 0:
            normal = corners.mean(0)  # box centred at the origin: the face centre is its outward normal
            if normal @ (eye - corners.mean(0)) <= 0:
                continue
        cam = (w2c[:3, :3] @ corners.T).T + w2c[:3, 3]
        assert np.all(cam[:, 2] > 0.1)
        px = (K @ cam.T).T
        px = (px[:, :2] / px[:, 2:]).astype(np.float32)
        s = tex.shape[0] - 1
        src = np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float32)
        hom = cv2.getPerspectiveTransform(src, px)
        warped = cv2.warpPerspective(tex, hom, (W, H), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(tex.shape[:2], 255, np.uint8), hom, (W, H), flags=cv2.INTER_NEAREST)
        out[mask > 0] = warped[mask > 0]
    return out


def test_synthetic_capture_recovers_the_exact_cameras(tmp_path: Path) -> None:
    up = np.array([0.0, 0.0, 1.0])
    truth = []
    paths = []
    quads = faces()
    for i, az in enumerate(np.linspace(0, 2 * np.pi, 16, endpoint=False)):
        eye = 6.0 * np.array([np.cos(az) * np.cos(0.5), np.sin(az) * np.cos(0.5), np.sin(0.5)])
        pose = look_at(eye=eye, target=np.zeros(3), up=up)
        truth.append(pose)
        path = tmp_path / f"view{i:02d}.png"
        cv2.imwrite(str(path), render(pose, quads))
        paths.append(path)
    result = estimate_poses(paths=paths, work_dir=tmp_path / "work")
    assert result.summary.registered_images == 16
    est = {img.file_path: np.asarray(img.cam_to_world) for img in result.images}
    ref = np.array([truth[int(p.stem[4:])] for p in paths])
    got = np.array([est[p.name] for p in paths])
    # similarity alignment (COLMAP's frame and scale are arbitrary)
    src, dst = got[:, :3, 3], ref[:, :3, 3]
    mu_s, mu_d = src.mean(0), dst.mean(0)
    u, d, vt = np.linalg.svd((dst - mu_d).T @ (src - mu_s) / len(src))
    sign = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ sign @ vt
    scale = np.trace(np.diag(d) @ sign) / ((src - mu_s) ** 2).sum(1).mean()
    aligned = (scale * (rot @ (src - mu_s).T)).T + mu_d
    centre_err = np.median(np.linalg.norm(aligned - dst, axis=1)) / 6.0
    rel = np.einsum("nji,njk->nik", ref[:, :3, :3], rot @ got[:, :3, :3])
    angles = np.degrees(np.arccos(np.clip((np.trace(rel, axis1=1, axis2=2) - 1) / 2, -1, 1)))
    print(f"synthetic: centre error {100 * centre_err:.2f}% of radius, rotation {np.median(angles):.2f}°, "
          f"f {result.images[0].intrinsics.fx:.1f} (true {F})")
    assert centre_err < 0.01
    assert np.max(angles) < 1.0
    assert result.images[0].intrinsics.fx == pytest.approx(F, rel=0.02)
