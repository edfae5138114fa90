"""Compose from clips the local renderer wrote in parts: bodies copied packet for packet (their pictures
decode bit-identical in the output), crossfades encoded from the heads and tails, one continuous stream
with exact timestamps; and a body whose parameter sets differ is encoded again instead of joined."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from functions.clips import run_clip
from functions.compose import clip_windows, run_compose
from functions.compose.segments import plan_segments
from shared.media import h264
from shared.media.ffmpeg import ffmpeg_exe
from shared.media.probe import probe
from shared.models.base import OutputSpec
from shared.models.plan import CameraMove, Transition
from shared.models.render import ClipRequest, ClipResult, ComposeRequest, FinalEncoding
from shared.store import LocalStore
from tests.functions.clips.clip_inputs import put_photo, textured_photo
from tests.functions.compose.compose_inputs import make_music, make_plan
from tests.videocheck import hard_cuts

FPS = 30
FINAL = FinalEncoding(preset="veryfast", crf=23)
C, X = Transition.cut, Transition.crossfade


@dataclasses.dataclass
class Made:
    store: LocalStore
    request: ComposeRequest
    clips: list[ClipResult]


def decode(path: Path) -> tuple[np.ndarray, list[int]]:
    """Every frame's luma plane, and the frames' timestamps."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return np.stack([f.to_ndarray(format="gray") for f in frames]), [int(f.pts) for f in frames]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    root = tmp_path_factory.mktemp("copy")
    store = LocalStore(root / "artifacts")
    out = OutputSpec(aspect="1:1", width=320, height=320, fps=FPS, duration=4.0)
    plan = make_plan(output=out, tempo=120, music_offset=0.0, fade_out=0.5,
                     scenes=[(0, 1.0, C, 0), (1.0, 2.5, X, 0.5), (2.5, 4.0, C, 0)])
    moves = [CameraMove.push_in, CameraMove.pan_right, CameraMove.pull_out]
    clips = []
    for scene, w, move in zip(plan.scenes, clip_windows(plan=plan), moves, strict=True):
        photo = put_photo(store, textured_photo(width=480, height=400, seed=scene.index + 3))
        request = ClipRequest(image_key=photo, scene=scene.model_copy(update={"move": move}), output=out,
                              frames=w.frames, lead_in=w.lead_in, lead_out=w.lead_out,
                              head_frames=2 * w.lead_in_frames, tail_frames=2 * w.lead_out_frames, final=FINAL)
        clips.append(run_clip(request=request, store=store))
    store.put_file("music/m.wav", make_music(root / "m.wav", seconds=5.0, tempo=120, first_beat=0.0, level=0.2,
                                             click=0.5))
    request = ComposeRequest(plan=plan, clips=clips, audio_key="music/m.wav", preset=FINAL.preset, crf=FINAL.crf)
    return Made(store=store, request=request, clips=clips)


def test_the_clips_come_in_parts_around_a_body_at_the_final_settings(made: Made) -> None:
    first, middle, last = made.clips
    assert (first.head_key, first.tail_frames) == (None, 16) and first.tail_key
    assert middle.head_frames == 16 and middle.tail_frames == 0 and middle.head_key and middle.tail_key is None
    assert last.head_key is None and last.tail_key is None and last.final == FINAL
    for c in made.clips:
        with av.open(str(made.store.path(c.clip_key))) as container:
            assert container.streams.video[0].frames == c.body_frames
        assert sum(probe(made.store.path(k)).duration for k in c.part_keys) == pytest.approx(c.frames / FPS, abs=1e-3)


def test_every_body_is_copied_and_decodes_bit_identical_in_the_output(made: Made) -> None:
    result = run_compose(request=made.request, store=made.store)
    segments = plan_segments(windows=clip_windows(plan=made.request.plan))
    bodies = [s for s in segments if s.kind == "body"]
    assert result.copied_frames == sum(s.frames for s in bodies) == 120 - 16
    output, _ = decode(made.store.path(result.video_key))
    for s in bodies:
        clip = made.clips[s.pieces[0].clip]
        body, _ = decode(made.store.path(clip.clip_key))
        assert np.array_equal(output[s.start_frame:s.end_frame], body), f"body at frame {s.start_frame} changed"


def test_the_output_is_one_stream_with_exact_timestamps_and_no_decode_errors(made: Made) -> None:
    result = run_compose(request=made.request, store=made.store)
    path = made.store.path(result.video_key)
    _, pts = decode(path)
    assert len(pts) == 120
    assert len(set(np.diff(pts).tolist())) == 1, "frames are not evenly spaced"
    info = probe(path)
    assert info.fps == pytest.approx(FPS) and info.duration == pytest.approx(4.0, abs=1 / FPS)
    errors = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
                            capture_output=True, text=True, check=True).stderr
    assert errors.strip() == ""


def test_the_crossfade_blends_the_tail_into_the_head_and_the_cut_lands_on_its_beat(made: Made) -> None:
    result = run_compose(request=made.request, store=made.store)
    output, _ = decode(made.store.path(result.video_key))
    tail, _ = decode(made.store.path(made.clips[0].tail_key or ""))
    head, _ = decode(made.store.path(made.clips[1].head_key or ""))
    # The blend spans output frames 22..37 (16 frames centred on the beat at frame 30).
    mid = 8
    expected = (tail[mid].astype(float) + head[mid].astype(float)) / 2
    assert np.abs(output[22 + mid].astype(float) - expected).mean() < 4.0
    assert np.abs(output[22 + mid].astype(float) - tail[mid]).mean() > 8.0
    small = np.stack([frame[::5, ::5] for frame in output])
    cuts = hard_cuts(small, FPS)
    assert any(abs(c - 2.5) <= 1 / FPS for c in cuts), cuts
    assert not any(0.6 < c < 1.4 for c in cuts), "the crossfade was cut"


def test_a_body_with_other_parameter_sets_is_encoded_again_not_joined(made: Made, tmp_path: Path) -> None:
    # The first clip's body, encoded elsewhere with another preset (more reference frames: other
    # sequence parameters), but claiming the final settings. Another quality alone would still join:
    # `stitchable` keeps x264's headers independent of the rate control.
    store = made.store
    other = FinalEncoding(preset="slow", crf=23)
    body = store.path(made.clips[0].clip_key)
    key = "clips/other/clip.mp4"
    with store.write_path(key, suffix=".mp4") as dest:
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(body), *h264.encoder_args(encoding=other, fps=FPS),
                        "-vf", h264.frame_tags_filter(), str(dest)], check=True)
    clips = [made.clips[0].model_copy(update={"clip_key": key}), *made.clips[1:]]
    request = made.request.model_copy(update={"clips": clips})
    result = run_compose(request=request, store=store)
    first_body = made.clips[0].body_frames
    assert result.copied_frames == 120 - 16 - first_body
    _, pts = decode(store.path(result.video_key))
    assert len(pts) == 120 and len(set(np.diff(pts).tolist())) == 1
