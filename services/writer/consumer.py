"""The writer: a durable JetStream pull consumer that fills ClickHouse.

It fetches up to `fetch_batch` messages from ``events.>``, applies them in a
worker thread (`Applier`), sends what cannot be decoded or written to
``deadletter.writer`` with the reason, acknowledges every message, then tells
live readers on Redis channel ``lodestar:live`` how far each run got.

Order matters: progress is a high-water mark per publisher, so an older
message must never be applied after a newer one of the same publisher. Three
rules keep that true. Messages of a fetch are applied in stream order. While
the store is down, the same fetch is retried (with in-progress acks) rather
than returned to the server. And at start the consumer is re-created at its
acknowledgement floor, so messages left unacknowledged by a killed writer come
first again instead of after newer ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from ..common import bus
from ..common.config import PlatformConfig
from .applier import Applier, Incoming, Outcome
from .storage import Storage, StorageUnavailable

logger = logging.getLogger(__name__)

LIVE_CHANNEL = "lodestar:live"
_REASON_LIMIT = 900


@dataclass
class WriterStats:
    """Counters exported on the hosting service's /metrics."""

    messages: int = 0
    events: int = 0
    rows: int = 0
    dead_letters: int = 0
    insert_seconds: float = 0.0
    applied_stream_seq: int = 0


class Writer:
    """Consumes ``events.>`` into the store until `stop` is set."""

    def __init__(
        self,
        config: PlatformConfig,
        storage: Storage,
        fetch_batch: int = 256,
        ack_wait: float = 300.0,
    ) -> None:
        self._config = config
        self._applier = Applier(storage)
        self._fetch_batch = fetch_batch
        self._ack_wait = ack_wait
        self._redis: Any = None
        self._redis_failed_at = 0.0
        self.stats = WriterStats()

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, subscribe and apply batches until `stop` is set."""
        nc = await bus.connect(self._config, "lodestar-writer")
        try:
            js = nc.jetstream(timeout=10)
            await bus.ensure_streams(js, self._config)
            sub = await self._subscribe(js)
            self._redis = _redis_client(self._config.redis_url)
            logger.info("writer consuming %s", bus.EVENTS_STREAM)
            while not stop.is_set():
                await self._step(js, sub, stop)
        finally:
            await self._close(nc)

    async def _close(self, nc: Any) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        await nc.close()

    async def _subscribe(self, js: JetStreamContext) -> Any:
        start = await self._ack_floor(js)
        config = ConsumerConfig(
            durable_name=bus.WRITER_DURABLE,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_ack_pending=self._fetch_batch * 4,
            max_deliver=-1,
            filter_subject="events.>",
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start,
        )
        await js.add_consumer(bus.EVENTS_STREAM, config)
        return await js.pull_subscribe_bind(
            bus.WRITER_DURABLE, stream=bus.EVENTS_STREAM
        )

    async def _ack_floor(self, js: JetStreamContext) -> int:
        """Where to start: after the last message acknowledged in order."""
        try:
            info = await js.consumer_info(bus.EVENTS_STREAM, bus.WRITER_DURABLE)
        except NotFoundError:
            return 1
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        await js.delete_consumer(bus.EVENTS_STREAM, bus.WRITER_DURABLE)
        logger.info("writer resumes after stream sequence %d", floor)
        return floor + 1

    async def _step(self, js: JetStreamContext, sub: Any, stop: asyncio.Event) -> None:
        try:
            messages = await sub.fetch(self._fetch_batch, timeout=1.0)
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return  # nats-py raises either when nothing arrived in time
        if not messages:  # a fetch cut short by a closing connection
            return
        outcome = await self._apply_until_stored(messages, stop)
        if outcome is None:
            return
        await self._finish(js, messages, outcome)

    async def _apply_until_stored(
        self, messages: list[Msg], stop: asyncio.Event
    ) -> Outcome | None:
        incoming = [
            Incoming(m.data, m.metadata.sequence.stream, m.subject) for m in messages
        ]
        delay = 0.5
        while not stop.is_set():
            started = time.perf_counter()
            try:
                outcome = await asyncio.to_thread(self._applier.apply, incoming)
            except StorageUnavailable:
                logger.exception("store unavailable; retrying in %.1f s", delay)
                await _keep_alive(messages)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.stats.insert_seconds += time.perf_counter() - started
            return outcome
        return None

    async def _finish(
        self, js: JetStreamContext, messages: list[Msg], outcome: Outcome
    ) -> None:
        for index, reason in outcome.dead.items():
            await self._dead_letter(js, messages[index], reason)
        for message in messages:
            await message.ack()
        self._count(messages, outcome)
        await self._announce(outcome.live)

    def _count(self, messages: list[Msg], outcome: Outcome) -> None:
        self.stats.messages += len(messages)
        self.stats.events += outcome.events
        self.stats.rows += outcome.rows
        self.stats.dead_letters += len(outcome.dead)
        self.stats.applied_stream_seq = messages[-1].metadata.sequence.stream

    async def _dead_letter(
        self, js: JetStreamContext, message: Msg, reason: str
    ) -> None:
        seq = message.metadata.sequence.stream
        logger.warning("dead-lettering stream message %d: %s", seq, reason)
        headers = {
            "Lodestar-Reason": " ".join(reason.split())[:_REASON_LIMIT],
            "Lodestar-Subject": message.subject,
            "Lodestar-Stream-Seq": str(seq),
        }
        # A dead letter that cannot be stored must not stall the stream either:
        # the reason is in the log above, and the message is acknowledged.
        try:
            await js.publish(
                bus.DEADLETTER_SUBJECT, message.data, timeout=5, headers=headers
            )
        except (nats.errors.Error, asyncio.TimeoutError):
            logger.exception("could not publish dead letter for message %d", seq)

    async def _announce(self, news: list[dict[str, Any]]) -> None:
        if self._redis is None or not news:
            return
        try:
            for item in news:
                await self._redis.publish(LIVE_CHANNEL, json.dumps(item))
        except Exception as exc:  # redis raises many types; live news is optional
            now = time.monotonic()
            if now - self._redis_failed_at > 60.0:
                logger.warning("live fan-out to Redis failed: %s", exc)
                self._redis_failed_at = now


async def _keep_alive(messages: list[Msg]) -> None:
    for message in messages:
        try:
            await message.in_progress()
        except nats.errors.Error:
            logger.debug("in-progress ack failed", exc_info=True)


def _redis_client(url: str) -> Any:
    if not url:
        return None
    import redis.asyncio

    return redis.asyncio.Redis.from_url(
        url, socket_timeout=2.0, socket_connect_timeout=2.0
    )
