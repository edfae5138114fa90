"""Frames for COLMAP from a video: sharp ones, evenly spread, never the blurred or repeated ones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from functions.product.video import VideoError, sample_count, sample_video_frames
from shared.media.ffmpeg import ffmpeg_exe

W, H = 320, 240


def texture(seed: int, size: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = np.zeros((*size, 3), np.float32)
    for sigma in (1.5, 4.0, 10.0):
        img += cv2.GaussianBlur(rng.normal(size=(*size, 3)).astype(np.float32), (0, 0), sigma) * sigma
    return ((img - img.min()) / (img.max() - img.min()) * 255).astype(np.uint8)


def write_video(frames: list[np.ndarray], dest: Path, *, extra: tuple[str, ...] = ()) -> Path:
    folder = dest.with_suffix(".frames")
    folder.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:05d}.png"), frame)
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-framerate", "30", "-i",
                    str(folder / "%05d.png"), "-c:v", "libx264", "-crf", "14", "-pix_fmt", "yuv420p", *extra,
                    str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def shaky_pan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[int], set[int], range]:
    """A pan over a texture: in every 3 frames one is sharp and two are motion-blurred; frames 45-47 are all
    blurred (a window with nothing sharp); then the phone stands still for 30 frames (all the same picture)."""
    big = texture(1, (H, 4 * W))
    kernel = np.full((1, 21), 1 / 21, np.float32)
    frames, sharp, blurred = [], set(), set()
    for i in range(90):
        x = 8 * i
        view = np.ascontiguousarray(big[:, x:x + W])
        if i % 3 == 1 and i not in (46,):
            frames.append(view)
            sharp.add(i)
        else:
            frames.append(cv2.filter2D(view, -1, kernel))
            blurred.add(i)
    still = np.ascontiguousarray(big[:, 8 * 90:8 * 90 + W])
    frames += [still] * 30
    root = tmp_path_factory.mktemp("pan")
    return write_video(frames, root / "pan.mp4"), sharp, blurred, range(90, 120)


def test_the_sharpest_frame_of_each_window_is_kept_and_blur_and_repeats_are_not(
        shaky_pan: tuple[Path, set[int], set[int], range], tmp_path: Path) -> None:
    video, sharp, blurred, still = shaky_pan
    result = sample_video_frames(video=video, out_dir=tmp_path / "frames", count=40)
    assert result.decoded_frames == 120 and result.windows == 40
    picked = set(result.frame_indices)
    # windows are 3 frames: the sharp one wins in each, and no blurred frame is ever written
    assert not picked & blurred, f"blurred frames picked: {sorted(picked & blurred)}"
    assert sharp <= picked, f"sharp frames passed over: {sorted(sharp - picked)}"
    assert sum(1 for i in picked if i in still) == 1, "a still phone gives one frame, not ten"
    assert result.dropped_duplicates >= 9
    assert result.dropped_blurry == 1  # window 15 (frames 45-47) had nothing sharp
    assert result.frame_indices == sorted(result.frame_indices)
    files = sorted((tmp_path / "frames").iterdir())
    assert [p.name for p in files] == [p.name for p in result.paths]  # dropped frames leave no file behind
    assert cv2.imread(str(files[0])).shape == (H, W, 3)


def test_a_portrait_phone_video_comes_out_upright(tmp_path: Path) -> None:
    frames = []
    for i in range(24):
        frame = texture(2, (H, W)).copy()
        frame[:40, :40] = (0, 0, 255)  # a red corner marks the stored top-left
        frames.append(np.roll(frame, 4 * i, axis=1) if i else frame)
    plain = write_video(frames, tmp_path / "plain.mp4")
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90", "-i",
                    str(plain), "-c", "copy", str(rotated)], check=True)
    result = sample_video_frames(video=rotated, out_dir=tmp_path / "out", count=8)
    image = cv2.imread(str(result.paths[0]))
    assert image.shape[:2] == (W, H)  # turned to portrait, as a player shows it
    red = np.argwhere((image[:, :, 2] > 200) & (image[:, :, 1] < 60))
    # a 90° display rotation (counter-clockwise) puts the stored top-left corner at the bottom-left
    assert red[:, 0].mean() > 0.8 * W and red[:, 1].mean() < 0.2 * H


def test_unreadable_or_tiny_videos_say_why(tmp_path: Path, media_dir: Path) -> None:
    with pytest.raises(VideoError, match="not a readable video") as err:
        sample_video_frames(video=media_dir / "videos" / "bad" / "zero_bytes.webm", out_dir=tmp_path / "a")
    assert "overlap" in err.value.hint
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video at all")
    with pytest.raises(VideoError, match="not a readable video"):
        sample_video_frames(video=fake, out_dir=tmp_path / "b")
    short = write_video([texture(3, (H, W))] * 5, tmp_path / "short.mp4")
    with pytest.raises(VideoError, match="only 5 frames"):
        sample_video_frames(video=short, out_dir=tmp_path / "c")


def test_sample_count_follows_the_length() -> None:
    assert sample_count(duration=10.0, total_frames=300) == 60  # short walks still get 60
    assert sample_count(duration=25.0, total_frames=750) == 100
    assert sample_count(duration=120.0, total_frames=3600) == 120
    assert sample_count(duration=2.0, total_frames=60) == 30  # never a window of one frame
