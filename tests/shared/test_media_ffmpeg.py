"""Which ffmpeg the project runs: one on PATH when it has everything the project uses, else the binary in
the imageio-ffmpeg wheel. An ffmpeg that answers like Debian 12's 5.1 (every filter and codec, but no
-display_rotation) is passed over; the one chosen makes a rotated video for real. What "everything" is
comes from the code: every filter in its ffmpeg-python graphs and filter chains, every codec it names."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from functions.music.user_track import conversion_args
from shared.media import h264
from shared.media.ffmpeg import (
    NEEDED_DECODERS,
    NEEDED_ENCODERS,
    NEEDED_FILTERS,
    ffmpeg_exe,
    missing_capabilities,
)

PROJECT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("functions", "shared", "api") for p in (PROJECT / folder).rglob("*.py"))
SOURCES.append(PROJECT / "modal_app.py")


def listing(title: str, names: tuple[str, ...] | list[str], kind: str) -> str:
    """`ffmpeg -filters`/`-encoders`/`-decoders` as ffmpeg prints them, for these names."""
    return title + "\n" + "".join(f" {kind} {name:<20} {name} (what it does)\n" for name in names)


ALL = {"filters": listing("Filters:", NEEDED_FILTERS, "..."),
       "encoders": listing("Encoders:", [*NEEDED_ENCODERS, "libx264rgb"], "V....D"),
       "decoders": listing("Decoders:", [*NEEDED_DECODERS, "vp9", "h264"], "VFS..D")}
OPTIONS_5_1 = """Advanced per-file options:
-map [-]input_file_id[:stream_specifier][,sync_file_id[:stream_s  set input stream mapping
-itsscale scale     set the input ts scale
"""
OPTIONS_6_1 = OPTIONS_5_1 + """-display_rotation[:<stream_spec>] <angle>  set pure counter-clockwise rotation in degrees
"""


def fake_ffmpeg(folder: Path, *, version: str, options: str, lists: dict[str, str] | None = None) -> Path:
    """A script named ffmpeg that answers the capability questions as an ffmpeg `version` would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in [*(lists or ALL).items(), ("options", options)]:
        (folder / f"{name}.txt").write_text(text)
    exe = folder / "ffmpeg"
    exe.write_text(f"""#!/bin/sh
here=$(dirname "$0")
for arg in "$@"; do
  case "$arg" in
    -version) echo "ffmpeg version {version} Copyright (c) 2000-2024 the FFmpeg developers"; exit 0 ;;
    -filters) cat "$here/filters.txt"; exit 0 ;;
    -encoders) cat "$here/encoders.txt"; exit 0 ;;
    -decoders) cat "$here/decoders.txt"; exit 0 ;;
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


def test_an_ffmpeg_without_the_limiter_or_the_alpha_decoder_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_resolution: None
) -> None:
    """Compose levels the music with alimiter and checks it with ebur128 (loudnorm is no longer used):
    an ffmpeg without them, or without libvpx to read a turntable's alpha, cannot make the video."""
    filters = [*(f for f in NEEDED_FILTERS if f not in ("alimiter", "ebur128")), "loudnorm"]
    lacking = {**ALL, "filters": listing("Filters:", filters, "..."),
               "decoders": listing("Decoders:", ["vp9", "h264"], "VFS..D")}
    odd = fake_ffmpeg(tmp_path / "bin", version="7.0-minimal", options=OPTIONS_6_1, lists=lacking)
    monkeypatch.setenv("PATH", f"{odd.parent}{os.pathsep}{os.environ['PATH']}")
    assert missing_capabilities(str(odd)) == ["alimiter", "ebur128", "libvpx-vp9 decoder"]
    assert ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe(), "its loudnorm (no longer used) does not make up for them"


# What the code asks of ffmpeg, read out of it: filters in ffmpeg-python graphs (`.filter("name", ...)`,
# `ffmpeg.filter([...], "name", ...)`), filter chains handed to -vf/-af, codecs after -c:v/-c:a/vcodec/acodec.
_GRAPH_FILTER = re.compile(r"""\.filter\(\s*(?:\[[^\]]*\]\s*,\s*)?["']([a-z0-9_]+)["']""")
_CODEC = re.compile(r"""(?:["']-c:[va]["']\s*,\s*|[va]codec["']?\s*[=:]\s*)["']([a-z0-9_-]+)["']""")
_CHAIN_FLAG = re.compile(r"""["']-(?:vf|af|filter_complex|lavfi|filter:[va])["']""")


def chain_filters(chain: str) -> set[str]:
    return {part.split("=", 1)[0].strip() for part in re.split(r"[,;]", chain) if part.strip()}


def test_the_needed_lists_are_exactly_what_the_code_uses() -> None:
    in_graphs, codecs, chained_in = set(), set(), set()
    for path in SOURCES:
        text = path.read_text()
        if path.name == "ffmpeg.py" and path.parent.name == "media":
            continue  # the lists themselves
        in_graphs |= set(_GRAPH_FILTER.findall(text))
        codecs |= set(_CODEC.findall(text)) - {"copy"}
        if _CHAIN_FLAG.search(text):
            chained_in.add(str(path.relative_to(PROJECT)))
    # The two filter chains written as text, built by the code that writes them.
    assert chained_in == {"functions/clips/encode.py", "functions/music/user_track.py"}, \
        "a new -vf/-af chain: add its builder here so its filters are checked"
    chains = chain_filters(h264.frame_tags_filter())
    for channels in (1, 2):
        args = conversion_args(src=Path("in.m4a"), dst=Path("out.wav"), channels=channels)
        chains |= chain_filters(args[args.index("-af") + 1])
    used = in_graphs | chains
    assert {"xfade", "alimiter", "ebur128", "aresample", "volumedetect", "setparams"} <= used, "the reader works"
    assert sorted(used) == sorted(NEEDED_FILTERS)
    assert len(set(NEEDED_FILTERS)) == len(NEEDED_FILTERS)
    assert codecs == set(NEEDED_ENCODERS) | set(NEEDED_DECODERS)


def test_the_ffmpeg_the_project_runs_has_everything(fresh_resolution: None) -> None:
    assert missing_capabilities(ffmpeg_exe()) == []
