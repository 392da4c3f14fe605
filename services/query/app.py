"""The query service's FastAPI application.

`create_app(config, storage)` builds it without globals, so a test can hand it
a temporary store. On start it applies the migrations, follows the accounts
bucket, and, in the local profile (`writer_embedded`), runs the writer in the
same process on the same store: chDB lets one process own a data directory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..common import bus
from ..common.accounts import Accounts, AccountsView
from ..common.api_docs import add_api_docs
from ..common.config import PlatformConfig
from ..writer.consumer import Writer
from ..writer.migrations import migrate
from ..writer.storage import Storage, StorageError
from . import admin, dashboard, dashboard_artifacts, edits, listing, routes
from .alerts_log import router as alerts_log_router
from .fallback import not_found
from .files import router as files_router
from .metrics import RequestCounter, render_metrics
from .patterns import store_refusal
from .publish import AppliedWaiter, EventPublisher, embedded_applied
from .table_routes import router as tables_router

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
ACCOUNTS_TIMEOUT_S = 30.0


def create_app(config: PlatformConfig, storage: Storage) -> FastAPI:
    """The application, serving `storage` with the accounts of `config`."""
    app = FastAPI(
        docs_url=None, redoc_url=None,  # see common.api_docs
        title="Lodestar query API",
        version=routes.VERSION,
        lifespan=_lifespan,
        description="Runs, history and system metrics; every /api/v1 route "
        "but discovery needs 'Authorization: Bearer <API key>'. Non-finite "
        'floats are the strings "NaN", "Infinity" and "-Infinity".',
    )
    app.state.config = config
    app.state.storage = storage
    app.state.accounts = AccountsView()
    app.state.requests = RequestCounter()
    app.state.writer = None
    app.include_router(routes.router)
    app.include_router(tables_router)
    app.include_router(admin.router)
    app.include_router(alerts_log_router)
    app.include_router(edits.router)
    app.include_router(files_router)
    app.include_router(listing.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_artifacts.router)
    _add_platform_routes(app)
    add_api_docs(app)
    dashboard.add_page_routes(app)
    app.add_exception_handler(StorageError, _storage_failed)
    app.add_exception_handler(StarletteHTTPException, not_found)
    app.middleware("http")(app.state.requests.middleware)
    return app


def _add_platform_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["platform"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", tags=["platform"], response_class=PlainTextResponse)
    def metrics(request: Request) -> str:
        return render_metrics(request.app.state.requests, request.app.state.writer)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


async def _storage_failed(request: Request, exc: Exception) -> JSONResponse:
    refusal = store_refusal(str(exc))
    if refusal:  # the request's pattern, not the store, is at fault
        logger.info("store refused a pattern on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": refusal}, status_code=400)
    logger.error("store failed on %s: %s", request.url.path, exc)
    return JSONResponse(
        {"detail": "the store could not answer; try again, and check the "
         "query service's log if it persists"},
        status_code=503,
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    config: PlatformConfig = app.state.config
    await asyncio.to_thread(migrate, app.state.storage)
    nc = await bus.connect(config, "lodestar-query")
    tasks = await _start_background(app, nc)
    try:
        yield
    finally:
        app.state.stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await nc.close()


async def _start_background(app: FastAPI, nc: object) -> list[asyncio.Task]:
    js = nc.jetstream(timeout=10)  # type: ignore[attr-defined]
    kv = await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5)
    app.state.accounts_writer = Accounts(kv)
    app.state.publisher = EventPublisher(js, app.state.config)
    app.state.applied = AppliedWaiter(embedded_applied(app.state), app.state.storage)
    app.state.stop = asyncio.Event()
    view: AccountsView = app.state.accounts
    tasks = [asyncio.create_task(view.follow(kv), name="accounts")]
    try:
        await asyncio.wait_for(view.ready.wait(), ACCOUNTS_TIMEOUT_S)
    except asyncio.TimeoutError:
        logger.warning("accounts not loaded after %.0f s", ACCOUNTS_TIMEOUT_S)
    if app.state.config.writer_embedded:
        writer = Writer(app.state.config, app.state.storage)
        app.state.writer = writer
        tasks.append(asyncio.create_task(_run_writer(writer, app.state.stop)))
    return tasks


async def _run_writer(writer: Writer, stop: asyncio.Event) -> None:
    """Keep the embedded writer going; a crash restarts it after a pause."""
    while not stop.is_set():
        try:
            await writer.run(stop)
        except asyncio.CancelledError:
            raise
        except Exception:  # the query service stays up; the writer retries
            logger.exception("embedded writer stopped; restarting in 2 s")
            await asyncio.sleep(2.0)
