"""The ingest process: gRPC stream service, health, metrics and its stores.

`IngestServer` can run inside a test's event loop (``await server.start()``,
``await server.stop()``) or as the service's main (`serve`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from lodestar._proto import events_pb2, ingest_pb2_grpc
from nats.aio.client import Client

from ..common import bus
from ..common.accounts import AccountsView
from ..common.config import PlatformConfig
from .heartbeats import Heartbeats
from .http import HttpEndpoint
from .liveness import Liveness, RunIds, Timing
from .metrics import Metrics
from .publisher import Publisher
from .registry import Registry, RunRecord
from .service import IngestServicer
from .session import IngestContext

logger = logging.getLogger(__name__)

# a run whose last heartbeat is younger than this many intervals is alive
SILENT_AFTER_BEATS = 2.5

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
ACCOUNTS_READY_S = 10.0
SERVICE_NAME = "lodestar.v1.Ingest"
_GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
]


class IngestServer:
    """Everything one ingest process runs."""

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.accounts = AccountsView()
        self.health = health.aio.HealthServicer()
        self.port = config.ingest_port
        self._nc: Client | None = None
        self._heartbeats: Heartbeats | None = None
        self._grpc: grpc.aio.Server | None = None
        self._http = HttpEndpoint(
            "127.0.0.1", config.ingest_http_port,
            {"/healthz": self._healthz, "/metrics": self._metrics},
        )
        self._follow: asyncio.Task | None = None
        self._liveness: Liveness | None = None
        self._liveness_task: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    @property
    def http_port(self) -> int:
        return self._http.port

    async def start(self) -> None:
        """Connect to the stores, then listen."""
        ctx = await self._connect()
        await self._start_liveness(ctx)
        await self._start_grpc(ctx)
        await self._http.start()
        logger.info("ingest listening on %s:%d (gRPC), 127.0.0.1:%d (HTTP)",
                    self.config.ingest_host, self.port, self.http_port)

    async def _connect(self) -> IngestContext:
        self._nc = await bus.connect(self.config, "lodestar-ingest")
        js = self._nc.jetstream()
        await bus.ensure_streams(js, self.config)
        runs = await bus.bucket(js, bus.BUCKET_RUNS)
        accounts = await bus.bucket(js, bus.BUCKET_ACCOUNTS)
        self._follow = asyncio.create_task(self.accounts.follow(accounts))
        try:
            await asyncio.wait_for(self.accounts.ready.wait(), ACCOUNTS_READY_S)
        except asyncio.TimeoutError:
            logger.warning("accounts not loaded after %ss; starting anyway",
                           ACCOUNTS_READY_S)
        self._heartbeats = Heartbeats(self.config.redis_url, self.metrics)
        publisher = Publisher(js, self.config.max_payload, self.metrics)
        registry = Registry(runs)
        self._liveness = Liveness(
            self.config.redis_url, registry, Timing.of(self.config),
            _announcer(publisher),
        )
        return IngestContext(
            registry, publisher, self._heartbeats, self.metrics,
            self.config.public_url, self._liveness,
            busy_window_s=SILENT_AFTER_BEATS * self.config.heartbeat_interval_s,
        )

    async def _start_liveness(self, ctx: IngestContext) -> None:
        assert ctx.liveness is not None
        await ctx.liveness.start()
        self._liveness_task = asyncio.create_task(
            ctx.liveness.run(self._stopping), name="liveness"
        )

    async def _start_grpc(self, ctx: IngestContext) -> None:
        self._grpc = grpc.aio.server(options=_GRPC_OPTIONS)
        ingest_pb2_grpc.add_IngestServicer_to_server(
            IngestServicer(ctx, self.accounts), self._grpc
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._grpc)
        address = f"{self.config.ingest_host}:{self.config.ingest_port}"
        self.port = self._grpc.add_insecure_port(address)
        await self._grpc.start()
        for name in ("", SERVICE_NAME):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Stop taking streams, let open ones end, then disconnect."""
        await self.health.enter_graceful_shutdown()
        if self._grpc is not None:
            await self._grpc.stop(grace_s)
        await self._http.stop()
        self._stopping.set()
        if self._liveness_task is not None:
            await asyncio.gather(self._liveness_task, return_exceptions=True)
        if self._liveness is not None:
            await self._liveness.close()
        if self._follow is not None:
            self._follow.cancel()
        if self._heartbeats is not None:
            await self._heartbeats.close()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()

    async def _healthz(self) -> tuple[int, str, str]:
        checks = {
            "nats": bool(self._nc and self._nc.is_connected),
            "accounts": self.accounts.ready.is_set(),
            "redis": bool(self._heartbeats and await self._heartbeats.ping()),
        }
        # Redis only holds heartbeats: without it ingest still takes data.
        healthy = checks["nats"] and checks["accounts"]
        body = json.dumps({"status": "ok" if healthy else "unavailable", **checks})
        return (200 if healthy else 503), "application/json", body + "\n"

    async def _metrics(self) -> tuple[int, str, str]:
        return 200, "text/plain; version=0.0.4", self.metrics.render()


async def serve(config: PlatformConfig) -> None:
    """Run ingest until SIGTERM or SIGINT."""
    server = IngestServer(config)
    await server.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    logger.info("ingest stopping")
    await server.stop()


def _announcer(publisher: Publisher):
    """Publishes a run's lifecycle event as ingest itself."""

    async def announce(
        run: RunIds, record: RunRecord, lifecycle: events_pb2.Lifecycle
    ) -> None:
        envelope = events_pb2.PublishedBatch(
            entity=run.entity, project=run.project, run_id=run.run_id,
            publisher_id=publisher.publisher_id, epoch=record.epoch,
            user=record.user,
        )
        subject = bus.event_subject("ingest", run.entity, run.project, run.run_id)
        await publisher.publish_lifecycle(subject, envelope, lifecycle)

    return announce
