"""Memory of `momentloop serve` while it checks the worst photo a user can send under the pixel limit: a
few hundred KB of 16-bit grey PNG that claims 10950 x 10950 pixels. The server's resident memory (psutil,
sampled every few milliseconds in a thread) may grow by less than 600 MiB for one such upload and 1 GiB for
three at once, and must come back down once the answers are out.

`pytest tests/api/test_upload_memory.py -s` prints the figures (before / peak / after, MiB)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

from shared.media.budget import MIB
from tests.api.conftest import free_port
from tests.shared.test_images_decode import WORST_SIDE, RssSampler, worst_case_png

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ONE_UPLOAD_MIB = 600
THREE_UPLOADS_MIB = 1024
# What may stay behind after the answers: allocator caches and the interpreter's own growth, not a picture
# (one 512-px preview is 0.75 MiB; a 10950 x 10950 grey picture is 114 MiB at 8 bits).
LEFT_BEHIND_MIB = 64


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    token: str

    @property
    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def settled_rss(self) -> int:
        """Resident memory once it has stopped moving (the lowest of a second's samples)."""
        samples = []
        for _ in range(20):
            samples.append(self.rss)
            time.sleep(0.05)
        return min(samples)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("memory-server")
    env = {**os.environ, "MOMENTLOOP_WORKERS": "1"}
    cli = [sys.executable, "-m", "api.cli"]
    added = subprocess.run([*cli, "--data-dir", str(data), "users", "add", "mem"], capture_output=True, text=True,
                           cwd=PROJECT_ROOT, env=env, timeout=60, check=True)
    token = added.stdout.strip().splitlines()[-1]
    port = free_port()
    log = (data / "serve.log").open("ab")
    proc = subprocess.Popen([*cli, "serve", "--data", str(data), "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                            stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (data / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield Server(proc=proc, url=url, token=token)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def worst_pngs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("worst")
    paths = []
    for seed in range(4):
        path = folder / f"grey16_{seed}.png"
        worst_case_png(path, seed=seed)
        paths.append(path)
    return paths


def _upload(server: Server, project_id: str, path: Path) -> httpx.Response:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=300) as http, \
            path.open("rb") as f:
        return http.post(f"/api/projects/{project_id}/assets", files={"file": (path.name, f, "image/png")})


def _measure(server: Server, project_id: str, paths: list[Path]) -> tuple[int, int, int]:
    before = server.settled_rss()
    with RssSampler(psutil.Process(server.proc.pid)) as sampler, ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(lambda p: _upload(server, project_id, p), paths))
    for answer in answers:
        assert answer.status_code == 201, answer.text
        assert (answer.json()["width"], answer.json()["height"]) == (WORST_SIDE, WORST_SIDE)
    after = server.settled_rss()
    print(f"\n{len(paths)} upload(s) of a {WORST_SIDE}x{WORST_SIDE} 16-bit grey PNG "
          f"({paths[0].stat().st_size // 1024} KB): RSS before {before / MIB:.0f} MiB, "
          f"peak {sampler.peak / MIB:.0f} MiB (+{(sampler.peak - before) / MIB:.0f}), "
          f"after {after / MIB:.0f} MiB (+{(after - before) / MIB:.0f})")
    return before, sampler.peak, after


@pytest.fixture(scope="module")
def project_id(server: Server, worst_pngs: list[Path]) -> str:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60) as http:
        project = http.post("/api/projects", json={"name": "memory"}).json()
    # Warm up: the first photo imports the decoders (OpenCV, pillow-heif, lcms); that is not the photo's cost.
    small = worst_pngs[0].parent / "small.png"
    worst_case_png(small, seed=9, side=256)
    assert _upload(server, project["id"], small).status_code == 201
    return str(project["id"])


def test_one_worst_case_upload_stays_under_600_mib_and_is_given_back(
    server: Server, project_id: str, worst_pngs: list[Path]
) -> None:
    before, peak, after = _measure(server, project_id, worst_pngs[:1])
    assert peak - before < ONE_UPLOAD_MIB * MIB, f"one upload took {(peak - before) / MIB:.0f} MiB"
    assert after - before < LEFT_BEHIND_MIB * MIB, f"{(after - before) / MIB:.0f} MiB kept after the upload"


def test_three_concurrent_worst_case_uploads_stay_under_1_gib_and_are_given_back(
    server: Server, project_id: str, worst_pngs: list[Path]
) -> None:
    before, peak, after = _measure(server, project_id, worst_pngs[1:4])
    assert peak - before < THREE_UPLOADS_MIB * MIB, f"three uploads took {(peak - before) / MIB:.0f} MiB"
    assert after - before < LEFT_BEHIND_MIB * MIB, f"{(after - before) / MIB:.0f} MiB kept after the uploads"
