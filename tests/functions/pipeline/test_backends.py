"""One setting moves every backend: MOMENTLOOP_EXECUTOR, MOMENTLOOP_STORE, MOMENTLOOP_DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.pipeline.backends import make_executor, open_job_store, open_project_store, open_store
from functions.pipeline.executor import LocalExecutor
from functions.pipeline.modal_executor import ModalExecutor
from shared.db.jobs import SQLJobStore
from shared.db.projects import SQLProjectStore
from shared.errors import OptionError
from shared.settings import ScaleSettings, Settings
from shared.store import LocalStore


def test_the_defaults_are_one_machine(tmp_path: Path) -> None:
    settings, scale = Settings(data_dir=tmp_path), ScaleSettings()
    store = open_store(settings=settings, scale=scale)
    assert isinstance(store, LocalStore) and store.root == tmp_path / "artifacts"
    jobs, projects = open_job_store(settings=settings, scale=scale), open_project_store(settings=settings, scale=scale)
    one_file = ("sqlite", tmp_path / "momentloop.db")
    assert (jobs.db.dialect, jobs.db.path) == (projects.db.dialect, projects.db.path) == one_file
    assert (tmp_path / "momentloop.db").is_file()
    assert isinstance(make_executor(settings=settings, store=store, scale=scale), LocalExecutor)


def test_the_variables_choose_s3_and_modal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOMENTLOOP_EXECUTOR", "modal")
    monkeypatch.setenv("MOMENTLOOP_STORE", "s3")
    monkeypatch.setenv("MOMENTLOOP_S3_BUCKET", "videos")
    monkeypatch.setenv("MOMENTLOOP_S3_PREFIX", "/prod/")
    monkeypatch.setenv("MOMENTLOOP_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("MOMENTLOOP_MODAL_APP", "momentloop-staging")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings, scale = Settings(data_dir=tmp_path), ScaleSettings()
    store = open_store(settings=settings, scale=scale)
    from shared.s3store import S3Store

    assert isinstance(store, S3Store) and (store.bucket, store.prefix) == ("videos", "prod/")
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"
    executor = make_executor(settings=settings, store=store, scale=scale)
    assert isinstance(executor, ModalExecutor) and executor.app_name == "momentloop-staging"


def test_modal_with_a_folder_on_this_machine_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, executor="modal")
    with pytest.raises(OptionError, match="store the Modal workers share") as err:
        make_executor(settings=settings, store=LocalStore(tmp_path / "artifacts"), scale=ScaleSettings())
    assert "MOMENTLOOP_STORE=s3" in err.value.hint


def test_s3_without_a_bucket_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="MOMENTLOOP_S3_BUCKET"):
        open_store(settings=Settings(data_dir=tmp_path), scale=ScaleSettings(store="s3"))


def test_a_database_url_chooses_postgres(tmp_path: Path, postgres_url: str) -> None:
    settings, scale = Settings(data_dir=tmp_path), ScaleSettings(database_url=postgres_url)
    jobs = open_job_store(settings=settings, scale=scale)
    projects = open_project_store(settings=settings, scale=scale)
    try:
        assert isinstance(jobs, SQLJobStore) and isinstance(projects, SQLProjectStore)
        assert jobs.db.dialect == projects.db.dialect == "postgresql"
        job = jobs.create_job(kind="make", params={})
        assert jobs.get_job(job.id).status == "queued"
        user, token = projects.add_user(name=f"backends-{job.id[:8]}")
        assert projects.user_by_token(token) == user
    finally:
        jobs.close()
        projects.close()
    assert not (tmp_path / "momentloop.db").exists()


def test_local_renders_run_one_per_two_cores_and_cloud_clips_by_their_provider_limit(tmp_path: Path) -> None:
    from functions.pipeline.preflight import executor_limits

    def limits(**values: object) -> dict[str, int]:
        return executor_limits(Settings(data_dir=tmp_path, **values))[1]  # type: ignore[arg-type]

    # Each local render is a threaded x264 encode of ~0.5 GB: two at once on two cores would not be
    # faster, only twice as big.
    assert limits(workers=2, render_concurrency=1)["clips"] == 1
    assert limits(workers=8, render_concurrency=4)["clips"] == 4
    assert limits(workers=2, render_concurrency=4)["clips"] == 2, "never more than the workers"
    assert limits(workers=2, clip_provider="kling", clip_concurrency=5)["clips"] == 5
    assert limits(workers=2)["analyze_photo"] == 2
