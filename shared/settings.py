"""The one settings family: a root object and its sections, all read from the environment (or a .env file).

    Settings                  what the CLI, the web app and the Modal functions all read (MOMENTLOOP_*)
      .scale: ScaleSettings   where things run and live beyond one machine: the store, the database, Modal
                              (MOMENTLOOP_STORE, MOMENTLOOP_S3_*, MOMENTLOOP_DATABASE_URL, MOMENTLOOP_MODAL_*)
      .provider_keys          the cloud providers' keys and endpoints, under the providers' own names
                              (GEMINI_API_KEY, OPENAI_API_KEY, REPLICATE_API_TOKEN, *_BASE_URL):
                              ProviderKeys in shared/providers/keys.py
    ServerSettings(Settings)  api/settings.py: the root and what only `momentloop serve` reads besides

Each section is a settings class of its own, composed by the root, because each keeps its variables' names:
a nested model would be read from MOMENTLOOP_SCALE__STORE, not MOMENTLOOP_STORE. `scale` is a field, read
when the root is (pass one to choose the store in code). The keys are not a field but a property read afresh
on every access: a key set or rotated after start-up is used by the next client, and no settings object
(nor its repr, nor a dump of it) holds one. The server's fields are a subclass in api/ rather than a section
here because their types (RateLimit) are the web server's, and settings import nothing above shared/.
`setting_variables` lists every variable of the family and the setting it reaches; `forwarded_variables`
those modal_app.py carries into its containers (all but the NOT_FORWARDED ones and the keys, which travel
as Modal Secrets)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.providers.keys import ProviderKeys, provider_keys

PHOTO_MAX_PIXELS = 210_000_000
"""The largest photo a phone or camera makes, with room: a 200 MP phone's 16320 x 12240 is 199.8 MP. It stops
headers that claim giga-pixels, and bounds the one photo that may decode alone past `decode_memory_mb` (a HEIC
or WebP decodes only whole: about 11 bytes a pixel at its peak); PNGs and JPEGs decode in bands or at reduced
scale whatever their size."""


MOMENTLOOP_VARIABLES = SettingsConfigDict(env_prefix="MOMENTLOOP_", env_file=".env", extra="ignore")


class NotForwarded:
    """Marks a setting modal_app.py does not carry into its containers: a fact about this machine (its
    folders, its cores, where its stages run) or a value that travels only as a Modal Secret."""


NOT_FORWARDED = NotForwarded()


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "momentloop"


class ScaleSettings(BaseSettings):
    """Where things run and live when one machine is not enough (MOMENTLOOP_* variables)."""

    model_config = MOMENTLOOP_VARIABLES

    store: Literal["local", "s3"] = Field(
        default="local", description="Artifact store: a folder (or the Modal Volume mounted there), or S3."
    )
    s3_bucket: str = Field(default="", description="Bucket of the S3 store.")
    s3_prefix: str = Field(default="", description="Folder inside the bucket (several deployments can share one).")
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible server (MinIO, R2, ...); empty for AWS."
    )
    s3_region: str | None = Field(default=None, description="Region of the bucket (AWS_DEFAULT_REGION otherwise).")
    s3_url_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600, description="Lifetime of presigned URLs.")
    database_url: Annotated[str | None, NOT_FORWARDED] = Field(
        default=None,
        description="PostgreSQL URL of the job store (postgresql://user:pass@host/db); empty: SQLite in data_dir.",
    )
    modal_app: str = Field(default="momentloop", description="Name of the deployed Modal app.")
    modal_volume: str = Field(default="momentloop-artifacts", description="Name of the artifact Volume.")
    modal_gpu: str = Field(default="T4", description="GPU of the GPU stages: T4 for dev, A10G for prod.")
    modal_secrets: str = Field(
        default="",
        description="Modal Secrets to attach, comma-separated: gemini, openai, replicate, s3, postgres.",
    )
    modal_in_flight: int = Field(default=256, ge=1, description="Modal calls one stage keeps in flight at once.")

    def secret_names(self) -> list[str]:
        return [s.strip().lower() for s in self.modal_secrets.split(",") if s.strip()]


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI, the web app and the Modal functions: the family's root."""

    model_config = MOMENTLOOP_VARIABLES

    data_dir: Annotated[Path, NOT_FORWARDED] = Field(
        default_factory=_default_data_dir,
        description="Folder holding the artifact store (artifacts/) and the job database (momentloop.db).",
    )
    executor: Annotated[Literal["local", "modal"], NOT_FORWARDED] = Field(
        default="local", description="Where stages run.")
    workers: Annotated[int, NOT_FORWARDED] = Field(
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
        "photo that alone needs more (one only decodable whole, e.g. a 200 MP HEIC) waits to decode alone.",
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
    scale: ScaleSettings = Field(
        default_factory=ScaleSettings, description="The store, the database and Modal (a section: its variables "
        "keep their names, MOMENTLOOP_STORE ...).")

    @model_validator(mode="after")
    def _heartbeat_within_lease(self) -> Settings:
        if self.job_heartbeat_seconds >= self.job_lease_seconds:
            raise ValueError("job_heartbeat_seconds must be shorter than job_lease_seconds, or leases run out "
                             "between two renewals")
        return self

    @property
    def provider_keys(self) -> ProviderKeys:
        """The keys section, read afresh from the environment (or .env) on every access."""
        return provider_keys()

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "momentloop.db"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def _variables(section: type[BaseSettings], *, path: str = "") -> Iterator[tuple[str, str, bool]]:
    """(variable, dotted setting, forwarded) of every field of `section` and of its sections."""
    prefix = str(section.model_config.get("env_prefix", ""))
    for name, field in section.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            yield from _variables(kind, path=f"{path}{name}.")
        else:
            yield (prefix + name).upper(), path + name, NOT_FORWARDED not in field.metadata


def setting_variables(family: type[Settings] = Settings) -> dict[str, str]:
    """Every environment variable `family` (Settings, or ServerSettings for the web server's too) reads, and
    the setting it reaches: {"MOMENTLOOP_STORE": "scale.store", "GEMINI_API_KEY": "provider_keys.gemini_api_key"}."""
    found = {variable: setting for variable, setting, _ in _variables(family)}
    found.update({variable: setting for variable, setting, _ in _variables(ProviderKeys, path="provider_keys.")})
    return found


def forwarded_variables(family: type[Settings] = Settings) -> set[str]:
    """The variables modal_app.py carries from the deploying machine into every container."""
    return {variable for variable, _, forwarded in _variables(family) if forwarded}

