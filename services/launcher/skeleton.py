"""A placeholder service: connects to NATS and answers health and metrics.

The artifacts and alerts services start as these placeholders so that the
local platform runs all of its parts from the first issue on; their own
issues replace the placeholder with the real API. The health answer says
plainly that the service is a skeleton.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from nats.aio.client import Client
from nats.errors import Error as NatsError

from ..common import bus
from ..common.config import ConfigError, PlatformConfig, load_config

logger = logging.getLogger(__name__)

RETRY_S = 1.0


class _Link:
    """The service's NATS connection, made in the background with retries."""

    def __init__(self, config: PlatformConfig, name: str) -> None:
        self.config = config
        self.name = name
        self.client: Client | None = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def keep_connecting(self) -> None:
        while self.client is None:
            try:
                self.client = await bus.connect(self.config, self.name)
            except (OSError, asyncio.TimeoutError, NatsError) as exc:
                logger.warning("cannot reach NATS yet (%s); retrying", exc)
                await asyncio.sleep(RETRY_S)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


def build_app(name: str, config: PlatformConfig) -> FastAPI:
    """The placeholder app of service `name`."""
    link = _Link(config, name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(link.keep_connecting())
        yield
        task.cancel()
        await link.close()

    app = FastAPI(title=f"Lodestar {name}", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        body = {
            "service": name,
            "status": "ok" if link.connected else "waiting for NATS",
            "nats": link.connected,
            "skeleton": True,
            "detail": f"the {name} service is a placeholder: it connects to "
            "NATS and serves nothing else yet",
        }
        return JSONResponse(body, status_code=200 if link.connected else 503)

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        connected = 1 if link.connected else 0
        text = (
            "# HELP lodestar_nats_connected Whether the service holds a NATS "
            "connection.\n# TYPE lodestar_nats_connected gauge\n"
            f'lodestar_nats_connected{{service="{name}"}} {connected}\n'
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    return app


def main(name: str, port_field: str, argv: list[str] | None = None) -> int:
    """``python -m lodestar_server.<name> --config PATH``."""
    parser = argparse.ArgumentParser(prog=f"python -m lodestar_server.{name}")
    parser.add_argument("--config", required=True, help="the platform.json to use")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        logger.error("%s", exc)
        return 2
    port = int(getattr(config, port_field))
    app = build_app(name, config)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None,
                access_log=False)
    return 0
