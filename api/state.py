"""What one server process holds: its settings, stores, job runner and event hub.

The stores are the ones MOMENTLOOP_* settings name (functions/pipeline/backends.py): a folder and a
SQLite file on one machine, or S3 and PostgreSQL shared by many web containers."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from api.events import EventHub
from api.jobrunner import JobRunner
from api.settings import ServerSettings
from functions.pipeline.backends import open_job_store, open_project_store, open_store
from shared.db.jobs import SQLJobStore
from shared.db.projects import SQLProjectStore
from shared.settings import ScaleSettings
from shared.store import ArtifactStore


@dataclass
class AppState:
    settings: ServerSettings
    scale: ScaleSettings
    artifacts: ArtifactStore
    jobs: SQLJobStore
    """The job store, telling the hub of every event and status written (so the SSE feed reads it at once)."""
    projects: SQLProjectStore
    hub: EventHub
    runner: JobRunner

    @classmethod
    def open(cls, settings: ServerSettings, *, scale: ScaleSettings | None = None) -> AppState:
        scale = scale or settings.scale
        artifacts = open_store(settings=settings, scale=scale)
        raw_jobs = open_job_store(settings=settings, scale=scale)
        hub = EventHub(jobs=raw_jobs, poll_seconds=settings.sse_poll_seconds)
        jobs = raw_jobs.with_hooks(notify=hub.notify)
        projects = open_project_store(settings=settings, scale=scale)
        runner = JobRunner(settings=settings, scale=scale, artifacts=artifacts, jobs=jobs, projects=projects)
        return cls(settings=settings, scale=scale, artifacts=artifacts, jobs=jobs, projects=projects, hub=hub,
                   runner=runner)

    def close(self) -> None:
        """Give back the database connections (a pool's threads outlive the app otherwise)."""
        self.jobs.close()
        self.projects.close()

    def clear_unfinished_uploads(self) -> None:
        """Uploads a killed process was receiving: never checked, never assets; their bytes go."""
        shutil.rmtree(self.settings.uploads_dir, ignore_errors=True)
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
