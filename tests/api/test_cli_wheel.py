"""The README's install (`pip install .`, not -e) serves the web app: the wheel carries the UI, and
`momentloop serve` run from the installed files (not this checkout) answers / and the UI's assets.

The wheel is built from a copy of the sources with this venv's setuptools (no network); the package is
installed with --no-deps into a folder of its own, its dependencies coming from this venv. .ci/run goes
further: the same wheel into a fresh venv with its dependencies, serve and demo (.ci/check_wheel.sh)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["pyproject.toml", "README.md", "functions", "api", "shared", "web"]
ASSETS = ["index.html", "js/app.js", "css/app.css"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = PROJECT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, f"building the wheel failed (setuptools>=70.1 is in the dev extra):\n{proc.stderr}"
    (built,) = dist.glob("momentloop-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    return site


def _installed_env(site: Path) -> dict[str, str]:
    # The installed copy comes first on the path; this checkout's editable finder only answers after it.
    return {**os.environ, "PYTHONPATH": str(site)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("serve")  # the working folder holds no api/ or web/ of its own
    port = _free_port()
    script = installed / "bin" / "momentloop"
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "api.cli"]
    log = work / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([*command, "--data-dir", str(work / "data"), "serve", "--port", str(port)],
                                stdout=sink, stderr=subprocess.STDOUT, env=_installed_env(installed), cwd=work)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/openapi.json", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`momentloop serve` from the wheel did not come up:\n{log.read_text(errors='replace')}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_wheel_carries_the_web_ui(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ASSETS:
        assert f"web/{asset}" in names, f"web/{asset} is not in {wheel.name}"
    shipped = {n for n in names if n.startswith("web/")}
    on_disk = {f"web/{p.relative_to(PROJECT_ROOT / 'web').as_posix()}" for p in (PROJECT_ROOT / "web").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert on_disk <= shipped, f"left out of the wheel: {sorted(on_disk - shipped)}"


def test_the_wheel_requires_pycolmap_for_the_product_panel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.removeprefix("Requires-Dist: ") for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    pycolmap = [r for r in requires if r.startswith("pycolmap")]
    assert pycolmap and all("extra ==" not in r for r in pycolmap), f"pycolmap is not a core requirement: {pycolmap}"


def test_the_installed_package_is_the_one_that_runs(installed: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import api.settings as s; print(s.__file__); print(s.WEB_DIR)"],
                           capture_output=True, text=True, env=_installed_env(installed), cwd=installed.parent,
                           check=True)
    module, web_dir = probe.stdout.split()
    assert Path(module).is_relative_to(installed)
    assert Path(web_dir) == installed / "web" and (Path(web_dir) / "index.html").is_file()


def test_serve_from_the_wheel_answers_the_ui(server: str) -> None:
    with urllib.request.urlopen(f"{server}/", timeout=10) as r:
        assert r.status == 200
        assert r.headers["content-type"].startswith("text/html")
        assert r.read() == (PROJECT_ROOT / "web" / "index.html").read_bytes()
    for asset in ASSETS[1:]:
        with urllib.request.urlopen(f"{server}/{asset}", timeout=10) as r:
            assert r.status == 200
            assert r.read() == (PROJECT_ROOT / "web" / asset).read_bytes()
