"""The clips stage's contract, measured from the written file: exact frames, duration, size, fps and
format; keys that depend only on the request; reuse; progress; errors that name what went wrong."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from functions.clips import CLIPS_VERSION, clip_key, run_clip
from functions.clips import providers as clip_providers
from functions.clips.encode import encode_args, intermediate_codec
from shared.errors import OptionError, StageError, StoreError
from shared.hashing import content_key
from shared.media.probe import probe
from shared.models.plan import CameraMove
from shared.models.render import ClipRequest
from shared.progress import Reporter
from shared.store import ArtifactStore, LocalStore
from tests.functions.clips.clip_inputs import clip_path, clip_request, put_photo, textured_photo
from tests.videocheck import count_frames, mp4_is_faststart


def _colour_tags(path: Path) -> tuple[str, str, str, str]:
    """How the stream says its YUV is to be read: matrix, primaries, transfer, range."""
    import av

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        names = {1: "bt709", 2: "unspecified", 6: "smpte170m"}
        ranges = {0: "unspecified", 1: "tv", 2: "pc"}
        return (names.get(int(frame.colorspace), str(frame.colorspace)),
                names.get(int(frame.color_primaries), str(frame.color_primaries)),
                names.get(int(frame.color_trc), str(frame.color_trc)),
                ranges.get(int(frame.color_range), str(frame.color_range)))


@pytest.fixture()
def photo_key(store: LocalStore) -> str:
    return put_photo(store, textured_photo(width=400, height=300, seed=1))


@pytest.mark.parametrize(("fps", "frames", "size"), [(30, 45, (320, 320)), (24, 31, (180, 320)), (60, 17, (320, 180))])
def test_clip_has_exactly_the_requested_frames(
    store: LocalStore, photo_key: str, fps: int, frames: int, size: tuple[int, int]
) -> None:
    request = clip_request(image_key=photo_key, move=CameraMove.drift, fps=fps, frames=frames,
                           width=size[0], height=size[1], lead=0.1)
    result = run_clip(request=request, store=store)
    path = clip_path(store, result.clip_key)
    info = probe(path)
    assert count_frames(path) == frames
    assert info.duration == pytest.approx(frames / fps, abs=1e-3)
    assert (info.width, info.height) == size
    assert info.fps == pytest.approx(fps)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert not info.has_audio
    assert mp4_is_faststart(path)
    assert _colour_tags(path) == ("smpte170m", "bt709", "bt709", "tv")
    # The result reports what the file measures.
    assert (result.frames, result.width, result.height) == (frames, *size)
    assert result.duration == pytest.approx(info.duration)
    assert result.fps == pytest.approx(info.fps)
    assert result.provider == "local"


def test_key_is_the_content_key_of_the_request(store: LocalStore, photo_key: str) -> None:
    request = clip_request(image_key=photo_key, move=CameraMove.push_in)
    result = run_clip(request=request, store=store)
    expected = content_key(stage="clips", version=CLIPS_VERSION, request=request)
    assert result.clip_key == f"clips/{expected}/clip.mp4" == clip_key(request=request)
    assert store.exists(result.clip_key)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_request_gives_the_same_clip(tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        store = LocalStore(tmp_path / name)
        key = put_photo(store, textured_photo(width=400, height=300, seed=1))
        result = run_clip(request=clip_request(image_key=key, move=CameraMove.pan_right), store=store)
        results.append((result, _digest(clip_path(store, result.clip_key))))
    (first, first_digest), (second, second_digest) = results
    assert first == second
    assert first_digest == second_digest, "the renderer is not deterministic"


def test_a_different_move_is_a_different_clip(store: LocalStore, photo_key: str) -> None:
    a = run_clip(request=clip_request(image_key=photo_key, move=CameraMove.push_in), store=store)
    b = run_clip(request=clip_request(image_key=photo_key, move=CameraMove.pull_out), store=store)
    assert a.clip_key != b.clip_key
    assert _digest(clip_path(store, a.clip_key)) != _digest(clip_path(store, b.clip_key))


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[float | None, str]] = []

    def __call__(self, *, percent: float | None = None, message: str = "") -> None:
        self.events.append((percent, message))


def test_progress_is_reported_every_few_frames_and_reuse_skips_the_render(store: LocalStore, photo_key: str) -> None:
    request = clip_request(image_key=photo_key, move=CameraMove.drift, frames=60)
    report = Recorder()
    first = run_clip(request=request, store=store, report=report)
    percents = [p for p, _ in report.events if p is not None]
    assert len(percents) >= 10
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert max(b - a for a, b in zip([0.0, *percents], percents, strict=False)) <= 10.0

    path = clip_path(store, first.clip_key)
    mtime = path.stat().st_mtime_ns
    again = Recorder()
    second = run_clip(request=request, store=store, report=again)
    assert second == first
    assert path.stat().st_mtime_ns == mtime, "the clip was rendered again"
    assert [p for p, _ in again.events] == [100.0]


def test_unknown_provider_is_an_option_error(store: LocalStore, photo_key: str) -> None:
    request = clip_request(image_key=photo_key, move=CameraMove.drift).model_copy(update={"provider": "nope"})
    with pytest.raises(OptionError, match="nope"):
        run_clip(request=request, store=store)


def test_odd_output_size_is_an_option_error(store: LocalStore, photo_key: str) -> None:
    with pytest.raises(OptionError, match="even"):
        run_clip(request=clip_request(image_key=photo_key, move=CameraMove.drift, width=321, height=320), store=store)


def test_missing_image_is_a_store_error_and_leaves_nothing(store: LocalStore) -> None:
    request = clip_request(image_key="styled/missing.png", move=CameraMove.drift)
    with pytest.raises(StoreError, match="missing"):
        run_clip(request=request, store=store)
    assert not store.exists(clip_key(request=request))


class ShortProvider:
    """A provider that breaks the contract: it renders one frame too few."""

    name = "short"
    exact = True

    def render(self, *, request: ClipRequest, store: ArtifactStore, dest: Path, report: Reporter) -> None:
        local = clip_providers.LocalClipProvider()
        local.render(request=request.model_copy(update={"frames": request.frames - 1}), store=store, dest=dest,
                     report=report)


def test_a_clip_that_breaks_the_contract_is_refused(
    store: LocalStore, photo_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(clip_providers.REGISTRY.factories, "short", ShortProvider)
    request = clip_request(image_key=photo_key, move=CameraMove.drift).model_copy(update={"provider": "short"})
    with pytest.raises(StageError, match="44 frames, expected 45"):
        run_clip(request=request, store=store)
    assert not store.exists(clip_key(request=request)), "a broken clip was committed"


def test_encode_command_is_one_libx264_encode_with_the_settings(tmp_path: Path) -> None:
    args = encode_args(dest=tmp_path / "c.mp4", width=1080, height=1920, fps=30,
                       codec=intermediate_codec(preset="ultrafast", crf=12))
    pairs = dict(itertools.pairwise(args))
    assert pairs["-c:v"] == "libx264" and pairs["-preset"] == "ultrafast" and pairs["-crf"] == "12"
    assert pairs["-pix_fmt"] == "yuv420p" and pairs["-movflags"] == "+faststart"
    assert pairs["-video_size"] == "1080x1920" and pairs["-framerate"] == "30"
    assert "-an" in args and "zoompan" not in " ".join(args)
    assert args[-1] == str(tmp_path / "c.mp4")



class ModelLikeProvider(ShortProvider):
    """A video model's provider: its clips have their own length, which the stage reports as measured."""

    name = "model"
    exact = False


def test_an_inexact_provider_gets_its_clip_measured_not_refused(
    store: LocalStore, photo_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(clip_providers.REGISTRY.factories, "model", ModelLikeProvider)
    request = clip_request(image_key=photo_key, move=CameraMove.drift).model_copy(update={"provider": "model"})
    result = run_clip(request=request, store=store)
    assert (result.frames, result.provider) == (44, "model")
    assert result.duration == pytest.approx(44 / 30, abs=1e-3)
    assert count_frames(clip_path(store, result.clip_key)) == 44


def test_a_clip_with_final_settings_comes_in_parts_and_a_lost_part_is_rendered_again(
    store: LocalStore, photo_key: str
) -> None:
    from shared.models.render import FinalEncoding

    final = FinalEncoding(preset="veryfast", crf=23)
    request = clip_request(image_key=photo_key, move=CameraMove.push_in, frames=45).model_copy(
        update={"head_frames": 8, "tail_frames": 6, "final": final})
    result = run_clip(request=request, store=store)
    assert result.final == final and result.frames == 45 and result.body_frames == 31
    assert [count_frames(clip_path(store, k)) for k in result.part_keys] == [8, 31, 6]
    assert result.duration == pytest.approx(45 / 30, abs=1e-3)

    messages: list[str] = []

    def report(*, percent: float | None = None, message: str = "") -> None:
        messages.append(message)

    assert run_clip(request=request, store=store, report=report) == result
    assert messages == ["reused"]
    store.path(result.tail_key or "").unlink()
    messages.clear()
    assert run_clip(request=request, store=store, report=report) == result
    assert messages[-1] == "done" and store.exists(result.tail_key or "")
    # Without final settings the same scene is one intermediate clip.
    whole = run_clip(request=request.model_copy(update={"final": None}), store=store)
    assert whole.part_keys == [whole.clip_key] and whole.final is None
    assert count_frames(clip_path(store, whole.clip_key)) == 45
