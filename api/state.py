"""What one server process holds: its settings, stores, job runner and event hub."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from api.events import EventHub
from api.jobrunner import JobRunner, NotifyingJobStore
from api.settings import ServerSettings
from shared.jobs import SQLiteJobStore
from shared.projects import SQLiteProjectStore
from shared.store import LocalStore


@dataclass
class AppState:
    settings: ServerSettings
    artifacts: LocalStore
    jobs: NotifyingJobStore
    projects: SQLiteProjectStore
    hub: EventHub
    runner: JobRunner

    @classmethod
    def open(cls, settings: ServerSettings) -> AppState:
        artifacts = LocalStore(settings.artifacts_dir)
        raw_jobs = SQLiteJobStore(settings.database_path)
        hub = EventHub(jobs=raw_jobs, poll_seconds=settings.sse_poll_seconds)
        jobs = NotifyingJobStore(raw_jobs, notify=hub.notify)
        projects = SQLiteProjectStore(settings.database_path)
        runner = JobRunner(settings=settings, artifacts=artifacts, jobs=jobs, projects=projects)
        return cls(settings=settings, artifacts=artifacts, jobs=jobs, projects=projects, hub=hub, runner=runner)

    def clear_unfinished_uploads(self) -> None:
        """Uploads a killed process was receiving: never checked, never assets; their bytes go."""
        shutil.rmtree(self.settings.uploads_dir, ignore_errors=True)
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
