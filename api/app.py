"""The web app: the JSON API under /api, each job's SSE stream, and the static web UI at /.

    momentloop serve [--host H] [--port P] [--data DIR]

One process serves everything, with the same pipeline, artifact store and job/event store as the CLI.
On start it takes over the unfinished jobs nobody holds (a previous process left them); on S3 +
PostgreSQL several such processes (replicas) share the work, each job run by the one holding its lease
(api/jobrunner.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from api.errors import install_error_handlers
from api.routes import assets, exports, jobs, plan, products, projects, session, styles
from api.settings import server_settings
from api.state import AppState
from functions.pipeline.backends import ScaleSettings
from shared.settings import Settings

log = logging.getLogger(__name__)


def create_app(*, settings: Settings, scale: ScaleSettings | None = None) -> FastAPI:
    """The app over the stores `scale` names (MOMENTLOOP_STORE, MOMENTLOOP_DATABASE_URL when not given)."""
    config = server_settings(settings)
    state = AppState.open(config, scale=scale)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.hub.bind(asyncio.get_running_loop())
        state.clear_unfinished_uploads()
        state.runner.start()
        resumed = await asyncio.to_thread(state.runner.resume_interrupted)
        if resumed:
            log.info("%s resuming %d unfinished job(s)", state.runner.owner, len(resumed))
        try:
            yield
        finally:
            await asyncio.to_thread(state.runner.stop)
            state.hub.close()
            state.close()

    app = FastAPI(
        title="MomentLoop",
        summary="Photos in, a short beat-synced stylized video out.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.ml = state
    install_error_handlers(app)

    api = APIRouter(prefix="/api")
    for module in (session, projects, assets, styles, plan, jobs, exports, products):
        api.include_router(module.router)
    app.include_router(api)
    # The UI's files, served after every API route; never a path outside web/.
    app.frontend("/", directory=config.web_dir, check_dir=False)
    return app
