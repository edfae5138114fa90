"""Schemathesis against the app's own /openapi.json: generated requests (valid and not) on every operation,
signed in, with ids that exist and ids that do not. No answer may be a 5xx."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api.conftest import Api, LiveServer

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402

EXAMPLES = 6
# Tried with unknown ids only: a real id would queue real renders, or delete what the rest is tried on.
UNKNOWN_IDS_ONLY = {("POST", "/api/projects/{project_id}/plan"), ("POST", "/api/projects/{project_id}/render"),
                    ("POST", "/api/projects/{project_id}/scenes/{index}/render"), ("POST", "/api/jobs/{job_id}/resume"),
                    ("DELETE", "/api/projects/{project_id}")}


def _turn(operation: Any) -> int:
    """Reads and storyboard edits first, then what makes the storyboard stale, deletions last: each
    operation meets the records the earlier ones could have changed or removed."""
    if operation.method.upper() == "DELETE":
        return 2
    if (operation.method.upper(), operation.path) in {("PATCH", "/api/projects/{project_id}"),
                                                      ("POST", "/api/projects/{project_id}/assets"),
                                                      ("PUT", "/api/projects/{project_id}/assets/order")}:
        return 1
    return 0


@pytest.fixture()
def fuzz_ids(api: Api, small_photos: list[Path], media_dir: Path) -> dict[str, str]:
    """A project of the fuzzing user with a photo, a song, a storyboard and a finished plan job."""
    pid = api.project()["id"]
    photo = api.upload(pid, small_photos[0]).json()["id"]
    song = api.upload(pid, media_dir / "beats" / "beatnet_808kick" / "808kick120bpm.mp3").json()["id"]
    job = api.http.post(f"/api/projects/{pid}/plan").json()["id"]
    assert api.wait(job)["status"] == "done"
    return {"project_id": pid, "asset_id": photo, "song_id": song, "job_id": job}


def _fuzz(operation: Any, *, base_url: str, session: requests.Session, ids: dict[str, str]) -> tuple[int, list[str]]:
    """Run `EXAMPLES` generated requests of one operation; half of them (where allowed) with real ids."""
    real = itertools.cycle([True, False])
    key = (operation.method.upper(), operation.path)
    failures: list[str] = []
    calls = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        nonlocal calls
        if next(real) and key not in UNKNOWN_IDS_ONLY and case.path_parameters:
            for name in case.path_parameters:
                if name in ids:
                    case.path_parameters[name] = ids[name]
        response = case.call(base_url=base_url, session=session, timeout=30)
        calls += 1
        if response.status_code >= 500:
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

    run()
    return calls, failures


def test_no_generated_request_gets_a_5xx(live: LiveServer, api: Api, fuzz_ids: dict[str, str]) -> None:
    raw = requests.get(f"{live.url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api.token}"
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_turn)
    assert len(operations) >= 25
    calls, failures = 0, []
    for operation in operations:
        n, bad = _fuzz(operation, base_url=live.url, session=session, ids=fuzz_ids)
        calls += n
        failures += bad
    assert not failures, "\n".join(failures[:10])
    assert calls >= len(operations) * 2
    assert api.http.get("/api/projects").status_code == 200
