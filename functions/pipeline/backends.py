"""Which artifact store, job store and executor this process uses, chosen by MOMENTLOOP_* settings (the
root's `executor` and its `scale` section; a `scale` passed here wins over the settings' own).

The CLI, the web app and the Modal functions all open their backends here, so one setting moves all
of them: `MOMENTLOOP_EXECUTOR=local|modal`, `MOMENTLOOP_STORE=local|s3`, `MOMENTLOOP_DATABASE_URL`.

    local executor + local store + SQLite     one machine (the default)
    modal executor + Volume store + Postgres  `modal deploy`: every container mounts the Volume
    modal executor + S3 store + Postgres      the web app anywhere, stages on Modal"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from shared.db.jobs import SQLJobStore
from shared.db.projects import SQLProjectStore
from shared.errors import OptionError
from shared.settings import ScaleSettings, Settings
from shared.store import ArtifactStore, LocalStore

if TYPE_CHECKING:
    from functions.pipeline.executor import Executor
    from functions.pipeline.modal_executor import StageFunction, SyncedVolume


def open_store(*, settings: Settings, scale: ScaleSettings | None = None, root: Path | None = None) -> ArtifactStore:
    """The artifact store the settings name (`root` overrides the local folder, e.g. a Volume's mount)."""
    scale = scale or settings.scale
    if scale.store == "s3":
        if not scale.s3_bucket:
            raise OptionError("MOMENTLOOP_STORE=s3 needs MOMENTLOOP_S3_BUCKET")
        from shared.s3store import S3Store

        return S3Store(bucket=scale.s3_bucket, prefix=scale.s3_prefix, endpoint_url=scale.s3_endpoint_url,
                       region=scale.s3_region, url_seconds=scale.s3_url_seconds)
    return LocalStore(root or settings.artifacts_dir)


def open_job_store(*, settings: Settings, scale: ScaleSettings | None = None) -> SQLJobStore:
    """PostgreSQL when MOMENTLOOP_DATABASE_URL is set (many containers), else the SQLite file."""
    scale = scale or settings.scale
    return SQLJobStore(scale.database_url or settings.database_path)


def open_project_store(*, settings: Settings, scale: ScaleSettings | None = None) -> SQLProjectStore:
    """The web app's users and projects: beside the jobs, in PostgreSQL or the same SQLite file."""
    scale = scale or settings.scale
    return SQLProjectStore(scale.database_url or settings.database_path)


def make_executor(
    *,
    settings: Settings,
    store: ArtifactStore,
    scale: ScaleSettings | None = None,
    stop: threading.Event | None = None,
    volume: SyncedVolume | None = None,
    functions: dict[str, StageFunction] | None = None,
    workers: int | None = None,
    limits: dict[str, int] | None = None,
) -> Executor:
    """The executor MOMENTLOOP_EXECUTOR names, over `store`.

    The Modal executor needs a store its workers share: S3, or the Volume (`volume`) when this process
    runs inside the Modal app with it mounted. A folder on this machine is refused: the workers could
    not read the photos, and their results would land where we cannot see them. `workers` and `limits`
    (items in flight per stage) tune the local executor; the default is `settings.workers` everywhere."""
    scale = scale or settings.scale
    if settings.executor == "local":
        from functions.pipeline.executor import LocalExecutor

        return LocalExecutor(store=store, workers=workers or settings.workers, limits=limits, stop=stop)

    from functions.pipeline.modal_executor import ModalExecutor, modal_progress_channel

    if isinstance(store, LocalStore) and volume is None:
        volume = _mounted_volume(scale=scale, store=store)
    if isinstance(store, LocalStore) and volume is None:
        raise OptionError(
            "MOMENTLOOP_EXECUTOR=modal needs a store the Modal workers share",
            hint="set MOMENTLOOP_STORE=s3 (and MOMENTLOOP_S3_BUCKET), or run inside the Modal app "
                 "(modal run / modal deploy modal_app.py), where the artifact Volume is mounted",
        )
    return ModalExecutor(functions=functions, app_name=scale.modal_app, volume=volume, stop=stop,
                         progress_channel=modal_progress_channel, max_in_flight=scale.modal_in_flight)


def _mounted_volume(*, scale: ScaleSettings, store: LocalStore) -> SyncedVolume | None:
    """The artifact Volume, when this process runs in a Modal container that mounts it under the store."""
    import modal

    if modal.is_local():
        return None
    if os.path.ismount(store.root):  # modal_app.py mounts the Volume exactly at the artifacts folder
        volume: SyncedVolume = modal.Volume.from_name(scale.modal_volume)
        return volume
    return None
