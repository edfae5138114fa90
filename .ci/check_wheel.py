"""The README's install, checked end to end: this checkout's wheel (built as `pip install .` builds it) goes
into a fresh venv with its dependencies; `momentloop serve` from there must answer / with the UI's HTML
and serve its static assets (200, the same bytes as web/), and `momentloop demo` must make a video.

    .venv/bin/python .ci/check_wheel.py [--keep]

Run with the project's dev venv (it probes the demo's video with shared/media/probe.py). Prints one line
per check with what it measured; exits 1 on the first check that fails."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from functions.analyze.kernels import FIRST_RUN_MESSAGE  # noqa: E402
from shared.media.probe import probe  # noqa: E402

SOURCES = ["pyproject.toml", "README.md", "functions", "api", "shared", "web"]
ASSETS = ["js/app.js", "css/app.css"]
DEMO_SECONDS = 4.0


def step(what: str) -> None:
    print(f"[check_wheel {time.strftime('%H:%M:%S')}] {what}", flush=True)


def fail(why: str) -> None:
    print(f"check_wheel: FAILED: {why}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        fail(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def build_and_install(work: Path) -> Path:
    """A fresh venv holding the wheel of this checkout and its dependencies; returns its bin folder."""
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)])  # from a venv's python: a venv of its base interpreter
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    step("building the wheel (as `pip install .` builds it: isolated, setuptools from the index)")
    run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(src)])
    (wheel,) = (work / "dist").glob("momentloop-*.whl")
    started = time.perf_counter()
    step(f"installing {wheel.name} and its dependencies into a fresh venv")
    run([*pip, "install", str(wheel)])
    step(f"installed in {time.perf_counter() - started:.0f} s")
    # The Product 360° panel's COLMAP comes with the plain install.
    run([str(venv / "bin" / "python"), "-c", "import pycolmap"])
    print("import pycolmap -> ok", flush=True)
    return venv / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=15) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("content-type", ""), exc.read()


def check_serve(bin_dir: Path, work: Path, env: dict[str, str]) -> None:
    port = free_port()
    log = work / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([str(bin_dir / "momentloop"), "--data-dir", str(work / "data"), "serve",
                                   "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(f"{base}/openapi.json")
                break
            except (urllib.error.URLError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    fail(f"momentloop serve did not come up:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.5)
        status, kind, body = get(f"{base}/")
        print(f"GET / -> {status}, {len(body)} bytes, {kind}", flush=True)
        if status != 200 or not kind.startswith("text/html"):
            fail(f"GET / answered {status} ({kind}): {body[:300]!r}")
        if body != (ROOT / "web" / "index.html").read_bytes():
            fail("GET / is not web/index.html")
        for asset in ASSETS:
            status, kind, body = get(f"{base}/{asset}")
            print(f"GET /{asset} -> {status}, {len(body)} bytes, {kind}", flush=True)
            if status != 200 or body != (ROOT / "web" / asset).read_bytes():
                fail(f"GET /{asset} answered {status} with other bytes than web/{asset}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def check_demo(bin_dir: Path, work: Path, env: dict[str, str]) -> None:
    out = work / "demo.mp4"
    # A terminal's view (progress bars and their messages) of a small demo: the first run in a fresh
    # venv, where librosa's kernels are not compiled yet.
    demo_env = {**env, "FORCE_COLOR": "1", "COLUMNS": "200", "MOMENTLOOP_OUTPUT_PRESET": "veryfast"}
    started = time.perf_counter()
    proc = subprocess.Popen([str(bin_dir / "momentloop"), "--data-dir", str(work / "data"), "demo", "-o", str(out),
                             "--duration", f"{DEMO_SECONDS:g}", "--fps", "12", "--aspect", "1:1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=demo_env, cwd=work)
    seen: dict[str, float] = {}
    chunks: list[bytes] = []

    def watch() -> None:
        assert proc.stderr is not None
        while chunk := proc.stderr.read1(65536):
            chunks.append(chunk)
            if "message" not in seen and FIRST_RUN_MESSAGE.encode() in b"".join(chunks[-2:]):
                seen["message"] = time.perf_counter() - started

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode(errors="replace")
    code = proc.wait(timeout=1200)
    watcher.join(timeout=10)
    seconds = time.perf_counter() - started
    if code != 0:
        fail(f"momentloop demo exited {code}:\n{b''.join(chunks).decode(errors='replace')[-3000:]}")
    info = probe(out)
    print(f"momentloop demo -> exit 0 in {seconds:.1f} s: {out.stat().st_size} bytes, {info.width}x{info.height}, "
          f"{info.duration:.2f} s, {info.video_codec}/{info.audio_codec}", flush=True)
    print(f"  {stdout.strip()}", flush=True)
    if abs(info.duration - DEMO_SECONDS) > 1 / 12 + 1e-6:
        fail(f"the demo lasts {info.duration:.3f} s, not {DEMO_SECONDS} s")
    if "message" in seen:
        print(f"first-run message {FIRST_RUN_MESSAGE!r} shown {seen['message']:.1f} s after the demo started",
              flush=True)
    else:
        print("first-run message not shown (librosa's kernels were already in numba's cache)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the work folder (venv, wheel, logs, demo.mp4)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="momentloop-wheel-"))
    # Nothing of this checkout or its venv may leak into the fresh venv's runs.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MOMENTLOOP_DATA_DIR")}
    try:
        bin_dir = build_and_install(work)
        check_serve(bin_dir, work, env)
        check_demo(bin_dir, work, env)
    finally:
        if args.keep:
            step(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step("the wheel installs, serves the web UI and makes the demo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
