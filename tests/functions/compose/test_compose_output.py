"""The composed MP4, measured from the file alone: delivery format, exact length, cuts on the beats,
crossfades, clips of the wrong length fitted, cover-fit, loudness, true peak and fades."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from functions.compose import clip_windows, run_compose
from shared.errors import FFmpegError, StageError
from shared.media.probe import probe
from shared.models.base import OutputSpec
from shared.models.plan import Transition
from shared.models.render import ComposeRequest, ComposeResult
from shared.store import LocalStore
from tests.functions.compose.compose_inputs import make_clip, make_music, make_plan
from tests.videocheck import (
    black_border_fraction,
    count_frames,
    decode_audio,
    decode_gray_frames,
    decode_rgb_frames,
    hard_cuts,
    integrated_loudness,
    mp4_is_faststart,
    true_peak,
)

C, X = Transition.cut, Transition.crossfade
FPS = 30
TEMPO = 120.0  # a beat every 0.5 s: 15 frames
# Distinct luma, so cuts and blends show in gray frames too.
COLOURS = [(0x20, 0x40, 0xC0), (0xE0, 0xE0, 0x20), (0x20, 0xA0, 0x20), (0xF0, 0xF0, 0xF0), (0x80, 0x20, 0x80)]
MAGENTA = (0xFF, 0x00, 0xFF)


def hexc(rgb: tuple[int, int, int]) -> str:
    return "0x{:02X}{:02X}{:02X}".format(*rgb)


class Composed:
    """One compose run and what it was made from."""

    def __init__(self, *, store: LocalStore, request: ComposeRequest, result: ComposeResult, events: list[float],
                 music: Path) -> None:
        self.store, self.request, self.result, self.events, self.music = store, request, result, events, music
        self.plan = request.plan
        self.windows = clip_windows(plan=request.plan)
        self.path = store.path(result.video_key)


@pytest.fixture(scope="module")
def beat_video(tmp_path_factory: pytest.TempPathFactory) -> Composed:
    """1:1, 7 s, five scenes on a 120 BPM grid: cuts at 1.5 s and 4.0 s, crossfades at 3.0 s (0.5 s) and
    5.5 s (0.4 s). Clip 1 comes back 3 s long with a magenta tail past its window; clip 3 comes back 30 %
    short. The music starts 0.5 s into a track that is far too quiet (about -29 LUFS), clicks on the beats."""
    root = tmp_path_factory.mktemp("beat_video")
    store = LocalStore(root / "artifacts")
    out = OutputSpec(aspect="1:1", width=360, height=360, fps=FPS, duration=7.0)
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0.5, fade_out=1.0,
                     scenes=[(0, 1.5, C, 0), (1.5, 3.0, C, 0), (3.0, 4.0, X, 0.5), (4.0, 5.5, C, 0),
                             (5.5, 7.0, X, 0.4)])
    windows = clip_windows(plan=plan)
    clips = []
    for w, colour in zip(windows, COLOURS, strict=True):
        spans = [(hexc(colour), w.frames)]
        if w.index == 1:
            spans.append((hexc(MAGENTA), 37))
        if w.index == 3:
            spans = [(hexc(colour), int(w.frames * 0.7))]
        clips.append(make_clip(store, key=f"clips/{w.index}.mp4", colours=spans, size=(360, 360), fps=FPS))
    assert clips[1].duration == pytest.approx(3.0) and clips[3].duration < 0.75 * windows[3].frames / FPS
    music = make_music(root / "quiet.wav", seconds=9.0, tempo=TEMPO, first_beat=0.5, level=0.05, click=0.1)
    store.put_file("music/quiet.wav", music)
    events: list[float] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        if percent is not None:
            events.append(percent)

    request = ComposeRequest(plan=plan, clips=clips, audio_key="music/quiet.wav")
    result = run_compose(request=request, store=store, report=report)
    return Composed(store=store, request=request, result=result, events=events, music=music)


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory: pytest.TempPathFactory) -> Composed:
    """9:16, 4 s, from clips of other sizes (a landscape one among them), under loud, clipped music that
    starts at the top of the track."""
    root = tmp_path_factory.mktemp("portrait_video")
    store = LocalStore(root / "artifacts")
    out = OutputSpec(aspect="9:16", width=270, height=480, fps=FPS, duration=4.0)
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0.0, fade_out=1.0,
                     scenes=[(0, 1.0, C, 0), (1.0, 2.5, X, 0.5), (2.5, 4.0, C, 0)])
    windows = clip_windows(plan=plan)
    sizes = [(480, 270), (540, 960), (270, 480)]
    clips = [
        make_clip(store, key=f"clips/{w.index}.mp4", colours=[(hexc(c), w.frames)], size=size, fps=FPS)
        for w, c, size in zip(windows, COLOURS, sizes, strict=False)
    ]
    music = make_music(root / "loud.wav", seconds=4.5, tempo=TEMPO, first_beat=0.0, level=0.7, click=0.9)
    store.put_file("music/loud.wav", music)
    request = ComposeRequest(plan=plan, clips=clips, audio_key="music/loud.wav", preset="veryfast", crf=23)
    result = run_compose(request=request, store=store)
    return Composed(store=store, request=request, result=result, events=[], music=music)


def test_output_is_h264_high_yuv420p_aac_48k_faststart_of_the_planned_size(beat_video: Composed) -> None:
    info = probe(beat_video.path)
    assert (info.video_codec, info.video_profile, info.pix_fmt) == ("h264", "High", "yuv420p")
    assert (info.audio_codec, info.sample_rate, info.channels) == ("aac", 48_000, 2)
    assert (info.width, info.height) == (360, 360)
    assert info.fps == pytest.approx(FPS)
    assert mp4_is_faststart(beat_video.path)


def test_output_lasts_exactly_the_planned_frames(beat_video: Composed) -> None:
    out = beat_video.plan.output
    assert count_frames(beat_video.path) == out.total_frames == 210
    assert abs(probe(beat_video.path).duration - out.duration) <= 1 / FPS
    audio = decode_audio(beat_video.path)
    assert abs(len(audio) / 48_000 - out.duration) <= 1 / FPS


def test_result_describes_the_file(beat_video: Composed) -> None:
    r = beat_video.result
    assert r.video_key.startswith("compose/") and r.video_key.endswith("/video.mp4")
    assert (r.width, r.height, r.fps) == (360, 360, pytest.approx(FPS))
    assert abs(r.duration - 7.0) <= 1 / FPS
    assert r.loudness_lufs == pytest.approx(integrated_loudness(beat_video.path), abs=0.15)
    assert beat_video.events and beat_video.events[-1] == 100
    assert beat_video.events == sorted(beat_video.events)


def test_hard_cuts_land_on_the_planned_beats_and_crossfades_have_none(beat_video: Composed) -> None:
    cuts = hard_cuts(decode_gray_frames(beat_video.path, size=(32, 32)), FPS)
    planned = [1.5, 4.0]
    assert len(cuts) == len(planned), cuts
    for got, want in zip(cuts, planned, strict=True):
        assert abs(got - want) <= 1 / FPS + 1e-9
        assert want in beat_video.plan.beats


def test_crossfades_blend_frames_centred_on_their_beats(beat_video: Composed) -> None:
    luma = decode_gray_frames(beat_video.path, size=(16, 16)).mean(axis=(1, 2))
    for k in (2, 4):  # scenes that begin with a crossfade
        w = beat_video.windows[k]
        near = range(w.scene_start_frame - w.lead_in_frames - 4, w.scene_start_frame + w.lead_in_frames + 4)
        before, after = luma[near[0]], luma[near[-1]]
        lo, hi = sorted((before, after))
        margin = 0.04 * (hi - lo)
        blended = [i for i in near if lo + margin < luma[i] < hi - margin]
        assert len(blended) >= 2 * w.lead_in_frames - 2, (k, blended)
        assert abs(np.mean(blended) - (w.scene_start_frame - 0.5)) <= 1.0, (k, blended)
        # Halfway through the blend the picture is half of each scene.
        assert luma[w.scene_start_frame] == pytest.approx((before + after) / 2, abs=0.12 * (hi - lo))


def test_each_scene_shows_its_own_clip_and_never_a_clip_past_its_window(beat_video: Composed) -> None:
    rgb = decode_rgb_frames(beat_video.path, size=(16, 16)).astype(np.float32).mean(axis=(1, 2))
    for w, colour in zip(beat_video.windows, COLOURS, strict=True):
        # Every frame of the scene clear of its crossfades carries the clip's colour.
        first, last = w.scene_start_frame + w.lead_in_frames, w.scene_end_frame - w.lead_out_frames
        assert np.abs(rgb[first:last] - np.array(colour)).max() < 16, w.index
    # The over-long clip was cut at its window: its magenta tail never shows.
    assert np.abs(rgb - np.array(MAGENTA)).sum(axis=1).min() > 120


@pytest.fixture(scope="module")
def peaky_quiet_video(tmp_path_factory: pytest.TempPathFactory) -> Composed:
    """A tiny 3 s video under a quiet track whose loud clicks stand 20 dB above its loudness: plain gain
    to -14 LUFS would push them far over the ceiling. Its store sits in a folder whose name is full of
    the characters ffmpeg's filter syntax treats specially."""
    root = tmp_path_factory.mktemp("peaky_quiet_video")
    store = LocalStore(root / "my videos, it's [v2]; a:b=c\\d")
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=FPS, duration=3.0)
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0.0, fade_out=0.5,
                     scenes=[(0, 1.5, C, 0), (1.5, 3.0, X, 0.5)])
    clips = [make_clip(store, key=f"clips/{w.index}.mp4", colours=[(hexc(COLOURS[w.index]), w.frames)],
                       size=(64, 64), fps=FPS) for w in clip_windows(plan=plan)]
    music = make_music(root / "peaky.wav", seconds=3.5, tempo=TEMPO, first_beat=0.0, level=0.02, click=0.3)
    store.put_file("music/peaky.wav", music)
    request = ComposeRequest(plan=plan, clips=clips, audio_key="music/peaky.wav", preset="veryfast")
    return Composed(store=store, request=request, result=run_compose(request=request, store=store), events=[],
                    music=music)


def test_music_is_normalised_to_minus_14_lufs_under_the_true_peak_ceiling(
    beat_video: Composed, portrait_video: Composed, peaky_quiet_video: Composed
) -> None:
    assert integrated_loudness(beat_video.music) < -28  # too quiet going in
    assert true_peak(portrait_video.music) > -0.5  # too loud and clipped going in
    quiet = peaky_quiet_video.music
    assert integrated_loudness(quiet) < -28 and true_peak(quiet) - integrated_loudness(quiet) > 18
    for video in (beat_video, portrait_video, peaky_quiet_video):
        assert integrated_loudness(video.path) == pytest.approx(-14.0, abs=1.0)
        assert true_peak(video.path) <= -1.0


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_music_fades_out_at_the_end(beat_video: Composed, portrait_video: Composed) -> None:
    for video in (beat_video, portrait_video):
        audio, rate = decode_audio(video.path), 48_000
        n = len(audio)
        middle = rms(audio[n // 2 - rate // 2 : n // 2 + rate // 2])
        assert rms(audio[n - rate // 5 :]) < 0.25 * middle


def test_music_fades_in_only_when_it_starts_mid_track(beat_video: Composed, portrait_video: Composed) -> None:
    # Both videos start on a click; compare the first 10 ms with the same moment of a later beat.
    rate, span = 48_000, 480
    for video, faded in ((beat_video, True), (portrait_video, False)):
        audio = decode_audio(video.path)
        start, later = rms(audio[:span]), rms(audio[2 * rate : 2 * rate + span])
        assert (start < 0.5 * later) if faded else (start > 0.7 * later), (start, later)


def test_clips_of_other_sizes_are_cover_fitted_without_black_bars(portrait_video: Composed) -> None:
    info = probe(portrait_video.path)
    assert (info.width, info.height) == (270, 480)
    frames = decode_rgb_frames(portrait_video.path, size=(54, 96))
    assert count_frames(portrait_video.path) == 120
    assert max(black_border_fraction(f) for f in frames) == 0.0
    rgb = frames.astype(np.float32).mean(axis=(1, 2))
    for w, colour in zip(portrait_video.windows, COLOURS, strict=False):
        middle = (w.scene_start_frame + w.scene_end_frame) // 2
        assert np.abs(rgb[middle] - np.array(colour)).max() < 16


def test_poster_is_a_frame_of_the_first_scene(beat_video: Composed) -> None:
    assert beat_video.result.poster_key is not None
    with Image.open(beat_video.store.path(beat_video.result.poster_key)) as im:
        assert im.format == "JPEG" and im.size == (360, 360)
        mean = np.asarray(im.convert("RGB"), np.float32).mean(axis=(0, 1))
    assert np.abs(mean - np.array(COLOURS[0])).max() < 16


def test_composing_the_same_request_again_reuses_the_video(beat_video: Composed) -> None:
    stamp = beat_video.path.stat().st_mtime_ns
    again = run_compose(request=beat_video.request, store=beat_video.store)
    assert again == beat_video.result
    assert beat_video.path.stat().st_mtime_ns == stamp


def test_a_clip_that_is_not_a_video_fails_with_the_command_and_ffmpeg_output(
    store: LocalStore, tmp_path: Path
) -> None:
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=FPS, duration=1.0)
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0, fade_out=0.2, scenes=[(0, 0.5, C, 0), (0.5, 1.0, C, 0)])
    good = make_clip(store, key="clips/good.mp4", colours=[("red", 15)], size=(64, 64), fps=FPS)
    store.put_bytes("clips/bad.mp4", b"this is not a video" * 100)
    store.put_file("music.wav", make_music(tmp_path / "m.wav", seconds=2, tempo=TEMPO, first_beat=0, level=0.3,
                                           click=0.5))
    bad = good.model_copy(update={"clip_key": "clips/bad.mp4"})
    with pytest.raises(FFmpegError) as err:
        run_compose(request=ComposeRequest(plan=plan, clips=[good, bad], audio_key="music.wav"), store=store)
    assert "clips/bad.mp4" in " ".join(err.value.cmd) and err.value.stderr
    assert not any(p.suffix == ".mp4" for p in (store.root / "compose").rglob("*"))
    with pytest.raises(StageError, match="2 scenes but 1 clips"):
        run_compose(request=ComposeRequest(plan=plan, clips=[good], audio_key="music.wav"), store=store)


def test_a_clip_shared_by_two_scenes_plays_in_both(store: LocalStore, tmp_path: Path) -> None:
    out = OutputSpec(aspect="1:1", width=64, height=64, fps=FPS, duration=1.0)
    plan = make_plan(output=out, tempo=TEMPO, music_offset=0, fade_out=0.2, scenes=[(0, 0.5, C, 0), (0.5, 1.0, C, 0)])
    clip = make_clip(store, key="clips/same.mp4", colours=[("red", 8), ("blue", 7)], size=(64, 64), fps=FPS)
    store.put_file("music.wav", make_music(tmp_path / "m.wav", seconds=2, tempo=TEMPO, first_beat=0, level=0.3,
                                           click=0.5))
    result = run_compose(request=ComposeRequest(plan=plan, clips=[clip, clip], audio_key="music.wav"), store=store)
    rgb = decode_rgb_frames(store.path(result.video_key), size=(8, 8)).astype(np.float32).mean(axis=(1, 2))
    assert len(rgb) == 30
    red, blue = rgb[:, 0] > 150, rgb[:, 2] > 150
    assert red[:8].all() and blue[8:15].all() and red[15:23].all() and blue[23:].all()
