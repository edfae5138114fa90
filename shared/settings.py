"""The one settings object. Values come from MOMENTLOOP_* environment variables (or a .env file)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PHOTO_MAX_PIXELS = 210_000_000
"""The largest photo a phone or camera makes, with room: a 200 MP phone's 16320 x 12240 is 199.8 MP. Memory does
not grow with it (photos decode in bands or at reduced scale, under `decode_memory_mb`): it stops headers
that claim giga-pixels, whose decoding would only cost time."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "momentloop"


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI, the web app and the Modal functions."""

    model_config = SettingsConfigDict(env_prefix="MOMENTLOOP_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder holding the artifact store (artifacts/) and the job database (momentloop.db).",
    )
    executor: Literal["local", "modal"] = Field(default="local", description="Where stages run.")
    workers: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="Parallel items per stage for the local executor.",
    )
    max_pixels: int = Field(
        default=PHOTO_MAX_PIXELS,
        ge=1,
        description="Photos whose header claims more pixels than this are refused before decoding.",
    )
    decode_memory_mb: int = Field(
        default=512, ge=64,
        description="Memory all photo decodes of one process may hold at once, MiB: decodes wait for room, and a "
        "photo that alone would need more (one only decodable whole, e.g. a 200 MP WebP) is refused.",
    )
    max_photo_side: int = Field(
        default=3840, ge=256, description="Photos are downscaled to this long side right after decoding."
    )
    style_provider: str = Field(default="local", description="Provider (or comma-separated chain) for style.")
    plan_provider: str = Field(default="local", description="Provider (or chain) for the scene plan.")
    clip_provider: str = Field(default="local", description="Provider (or chain) for clips.")
    music_provider: str = Field(default="local", description="Provider (or chain) for generated music.")
    clip_preset: str = Field(
        default="ultrafast",
        description="libx264 preset of intermediate clips: the heads and tails compose blends, and whole clips "
        "rendered without the final settings (they are encoded again once).",
    )
    clip_crf: int = Field(default=12, ge=0, le=51, description="Quality of intermediate clips (lower: better).")
    output_preset: str = Field(
        default="medium", description="libx264 preset of the final video (scene bodies are encoded with it)."
    )
    output_crf: int = Field(default=20, ge=0, le=51, description="Quality of the final video (lower: better).")
    target_lufs: float = Field(default=-14.0, description="Integrated loudness of the final soundtrack.")
    true_peak_db: float = Field(default=-1.5, description="True-peak ceiling (dBTP) of the soundtrack.")

    provider_timeout: float = Field(
        default=120.0, gt=0, description="Seconds one HTTP call to a cloud provider may take before it counts as a "
        "timeout (and is retried)."
    )
    provider_attempts: int = Field(
        default=4, ge=1, le=10, description="Tries per provider call when it fails transiently (timeout, 429, 5xx)."
    )
    retry_initial_wait: float = Field(default=1.0, ge=0, description="First backoff wait, seconds (then doubled).")
    retry_max_wait: float = Field(default=30.0, ge=0, description="Longest backoff wait between two tries, seconds.")
    retry_after_max: float = Field(
        default=120.0, ge=0, description="Longest wait a server may ask for and be waited for, seconds (a "
        "Retry-After header, or the RetryInfo in the body of Gemini's 429); a server asking for more fails that link."
    )
    poll_interval: float = Field(
        default=3.0, gt=0, description="Seconds between polls of a long-running generation (video, music)."
    )
    generation_timeout: float = Field(
        default=900.0, gt=0, description="Seconds a long-running generation (a video, a song) may take in all."
    )
    style_concurrency: int = Field(default=3, ge=1, description="Style calls in flight at once, per cloud provider.")
    clip_concurrency: int = Field(default=5, ge=1, description="Video generations in flight at once, per provider.")
    render_concurrency: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) // 2),
        ge=1,
        description="Scenes the local renderer draws at once. Each feeds an x264 encode of the final settings, "
        "which keeps all cores busy by itself and holds ~0.5 GB at 1080x1920: one per two cores.",
    )
    plan_concurrency: int = Field(default=5, ge=1, description="Planner calls in flight at once, per provider.")
    music_concurrency: int = Field(default=2, ge=1, description="Music generations in flight at once, per provider.")
    budget_usd: float | None = Field(
        default=None, ge=0, description="Most a job may spend on cloud providers, US dollars (None: no cap)."
    )
    download_max_mb: int = Field(default=500, ge=1, description="Largest provider download accepted, MB.")
    clip_max_stretch: float = Field(
        default=0.2, ge=0, le=0.5,
        description="Share of slow-motion accepted to ask a video model for a shorter (cheaper) allowed length.",
    )
    job_lease_seconds: float = Field(
        default=30.0, gt=0,
        description="How long a web replica's claim on a job lasts unless renewed: when the replica dies, "
        "another one takes the job over after this long.",
    )
    job_heartbeat_seconds: float = Field(
        default=10.0, gt=0,
        description="How often a web replica renews the leases of its jobs and looks for jobs whose owner died "
        "(shorter than job_lease_seconds).",
    )
    web_max_containers: int = Field(
        default=10, ge=1,
        description="Most web containers Modal may run when the stores are shared (S3 + PostgreSQL); a "
        "deployment on the Volume + SQLite always runs one.",
    )

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.job_heartbeat_seconds >= self.job_lease_seconds:
            raise ValueError("job_heartbeat_seconds must be shorter than job_lease_seconds, or leases run out "
                             "between two renewals")
        return self

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "momentloop.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
