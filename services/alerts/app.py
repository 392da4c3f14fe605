"""The alerts service's FastAPI application: its REST API, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from ..common.api_docs import add_api_docs
from ..common.config import PlatformConfig
from . import api
from .errors import InvalidRequest, NotFound, SecretError
from .service import AlertsService
from .settings import AlertsSettings


def create_app(
    config: PlatformConfig, settings: AlertsSettings | None = None
) -> FastAPI:
    """The application; its lifespan starts and stops an `AlertsService`."""
    service = AlertsService(config, settings)
    app = FastAPI(title="Lodestar alerts API", lifespan=_lifespan,
                  docs_url=None, redoc_url=None)  # see common.api_docs
    app.state.service = service
    app.state.accounts = service.accounts  # read by the shared key check
    app.include_router(api.router)
    _add_platform_routes(app)
    add_api_docs(app)
    app.add_exception_handler(InvalidRequest, _answer(422))
    app.add_exception_handler(NotFound, _answer(404))
    app.add_exception_handler(SecretError, _answer(503))
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: AlertsService = app.state.service
    await service.start()
    try:
        yield
    finally:
        await service.stop()


def _answer(status: int):
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handler


def _add_platform_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["platform"])
    def healthz(request: Request) -> JSONResponse:
        service: AlertsService = request.app.state.service
        ok = service.healthy
        body = {"service": "alerts", "status": "ok" if ok else "starting",
                "nats": service.nc is not None and service.nc.is_connected}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["platform"], response_class=PlainTextResponse)
    def metrics(request: Request) -> str:
        return render_metrics(request.app.state.service)


def render_metrics(service: AlertsService) -> str:
    """Prometheus text of the service's counters."""
    values: dict[str, float] = {
        "lodestar_nats_connected": float(
            service.nc is not None and service.nc.is_connected),
    }
    if service.consumer is not None:
        values["lodestar_alerts_messages_total"] = service.consumer.messages
    if service.evaluator is not None:
        stats = service.evaluator.stats
        values["lodestar_alerts_history_skipped_total"] = stats.history_skipped
        values["lodestar_alerts_history_read_total"] = stats.history_read
    if service.pager is not None:
        values["lodestar_alerts_fired_total"] = service.pager.stats["fired"]
        values["lodestar_alerts_paged_total"] = service.pager.stats["paged"]
    lines = [f'{name}{{service="alerts"}} {value:g}' for name, value in values.items()]
    if service.dispatcher is not None:
        for status, count in sorted(service.dispatcher.stats.items()):
            lines.append(
                f'lodestar_alerts_attempts_total{{status="{status}"}} {count}')
    return "\n".join(lines) + "\n"
