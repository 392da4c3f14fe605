"""The alerts service's parts, wired together, with their background tasks.

`AlertsService(config, settings)` connects to NATS and Redis, follows the
configuration and accounts buckets, resumes the deliveries left open by a
previous run, then consumes the stream and checks stall rules until
`stop`. The REST API (`api.create_app`) runs it in its lifespan; tests may
run it on their own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from nats.aio.client import Client

from ..common import bus
from ..common.accounts import AccountsView
from ..common.config import PlatformConfig
from ..query.publish import EventPublisher
from .consumer import AlertConsumer
from .crypto import SecretBox
from .dispatch import Dispatcher
from .evaluate import Evaluator
from .journal import Journal
from .ledger import Ledger
from .pager import Pager
from .ruling import RuleState
from .runs import RunBook
from .settings import AlertsSettings
from .store import ConfigStore

logger = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 30.0
RESTART_S = 2.0


class AlertsService:
    """Everything the alerts process runs besides its HTTP server."""

    def __init__(
        self, config: PlatformConfig, settings: AlertsSettings | None = None
    ) -> None:
        self.config = config
        self.settings = settings or AlertsSettings.from_config(config)
        self.box = SecretBox(config.server_secret)
        self.store = ConfigStore()
        self.accounts = AccountsView()
        self.nc: Client | None = None
        self.ledger: Ledger | None = None
        self.dispatcher: Dispatcher | None = None
        self.evaluator: Evaluator | None = None
        self.pager: Pager | None = None
        self.consumer: AlertConsumer | None = None
        self._redis: Any = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    @property
    def healthy(self) -> bool:
        return (self.nc is not None and self.nc.is_connected
                and self.consumer is not None and self.consumer.ready.is_set())

    async def start(self) -> None:
        """Connect, load the configuration, resume deliveries, start consuming."""
        self.nc = await bus.connect(self.config, "lodestar-alerts")
        js = self.nc.jetstream(timeout=10)
        await bus.ensure_streams(js, self.config)
        self._redis = _redis_client(self.config.redis_url)
        await self._follow(js)
        self._build(js, await bus.bucket(js, self.settings.ledger_bucket))
        assert self.dispatcher is not None and self.consumer is not None
        await self.dispatcher.resume()
        self._spawn(self._consume(), "consumer")
        self._spawn(self._check_stalls(), "stalls")
        await asyncio.wait_for(self.consumer.ready.wait(), LOAD_TIMEOUT_S)

    async def _follow(self, js: Any) -> None:
        config_kv = await bus.bucket(js, self.settings.config_bucket)
        accounts_kv = await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5)
        self._spawn(self.store.follow(config_kv), "config")
        self._spawn(self.accounts.follow(accounts_kv), "accounts")
        await asyncio.wait_for(self.store.ready.wait(), LOAD_TIMEOUT_S)

    def _build(self, js: Any, ledger_kv: Any) -> None:
        settings = self.settings
        state = RuleState(self._redis, settings.redis_prefix)
        journal = Journal(EventPublisher(js, self.config, source="alerts"))
        self.ledger = Ledger(ledger_kv)
        self.dispatcher = Dispatcher(
            self.ledger, self.store.channels.get, self.box, state, journal, settings
        )
        runs = RunBook(self._redis, settings.redis_prefix)
        self.evaluator = Evaluator(self.store, runs, state, settings)
        self.pager = Pager(self.store, self.ledger, state, journal,
                           self.dispatcher, settings)
        self.consumer = AlertConsumer(js, self.evaluator, self.pager, settings)

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"alerts-{name}"))

    async def stop(self) -> None:
        """Stop every task; an attempt in flight is abandoned, not recorded."""
        self._stop.set()
        if self.dispatcher is not None:
            await self.dispatcher.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._redis is not None:
            await self._redis.aclose()
        if self.nc is not None:
            await self.nc.close()

    async def _consume(self) -> None:
        """Run the consumer; a crash is logged and the consumer started again."""
        assert self.consumer is not None
        while not self._stop.is_set():
            try:
                await self.consumer.run(self._stop)
            except asyncio.CancelledError:
                raise
            except Exception:  # the service stays up and subscribes again
                self.consumer.ready.clear()
                logger.exception("alerts consumer stopped; restarting in %.0f s",
                                 RESTART_S)
                await asyncio.sleep(RESTART_S)

    async def _check_stalls(self) -> None:
        assert self.evaluator is not None and self.pager is not None
        while not self._stop.is_set():
            await asyncio.sleep(self.settings.stall_check_s)
            try:
                now = time.time()
                for fired in await self.evaluator.stalls(now):
                    await self.pager.handle(fired, now)
            except Exception:  # Redis or NATS failed; the next check retries
                logger.exception("stall check failed")


def _redis_client(url: str) -> Any:
    import redis.asyncio

    return redis.asyncio.Redis.from_url(
        url, socket_timeout=5.0, socket_connect_timeout=5.0
    )
