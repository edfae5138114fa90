"""What the web server adds to the shared settings (MOMENTLOOP_* environment variables, like the rest)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


class ServerSettings(Settings):
    """Settings of `momentloop serve`: limits, job concurrency and the event stream's timing."""

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
    web_dir: Path = Field(default=WEB_DIR, description="The static web UI served at /.")
    cookie_secure: bool = Field(
        default=False, description="Mark the session cookie Secure (set it when serving over HTTPS).")

    @property
    def uploads_dir(self) -> Path:
        """Where uploads are received before they are checked and moved into the store."""
        return self.data_dir / "uploads-in-progress"


def server_settings(settings: Settings) -> ServerSettings:
    if isinstance(settings, ServerSettings):
        return settings
    # Explicit values win over the environment; the server's own fields still come from it.
    return ServerSettings(**settings.model_dump())
