"""What the CLI says when something is wrong: one line each (a bad option, an unusable photo named once,
a package that is not installed named with the command that installs it), and the defaults in --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def momentloop(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
                          cwd=PROJECT_ROOT, check=False)


@pytest.mark.parametrize(("argv", "reason"), [
    (["make", "x.jpg", "-o", "out.mp4", "--duration", "-5"], "duration must be between 1 and 600 seconds, got -5"),
    (["make", "x.jpg", "-o", "out.mp4", "--fps", "5"], "fps must be between 12 and 60, got 5"),
    (["make", "x.jpg", "-o", "out.mp4", "--aspect", "4:3"], "invalid choice: '4:3'"),
    (["make", "x.jpg"], "the following arguments are required: -o/--output"),
    (["product", "x.jpg", "-o", "t.webm", "--size", "99x100"], "a size is two even numbers from 64 to 4096"),
    (["serve", "--port", "70000"], "a port is 0 to 65535, got 70000"),
])
def test_a_bad_option_is_one_line(argv: list[str], reason: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line:\n{err}"
    assert reason in err and "usage:" not in err
    assert err.startswith(f"momentloop {argv[0]}: error: ") and f"(see momentloop {argv[0]} --help)" in err


def test_make_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["make", "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help to the terminal's width
    assert "the look (see `momentloop styles`; default ghibli)" in text
    assert "frame shape (default 9:16)" in text
    assert "frames per second, 12-60 (default 30)" in text


def test_an_unusable_photo_is_named_once(tmp_path: Path) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_text("not a picture at all\n")
    proc = momentloop("make", str(fake), "-o", str(tmp_path / "out.mp4"), data_dir=tmp_path / "data")
    assert proc.returncode == 2, proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("momentloop: error:")]
    assert len(error) == 1, proc.stderr
    assert "fake.jpg: not a picture" in error[0]
    assert "fake.jpg: fake.jpg" not in proc.stderr


ABSENT_PACKAGES = '''
import importlib.abc
import sys

ABSENT = {absent!r}


class Absent(importlib.abc.MetaPathFinder):
    """These packages are not installed, as far as this interpreter can tell."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ABSENT:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Absent())
'''


def without(packages: set[str], *, folder: Path) -> dict[str, str]:
    """An environment whose Python finds none of `packages` (a sitecustomize hides them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(ABSENT_PACKAGES.format(absent=sorted(packages)))
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def test_a_missing_optional_package_says_what_to_install(tmp_path: Path) -> None:
    env = {**without({"psycopg", "psycopg_pool"}, folder=tmp_path / "site"),
           "MOMENTLOOP_DATABASE_URL": "postgresql://momentloop@127.0.0.1:9/momentloop"}
    proc = momentloop("users", "list", data_dir=tmp_path / "data", env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("momentloop: failed: psycopg is not installed")
    assert "(hint: pip install 'momentloop[postgres]')" in proc.stderr
    assert "bug" not in proc.stderr and "Traceback" not in proc.stderr


def test_serve_without_its_web_ui_is_one_line(tmp_path: Path) -> None:
    proc = momentloop("serve", "--port", "0", data_dir=tmp_path / "data",
                      env={"MOMENTLOOP_WEB_DIR": str(tmp_path / "no-web")})
    assert proc.returncode == 2
    assert proc.stderr == f"momentloop: error: the web UI is not at {tmp_path / 'no-web'} (hint: reinstall " \
                          "MomentLoop, or point MOMENTLOOP_WEB_DIR at its web/ folder)\n"
