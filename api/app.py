"""The web app: the JSON API under /api, each job's SSE stream, the health probe at /healthz, and the
static web UI at /. Every request passes api/edges.py first (sign-in before a body is read, body caps,
security headers).

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
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.edges import RequestGate, SecurityHeaders
from api.errors import install_error_handlers
from api.ratelimit import RateLimiter
from api.routes import assets, exports, health, jobs, plan, products, projects, session, styles
from api.settings import server_settings
from api.state import AppState
from shared.errors import StoreError
from shared.settings import ScaleSettings, Settings
from shared.store import ArtifactStore

log = logging.getLogger(__name__)


def create_app(*, settings: Settings, scale: ScaleSettings | None = None) -> FastAPI:
    """The app over the stores `scale` names (MOMENTLOOP_STORE, MOMENTLOOP_DATABASE_URL when not given)."""
    config = server_settings(settings)
    state = AppState.open(config, scale=scale)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.hub.bind(asyncio.get_running_loop())
        state.clear_unfinished_uploads()
        sweeper = asyncio.create_task(clear_stale_writes(state.artifacts, older_than=config.stale_write_seconds))
        state.runner.start()
        resumed = await asyncio.to_thread(state.runner.resume_interrupted)
        if resumed:
            log.info("%s resuming %d unfinished job(s)", state.runner.owner, len(resumed))
        try:
            yield
        finally:
            sweeper.cancel()
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
    app.state.limits = RateLimiter(limits={"upload": config.upload_rate, "render": config.render_rate,
                                           "product": config.product_rate})
    install_error_handlers(app)
    # Added innermost first: a trusted proxy's scheme is known to everything, and even a refusal at the
    # gate carries the security headers.
    app.add_middleware(RequestGate, settings=config, projects=state.projects)
    docs = frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(SecurityHeaders, docs_paths=docs)
    if config.forwarded_allow_ips:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=config.forwarded_allow_ips)

    api = APIRouter(prefix="/api")
    for module in (session, projects, assets, styles, plan, jobs, exports, products):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    # The UI's files, served after every API route; never a path outside web/.
    app.frontend("/", directory=config.web_dir, check_dir=False)
    return app


async def clear_stale_writes(store: ArtifactStore, *, older_than: float) -> None:
    """Remove the writes a killed process left in the store: at start-up, and once more when everything
    written before start-up is `older_than` old (a server restarted right after a crash finds its
    leftovers too fresh to tell from a live writer's at first)."""
    for delay in (0.0, older_than):
        await asyncio.sleep(delay)
        try:
            gone = await asyncio.to_thread(store.clear_stale_writes, older_than=older_than)
        except StoreError as exc:
            log.warning("could not clear unfinished writes from the artifact store: %s", exc)
            continue
        if gone.count:
            log.info("removed %d unfinished write(s) (%.1f MB) a stopped process left in the artifact store",
                     gone.count, gone.bytes / 1e6)
