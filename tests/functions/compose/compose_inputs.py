"""Inputs for compose tests, made on the spot: solid-colour clips from ffmpeg's lavfi sources, a scene plan
on a known beat grid, and synthetic music (a tone with clicks on the beats) at a chosen loudness."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from shared.media.ffmpeg import ffmpeg_exe
from shared.media.probe import probe
from shared.models.base import Box, OutputSpec
from shared.models.plan import CameraMove, Scene, ScenePlan, Transition
from shared.models.render import ClipResult
from shared.store import LocalStore


def make_clip(
    store: LocalStore, *, key: str, colours: list[tuple[str, int]], size: tuple[int, int], fps: int
) -> ClipResult:
    """A clip of solid colours, each shown for its number of frames, stored at `key` (H.264 like the
    local clip provider's output), its duration measured from the file."""
    parts = [f"color=c={c}:s={size[0]}x{size[1]}:r={fps},trim=end_frame={n}[p{i}]" for i, (c, n) in
             enumerate(colours)]
    graph = ";".join(parts) + ";" + "".join(f"[p{i}]" for i in range(len(colours))) + \
        f"concat=n={len(colours)}:v=1:a=0[out]"
    with store.write_path(key, suffix=".mp4") as tmp:
        subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-filter_complex", graph,
             "-map", "[out]", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p",
             "-f", "mp4", str(tmp)],
            check=True,
        )
        info = probe(tmp)
    frames = sum(n for _, n in colours)
    return ClipResult(clip_key=key, provider="test", frames=frames, duration=info.duration,
                      width=size[0], height=size[1], fps=fps)


def make_music(
    path: Path, *, seconds: float, tempo: float, first_beat: float, level: float, click: float,
    rate: int = 44_100,
) -> Path:
    """A stereo WAV: a steady two-note tone at `level` (peak, 0..1) and a short click of `click` (peak)
    on every beat from `first_beat` on."""
    t = np.arange(int(seconds * rate)) / rate
    tone = level * 0.5 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 330 * t))
    clicks = np.zeros_like(t)
    period = 60.0 / tempo
    n = int(0.02 * rate)
    burst = click * np.sin(2 * np.pi * 2000 * np.arange(n) / rate) * np.exp(-np.arange(n) / (0.004 * rate))
    beat = first_beat
    while beat < seconds:
        i = int(beat * rate)
        seg = burst[: max(0, min(n, len(t) - i))]
        clicks[i : i + len(seg)] += seg
        beat += period
    mono = np.clip(tone + clicks, -1, 1).astype(np.float32)
    sf.write(str(path), np.stack([mono, mono], axis=1), rate, subtype="FLOAT")
    return path


def make_plan(
    *, output: OutputSpec, tempo: float, scenes: list[tuple[float, float, Transition, float]],
    music_offset: float, fade_out: float,
) -> ScenePlan:
    """A plan whose scenes are (start, end, transition_in, transition_seconds) on the beat grid."""
    period = 60.0 / tempo
    beats = [i * period for i in range(int(output.duration / period) + 1)]
    return ScenePlan(
        output=output,
        look="test",
        tempo=tempo,
        music_offset=music_offset,
        fade_out=fade_out,
        beats=beats,
        downbeats=beats[::4],
        scenes=[
            Scene(
                index=i, photo=f"p{i}.jpg", photo_index=i, image_key=f"img/{i}.png", start=start, end=end,
                beats=max(1, round((end - start) / period)), move=CameraMove.drift,
                focus=Box(x=0.25, y=0.25, w=0.5, h=0.5), transition_in=tr, transition_seconds=ts,
                prompt="still",
            )
            for i, (start, end, tr, ts) in enumerate(scenes)
        ],
    )
