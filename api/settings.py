"""What the web server adds to the shared settings (MOMENTLOOP_* environment variables, like the rest): the
family's root with the server's own fields (shared/settings.py says why they are a subclass here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from api.ratelimit import RateLimit
from shared.settings import NOT_FORWARDED, Settings

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


class ServerSettings(Settings):
    """Settings of `momentloop serve`: limits, job concurrency and the event stream's timing."""

    # `MOMENTLOOP_UPLOAD_RATE=null` turns that limit off.
    model_config = SettingsConfigDict(env_parse_none_str="null")

    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024,
        description="Largest file one upload may carry; a body past it is cut off there and answered 413.",
    )
    max_photos: int = Field(default=40, ge=1, description="Photos one project may hold.")
    max_captures: int = Field(default=200, ge=1, description=(
        "Photos of a product capture one project may hold (issue 6), counted apart from its photos."))
    job_workers: int = Field(default=1, ge=1, le=16, description="Jobs that run at the same time.")
    sse_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="A `: ping` comment is sent when the event stream was quiet this long.")
    sse_poll_seconds: float = Field(
        default=0.05, gt=0,
        description="How often the job store is read for new events of a watched job. Jobs run by this "
                    "process are seen at once; this bounds the delay for events written by other processes.")
    shutdown_grace_seconds: float = Field(
        default=5.0, ge=0,
        description="On shutdown, how long running jobs get to reach the end of their current item.")
    web_dir: Annotated[Path, NOT_FORWARDED] = Field(default=WEB_DIR, description="The static web UI served at /.")
    cookie_secure: bool = Field(
        default=False, description="Always mark the session cookie Secure. Without it the cookie is Secure "
                                   "when the sign-in came over HTTPS (as the request or a trusted proxy says).")
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Proxies whose X-Forwarded-Proto and X-Forwarded-For are believed: comma-separated addresses "
                    "or networks, `*` for any (behind Modal's or a load balancer's edge). Unset: none are. "
                    "(`momentloop serve` under uvicorn already believes 127.0.0.1.)")
    max_json_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Largest body of any request but an upload. A body declared bigger is answered 413 before "
                    "it is read; one streamed past it is cut off there.")
    upload_rate: RateLimit | None = Field(
        default=RateLimit(burst=300, per_minute=60),
        description="Uploads one user may make (a whole product capture at once, then one a second); null: no limit.")
    render_rate: RateLimit | None = Field(
        default=RateLimit(burst=20, per_minute=4),
        description="Storyboard, render and scene-render jobs one user may start (resumes count); null: no limit.")
    product_rate: RateLimit | None = Field(
        default=RateLimit(burst=5, per_minute=0.5),
        description="Product turntable jobs one user may start (resumes count); null: no limit.")
    health_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long /healthz waits for the store or the database before saying 503.")
    stale_write_seconds: float = Field(
        default=600.0, gt=0,
        description="A write to the artifact store untouched this long when the server starts (a temporary file "
                    "in the folder, a multipart upload on S3) was left by a process that died; it is removed. "
                    "Checked at start-up and once more this long after it.")

    @property
    def uploads_dir(self) -> Path:
        """Where uploads are received before they are checked and moved into the store."""
        return self.data_dir / "uploads-in-progress"


def server_settings(settings: Settings) -> ServerSettings:
    if isinstance(settings, ServerSettings):
        return settings
    # Explicit values win over the environment; the server's own fields still come from it.
    return ServerSettings(**settings.model_dump())
