"""A package that is not installed is what to install, never "a bug in MomentLoop": in a job's error (what
the web app shows, from the job row and its `failed` event) and in a stage item's outcome."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from functions.pipeline.backends import open_job_store
from functions.pipeline.executor import LocalExecutor, describe_failure
from functions.pipeline.runner import Pipeline
from shared.dependencies import missing_dependency
from shared.settings import Settings
from shared.store import LocalStore


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make `names` unimportable in this process, as when their package is not installed, whatever was
    imported before: `from google import genai` finds a submodule imported earlier as an attribute of its
    package, without asking sys.modules, so that attribute goes too (both come back after the test)."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)  # the import machinery's own "not there"
        package, _, attribute = name.rpartition(".")
        if package and sys.modules.get(package) is not None:
            monkeypatch.delattr(sys.modules[package], attribute, raising=False)


def test_a_job_that_needs_a_missing_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = LocalStore(settings.artifacts_dir)
    jobs = open_job_store(settings=settings)
    pipeline = Pipeline(store=store, jobs=jobs, executor=LocalExecutor(store=store, workers=1), settings=settings)
    job = jobs.create_job(kind="make", params={})
    hide(monkeypatch, "psycopg", "psycopg_pool")

    with pytest.raises(ModuleNotFoundError):
        pipeline.execute(job_id=job.id, work=lambda: importlib.import_module("psycopg_pool"),
                         finish=lambda _: ({}, "done"))
    record = jobs.get_job(job.id)
    assert record.status == "failed"
    assert record.error == "psycopg is not installed (no module named 'psycopg_pool')"
    assert record.result == {"hint": "pip install 'momentloop[postgres]'"}
    failed = [e for e in jobs.events(job.id) if e.type == "failed"]
    assert len(failed) == 1 and failed[0].hint == "pip install 'momentloop[postgres]'"
    assert "bug" not in (failed[0].message or "") + (failed[0].hint or "")


@pytest.mark.parametrize("imported_before", [False, True], ids=["fresh", "after-an-sdk-import"])
def test_a_stage_item_that_needs_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                        imported_before: bool) -> None:
    if imported_before:
        importlib.import_module("google.genai")  # as a cloud provider's test run earlier would have
    hide(monkeypatch, "google.genai", "pycolmap")
    try:
        from google import genai  # noqa: F401
    except ImportError as exc:
        reason, hint = describe_failure(exc)
    assert reason == "google-genai is not installed (no module named 'google.genai')"
    assert hint == "pip install 'momentloop[cloud]'"
    try:
        import pycolmap  # noqa: F401
    except ImportError as exc:
        reason, hint = describe_failure(exc)
    assert (reason, hint) == ("pycolmap is not installed (no module named 'pycolmap')", "pip install pycolmap")


def test_an_error_raised_while_handling_a_missing_package_still_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "nerfstudio")
    try:
        try:
            import nerfstudio  # noqa: F401
        except ImportError as exc:
            raise RuntimeError("the GPU renderer could not start") from exc
    except RuntimeError as wrapped:
        missing = missing_dependency(wrapped)
    assert missing is not None and missing.hint == "pip install 'momentloop[gpu]'"


def test_a_module_no_requirement_provides_is_still_a_bug() -> None:
    try:
        importlib.import_module("momentloop_has_no_such_module")
    except ImportError as exc:
        assert missing_dependency(exc) is None
        assert describe_failure(exc)[1] == "this is a bug in MomentLoop; please report it"
