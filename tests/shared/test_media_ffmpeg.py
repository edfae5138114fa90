"""Which ffmpeg the project runs: one on PATH when it has everything the project uses, else the binary in
the imageio-ffmpeg wheel. An ffmpeg that answers like Debian 12's 5.1 (xfade, loudnorm, libx264 and
libvpx-vp9, but no -display_rotation) is passed over; the one chosen makes a rotated video for real."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from shared.media.ffmpeg import ffmpeg_exe, missing_capabilities

FILTERS = """Filters:
 ... xfade             VV->V      Cross fade one video with another video.
 ... loudnorm          A->A       EBU R128 loudness normalization
 ... scale             V->V       Scale the input video size and/or convert the image format.
"""
ENCODERS = """Encoders:
 V....D libx264              libx264 H.264 / AVC / MPEG-4 AVC / MPEG-4 part 10 (codec h264)
 V....D libvpx-vp9           libvpx VP9 (codec vp9)
 A....D aac                  AAC (Advanced Audio Coding)
"""
OPTIONS_5_1 = """Advanced per-file options:
-map [-]input_file_id[:stream_specifier][,sync_file_id[:stream_s  set input stream mapping
-itsscale scale     set the input ts scale
"""
OPTIONS_6_1 = OPTIONS_5_1 + """-display_rotation[:<stream_spec>] <angle>  set pure counter-clockwise rotation in degrees
"""


def fake_ffmpeg(folder: Path, *, version: str, options: str) -> Path:
    """A script named ffmpeg that answers the capability questions as an ffmpeg `version` would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("filters", FILTERS), ("encoders", ENCODERS), ("options", options)):
        (folder / f"{name}.txt").write_text(text)
    exe = folder / "ffmpeg"
    exe.write_text(f"""#!/bin/sh
here=$(dirname "$0")
for arg in "$@"; do
  case "$arg" in
    -version) echo "ffmpeg version {version} Copyright (c) 2000-2024 the FFmpeg developers"; exit 0 ;;
    -filters) cat "$here/filters.txt"; exit 0 ;;
    -encoders) cat "$here/encoders.txt"; exit 0 ;;
    long) cat "$here/options.txt"; exit 0 ;;
  esac
done
echo "fake ffmpeg {version}: cannot do $*" >&2
exit 1
""")
    exe.chmod(0o755)
    return exe


@pytest.fixture()
def fresh_resolution(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """ffmpeg_exe() resolved anew under this test's PATH, and anew again for the tests after it."""
    monkeypatch.delenv("MOMENTLOOP_FFMPEG", raising=False)
    ffmpeg_exe.cache_clear()
    yield
    ffmpeg_exe.cache_clear()


def test_an_ffmpeg_like_debian_12s_5_1_on_path_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_resolution: None
) -> None:
    old = fake_ffmpeg(tmp_path / "bin", version="5.1.6-0+deb12u1", options=OPTIONS_5_1)
    monkeypatch.setenv("PATH", f"{old.parent}{os.pathsep}{os.environ['PATH']}")
    assert missing_capabilities(str(old)) == ["-display_rotation"]
    chosen = ffmpeg_exe()
    assert chosen == imageio_ffmpeg.get_ffmpeg_exe()
    assert missing_capabilities(chosen) == []
    # What the old one could not do, the chosen one does: a video whose display matrix says 90°.
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([chosen, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=160x96:d=0.5:r=10",
                    "-c:v", "libx264", "-preset", "ultrafast", "-y", str(tmp_path / "plain.mp4")], check=True)
    subprocess.run([chosen, "-hide_banner", "-loglevel", "error", "-display_rotation", "90", "-i",
                    str(tmp_path / "plain.mp4"), "-c", "copy", "-y", str(rotated)], check=True)
    with av.open(str(rotated)) as container:  # what functions/product/video.py reads a phone's video with
        assert next(container.decode(video=0)).rotation in (90, -90)


def test_an_ffmpeg_on_path_with_everything_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_resolution: None
) -> None:
    new = fake_ffmpeg(tmp_path / "bin", version="6.1.2", options=OPTIONS_6_1)
    monkeypatch.setenv("PATH", f"{new.parent}{os.pathsep}{os.environ['PATH']}")
    assert missing_capabilities(str(new)) == []
    assert ffmpeg_exe() == str(new)


def test_momentloop_ffmpeg_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_resolution: None) -> None:
    old = fake_ffmpeg(tmp_path / "bin", version="5.1.6-0+deb12u1", options=OPTIONS_5_1)
    monkeypatch.setenv("MOMENTLOOP_FFMPEG", str(old))
    assert ffmpeg_exe() == str(old), "a binary the user names is used as named"
