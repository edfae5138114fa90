"""`GET /healthz`: whether this replica can serve, for Modal's and load balancers' probes. No sign-in, and
nothing in the answer but which dependency failed and how (no address, no message that could hold one)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import Stores
from shared.jobs import JobNotFoundError

log = logging.getLogger(__name__)

router = APIRouter(tags=["operations"])

PROBE_ID = "healthz-probe"
"""A job id no job has: looking it up is one indexed read that answers 'not found' when all is well."""


class HealthPublic(BaseModel):
    status: Literal["ok", "unavailable"]
    store: str
    """`ok`, or why the artifact store failed: `unreachable (<error type>)` or `timed out after N s`."""
    database: str
    """The same for the job and project database."""


def _database(state: Stores) -> None:
    with contextlib.suppress(JobNotFoundError):
        state.jobs.get_job(PROBE_ID)
    state.projects.user_by_session(PROBE_ID)


async def _check(what: str, probe: Callable[[], None], *, timeout: float) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(probe), timeout=timeout)
    except TimeoutError:
        log.warning("health check: the %s did not answer in %g s", what, timeout)
        return f"timed out after {timeout:g} s"
    except Exception as exc:
        # The message can name a host or a URL; the log keeps it, the answer does not.
        log.warning("health check: the %s failed: %s", what, exc)
        return f"unreachable ({exc.__class__.__name__})"
    return "ok"


@router.get("/healthz", responses={503: {"model": HealthPublic, "description": "The store or database failed."}})
async def healthz(state: Stores, response: Response) -> HealthPublic:
    """200 when the artifact store and the database both answer, else 503 saying which did not."""
    timeout = state.settings.health_timeout_seconds
    store, database = await asyncio.gather(
        _check("artifact store", state.artifacts.ping, timeout=timeout),
        _check("database", lambda: _database(state), timeout=timeout),
    )
    healthy = store == database == "ok"
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return HealthPublic(status="ok" if healthy else "unavailable", store=store, database=database)
