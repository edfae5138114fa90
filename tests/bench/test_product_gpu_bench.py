"""bench/product_gpu.py on a machine without a GPU: one clear line and exit code 2, no traceback, no work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "product_gpu.py"


def test_the_gpu_benchmark_stops_cleanly_without_a_gpu(tmp_path: Path) -> None:
    work = tmp_path / "work"
    proc = subprocess.run([sys.executable, str(BENCH), "--work", str(work)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "needs a GPU" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == "" and not work.exists(), "nothing ran"
