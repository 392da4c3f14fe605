"""The artifacts service's FastAPI application.

`create_app(config)` builds it without globals. On start it connects to NATS,
follows the accounts bucket (the same API keys as the query service), opens
the ``artifacts`` KV bucket and the S3 bucket, and publishes its own events
(alias moves, version deletes) under ``events.artifacts.…``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from ..common import bus
from ..common.accounts import AccountsView
from ..common.api_docs import add_api_docs
from ..common.config import PlatformConfig
from ..query.publish import EventPublisher
from . import routes
from .blobs import BlobStore
from .errors import ArtifactsError
from .versions import VersionStore

logger = logging.getLogger(__name__)

ACCOUNTS_TIMEOUT_S = 30.0


def create_app(config: PlatformConfig) -> FastAPI:
    """The artifacts application for the platform of `config`."""
    app = FastAPI(
        docs_url=None, redoc_url=None,  # see common.api_docs
        title="Lodestar artifacts API", lifespan=_lifespan,
        description="Blobs (content-addressed chunks per entity, uploaded and "
        "downloaded through signed S3 URLs), artifact versions and aliases.",
    )
    app.state.config = config
    app.state.accounts = AccountsView()
    app.state.blobs = BlobStore(config)
    app.state.counts = Counter()
    app.state.nats = None
    app.include_router(routes.router)
    app.add_exception_handler(ArtifactsError, _failed)
    app.middleware("http")(_count)
    _add_platform_routes(app)
    add_api_docs(app)
    return app


def _add_platform_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["platform"])
    def healthz(request: Request) -> JSONResponse:
        nc = request.app.state.nats
        ok = nc is not None and nc.is_connected
        body = {"service": "artifacts", "status": "ok" if ok else "waiting for NATS",
                "nats": ok}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["platform"], response_class=PlainTextResponse)
    def metrics(request: Request) -> str:
        lines = ["# TYPE lodestar_artifacts_requests_total counter"]
        for status, count in sorted(request.app.state.counts.items()):
            lines.append(
                f'lodestar_artifacts_requests_total{{status="{status}"}} {count}'
            )
        return "\n".join(lines) + "\n"


async def _count(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    request.app.state.counts[f"{response.status_code // 100}xx"] += 1
    return response


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status", 500)
    if status >= 500:
        logger.error("%s failed: %s", request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=status)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    config: PlatformConfig = app.state.config
    nc = await bus.connect(config, "lodestar-artifacts")
    app.state.nats = nc
    js = nc.jetstream(timeout=10)
    accounts = await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5)
    kv = await bus.bucket(js, bus.BUCKET_ARTIFACTS, history=1)
    app.state.versions = VersionStore(kv)
    app.state.publisher = EventPublisher(js, config, source="artifacts")
    view: AccountsView = app.state.accounts
    task = asyncio.create_task(view.follow(accounts), name="accounts")
    try:
        await asyncio.wait_for(view.ready.wait(), ACCOUNTS_TIMEOUT_S)
    except asyncio.TimeoutError:
        logger.warning("accounts not loaded after %.0f s", ACCOUNTS_TIMEOUT_S)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        app.state.blobs.close()
        await nc.close()
