"""Fetching what a provider made, and refusing it unless it is what we asked for.

A generation that "succeeded" can still hand back an HTML error page, a truncated MP4, a clip of the
wrong shape or a fraction of the length. Nothing is accepted before it decodes end to end and measures
right: the stage would otherwise cache (and the job pay for) a broken clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.models.base import Frozen
from shared.providers.errors import ProviderError, ProviderOutputError, ProviderTransientError
from shared.settings import Settings

_CHUNK = 1 << 16


def download(
    *, url: str, dest: Path, provider: str, max_bytes: int, timeout: float, headers: dict[str, str] | None = None
) -> int:
    """Stream `url` into `dest`; return its size. Transient failures raise ProviderTransientError (the caller
    retries), anything else ProviderOutputError. Never holds the file in memory."""
    import httpx

    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
            if resp.status_code == 429 or resp.status_code >= 500:
                from shared.providers.retry import parse_retry_after

                raise ProviderTransientError(
                    f"download answered HTTP {resp.status_code}", provider=provider,
                    kind="rate_limited" if resp.status_code == 429 else "server", status=resp.status_code,
                    retry_after=parse_retry_after(resp.headers),
                )
            if resp.status_code >= 400:
                raise ProviderOutputError(f"download answered HTTP {resp.status_code}", provider=provider,
                                          status=resp.status_code)
            size = 0
            with dest.open("wb") as f:
                for chunk in resp.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ProviderOutputError(
                            f"download is larger than {max_bytes // (1 << 20)} MB; refused", provider=provider
                        )
                    f.write(chunk)
    except ProviderError:
        raise
    except httpx.TimeoutException:
        raise ProviderTransientError("download timed out", provider=provider, kind="timeout") from None
    except httpx.TransportError as exc:
        raise ProviderTransientError(f"download failed ({exc.__class__.__name__})", provider=provider,
                                     kind="server") from None
    if size == 0:
        raise ProviderOutputError("download is empty", provider=provider)
    return size


def download_output(*, url: str, dest: Path, provider: str, settings: Settings) -> int:
    """`download` of what a generation made, within the settings' size limit and timeout, tried again on
    transient failures like any provider call; its size."""
    from shared.providers.retry import RetryPolicy, call_with_retry

    return call_with_retry(
        lambda: download(url=url, dest=dest, provider=provider, max_bytes=settings.download_max_mb << 20,
                         timeout=settings.provider_timeout),
        what=f"{provider} download", translate=lambda exc: None, policy=RetryPolicy.from_settings(settings),
    )


class VideoCheck(Frozen):
    width: int
    height: int
    duration: float
    frames: int
    codec: str


def check_video(
    *,
    path: Path,
    provider: str,
    expect_seconds: float,
    expect_aspect: float | None,
    min_side: int = 128,
    aspect_tolerance: float = 0.03,
) -> VideoCheck:
    """Decode every frame of `path`; refuse it (ProviderOutputError) unless it is a video whose length is
    within max(0.5 s, 10%) of `expect_seconds` and whose shape is `expect_aspect` (width / height)."""
    import av

    frames = 0
    last_end = 0.0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ProviderOutputError("download has no video stream", provider=provider)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            width, height = stream.codec_context.width, stream.codec_context.height
            codec = stream.codec_context.name
            rate = float(stream.average_rate or stream.guessed_rate or 0) or None
            for frame in container.decode(stream):
                frames += 1
                if frame.time is not None:
                    step = 1.0 / rate if rate else 0.0
                    last_end = max(last_end, float(frame.time) + step)
    except ProviderOutputError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ProviderOutputError(f"download is not a decodable video ({exc.__class__.__name__})",
                                  provider=provider) from None
    if frames == 0:
        raise ProviderOutputError("download has no decodable frame", provider=provider)
    problems = []
    if min(width, height) < min_side:
        problems.append(f"{width}x{height} is smaller than {min_side} px on a side")
    if expect_aspect is not None and abs(width / height - expect_aspect) / expect_aspect > aspect_tolerance:
        problems.append(f"{width}x{height} is not the {expect_aspect:.3f} aspect asked for")
    tolerance = max(0.5, 0.1 * expect_seconds)
    if abs(last_end - expect_seconds) > tolerance:
        problems.append(f"lasts {last_end:.2f} s, asked for {expect_seconds:g} s")
    if problems:
        raise ProviderOutputError("clip refused: " + "; ".join(problems), provider=provider)
    return VideoCheck(width=width, height=height, duration=round(last_end, 4), frames=frames, codec=codec)


def decode_image(*, data: bytes, provider: str, min_side: int = 64) -> np.ndarray:
    """The BGR uint8 picture in `data`, or ProviderOutputError when it is not one."""
    import cv2

    if not data:
        raise ProviderOutputError("returned an empty image", provider=provider)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ProviderOutputError("returned bytes that are not a decodable image", provider=provider)
    h, w = image.shape[:2]
    if min(h, w) < min_side:
        raise ProviderOutputError(f"returned a {w}x{h} image, too small to use", provider=provider)
    return image


def check_audio(*, path: Path, provider: str, min_seconds: float) -> float:
    """The length of the audio in `path`; ProviderOutputError unless it decodes and lasts `min_seconds`."""
    from shared.errors import InputError
    from shared.media.probe import probe

    try:
        info = probe(path)
    except InputError:
        raise ProviderOutputError("download is not a readable audio file", provider=provider) from None
    if not info.has_audio:
        raise ProviderOutputError("download has no audio stream", provider=provider)
    if info.duration + 0.25 < min_seconds:
        raise ProviderOutputError(f"audio lasts {info.duration:.1f} s, asked for {min_seconds:.1f} s",
                                  provider=provider)
    return info.duration
