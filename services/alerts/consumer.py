"""The alerts service's durable JetStream consumer on ``events.>``.

It fetches whole batches of messages, evaluates them in stream order and
acknowledges each message once its alerts are recorded. When Redis or NATS
fails, the same message is retried (with in-progress acks) rather than
skipped, so no alert is lost; a message that cannot be decoded or evaluated
is logged and acknowledged, so it cannot stall the stream. Its own
``events.alerts.*`` messages are skipped by subject, without decoding.

The consumer is created the first time with ``DeliverPolicy.NEW``: the
service watches what happens from its first start on, not the stream's
history. At every later start it is re-created at its acknowledgement floor,
so messages left unacknowledged by a killed service come first again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import nats.errors
from google.protobuf.message import DecodeError
from lodestar._proto import events_pb2
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from redis.exceptions import RedisError

from ..common import bus
from .evaluate import Evaluator
from .pager import Pager
from .settings import AlertsSettings

logger = logging.getLogger(__name__)

OWN_SUBJECTS = "events.alerts."
ACK_WAIT_S = 60.0
_RETRY_MAX_S = 10.0
_FETCH_RETRY_S = 1.0
_OUTAGES = (OSError, asyncio.TimeoutError, nats.errors.Error, RedisError)


class AlertConsumer:
    """Feeds the stream's batches to the evaluator and the pager."""

    def __init__(
        self, js: JetStreamContext, evaluator: Evaluator, pager: Pager,
        settings: AlertsSettings,
    ) -> None:
        self._js = js
        self._evaluator = evaluator
        self._pager = pager
        self._settings = settings
        self.messages = 0
        self.ready = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set."""
        sub = await self._subscribe()
        self.ready.set()
        logger.info("alerts consuming %s as %s", bus.EVENTS_STREAM,
                    self._settings.durable)
        while not stop.is_set():
            try:
                messages = await sub.fetch(self._settings.fetch_batch, timeout=1.0)
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                continue  # nats-py raises either, depending on when it gave up
            except nats.errors.Error as exc:  # a JetStream status; ask again
                logger.warning("alerts: fetch failed (%r); asking again", exc)
                await asyncio.sleep(_FETCH_RETRY_S)
                continue
            for message in messages:
                await self._until_handled(message, stop)

    async def _subscribe(self) -> Any:
        durable = self._settings.durable
        config = ConsumerConfig(
            durable_name=durable, ack_policy=AckPolicy.EXPLICIT,
            ack_wait=ACK_WAIT_S, max_ack_pending=self._settings.fetch_batch * 4,
            max_deliver=-1, filter_subject="events.>",
            deliver_policy=DeliverPolicy.NEW,
        )
        floor = await self._ack_floor(durable)
        if floor is not None:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = floor + 1
        await self._js.add_consumer(bus.EVENTS_STREAM, config)
        return await self._js.pull_subscribe_bind(durable, stream=bus.EVENTS_STREAM)

    async def _ack_floor(self, durable: str) -> int | None:
        try:
            info = await self._js.consumer_info(bus.EVENTS_STREAM, durable)
        except NotFoundError:
            return None
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        await self._js.delete_consumer(bus.EVENTS_STREAM, durable)
        logger.info("alerts resume after stream sequence %d", floor)
        return floor

    async def _until_handled(self, message: Msg, stop: asyncio.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                await self._handle(message)
                await message.ack()
                self.messages += 1
                return
            except _OUTAGES:  # a store failed; the message is kept and retried
                logger.exception("alerts: message %d failed; retrying in %.1f s",
                                 message.metadata.sequence.stream, delay)
                await _keep_alive(message)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)
            except (ValueError, LookupError, TypeError, ArithmeticError):
                # a batch this code cannot judge must not stall the stream
                logger.exception("alerts: message %d cannot be evaluated; skipped",
                                 message.metadata.sequence.stream)
                await message.ack()
                return

    async def _handle(self, message: Msg) -> None:
        if message.subject.startswith(OWN_SUBJECTS):
            return
        try:
            batch = events_pb2.PublishedBatch.FromString(message.data)
        except DecodeError:
            logger.warning("alerts: stream message %d is not a batch; skipped",
                           message.metadata.sequence.stream)
            return
        now = time.time()
        for fired in await self._evaluator.evaluate(batch, now):
            await self._pager.handle(fired, now)


async def _keep_alive(message: Msg) -> None:
    try:
        await message.in_progress()
    except nats.errors.Error:
        logger.debug("in-progress ack failed", exc_info=True)
