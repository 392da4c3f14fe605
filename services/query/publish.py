"""Publishing a service's own events, and reading its own writes back.

The query service never writes ClickHouse. An edit or a delete becomes events
that it publishes as a `PublishedBatch` on ``events.query.<run>`` under a
random publisher id with its own sequence numbers, exactly as ingest does
with its lifecycle events. The writer applies them like any other batch and
drops a replay by (run, publisher id, seq).

Read-your-writes: after JetStream's PubAck, `AppliedWaiter.wait` waits, up to
a bound, until the writer has applied the message. With the writer in this
process (the local profile) it watches the writer's applied stream sequence;
otherwise it polls the writer's progress table for the publisher's seq.

Typical use in a route::

    published = await app.state.publisher.publish(target, [event])
    applied = await app.state.applied.wait(published)
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nats.errors
from lodestar._proto import events_pb2
from nats.js import JetStreamContext

from ..common import bus
from ..common.config import PlatformConfig
from ..writer.storage import Storage, StorageError

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0
APPLY_WAIT_S = 10.0
_POLL_S = 0.01
_PROGRESS_POLL_S = 0.05


class PublishFailed(Exception):
    """JetStream did not store the events; nothing was changed."""

    def __init__(self, msg_id: str, cause: BaseException) -> None:
        self.msg_id = msg_id
        self.cause = cause
        super().__init__(f"publishing {msg_id} failed: {cause}; try again")


@dataclass(frozen=True)
class Target:
    """The run that events are about."""

    entity: str
    project: str
    run_id: str


@dataclass(frozen=True)
class Published:
    """Where one published batch landed."""

    target: Target
    publisher_id: str
    first_seq: int
    last_seq: int
    stream_seq: int


class EventPublisher:
    """Publishes one service's events in its own numbered sequence.

    Args:
        js: a JetStream context.
        config: the platform settings (for the stream set-up).
        source: the subject prefix of this service, one of `bus.SOURCES`.
    """

    def __init__(
        self, js: JetStreamContext, config: PlatformConfig, source: str = "query"
    ) -> None:
        self.publisher_id = secrets.token_hex(16)
        self.source = source
        self._js = js
        self._config = config
        self._seq = 0
        self._lock = asyncio.Lock()
        self._streams_ready = False

    async def publish(
        self,
        target: Target,
        events: Sequence[events_pb2.Event],
        epoch: int = 0,
        user: str = "",
    ) -> Published:
        """Number `events` (bodies set by the caller), publish them as one batch.

        Raises:
            PublishFailed: JetStream did not acknowledge the batch.
        """
        if not events:
            raise ValueError("publish needs at least one event")
        subject = bus.event_subject(
            self.source, target.entity, target.project, target.run_id
        )
        async with self._lock:  # seq order must equal stream order
            await self._ensure_streams()
            batch = self._batch(target, events, epoch, user)
            first, last = batch.events[0].seq, batch.events[-1].seq
            stream_seq = await self._send(subject, batch, first, last)
            self._seq = last
        return Published(target, self.publisher_id, first, last, stream_seq)

    def _batch(
        self, target: Target, events: Sequence[events_pb2.Event], epoch: int,
        user: str,
    ) -> events_pb2.PublishedBatch:
        now = time.time()
        batch = events_pb2.PublishedBatch(
            entity=target.entity, project=target.project, run_id=target.run_id,
            publisher_id=self.publisher_id, epoch=epoch, user=user,
            published_at=now,
        )
        for offset, given in enumerate(events, start=1):
            event = batch.events.add()
            event.CopyFrom(given)
            event.seq = self._seq + offset
            event.timestamp = event.timestamp or now
        return batch

    async def _send(
        self, subject: str, batch: events_pb2.PublishedBatch, first: int, last: int
    ) -> int:
        msg_id = bus.message_id(self.publisher_id, first, last)
        try:
            ack = await self._js.publish(
                subject, batch.SerializeToString(), timeout=PUBLISH_TIMEOUT_S,
                headers={"Nats-Msg-Id": msg_id},
            )
        except (nats.errors.Error, asyncio.TimeoutError) as exc:
            raise PublishFailed(msg_id, exc) from exc
        logger.debug("published %s as stream message %d", msg_id, ack.seq)
        return int(ack.seq)

    async def _ensure_streams(self) -> None:
        if self._streams_ready:
            return
        try:
            await bus.ensure_streams(self._js, self._config)
        except (nats.errors.Error, asyncio.TimeoutError) as exc:
            raise PublishFailed("(stream set-up)", exc) from exc
        self._streams_ready = True


class AppliedWaiter:
    """Waits until the writer has applied a published batch.

    Args:
        applied_stream_seq: the embedded writer's applied stream sequence,
            or None when the writer runs elsewhere.
        storage: the store, read for the writer's progress marks otherwise.
    """

    def __init__(
        self, applied_stream_seq: Callable[[], int | None], storage: Storage
    ) -> None:
        self._applied_stream_seq = applied_stream_seq
        self._storage = storage

    async def wait(self, published: Published, timeout_s: float = APPLY_WAIT_S) -> bool:
        """True once `published` is applied; False when `timeout_s` ran out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if await self._applied(published):
                return True
            if time.monotonic() >= deadline:
                logger.warning("stream message %d not applied within %.1f s",
                               published.stream_seq, timeout_s)
                return False
            embedded = self._applied_stream_seq() is not None
            await asyncio.sleep(_POLL_S if embedded else _PROGRESS_POLL_S)

    async def _applied(self, published: Published) -> bool:
        seen = self._applied_stream_seq()
        if seen is not None:
            return seen >= published.stream_seq
        try:
            return await asyncio.to_thread(self._progress_reached, published)
        except StorageError as exc:
            logger.debug("progress not readable yet: %s", exc)
            return False

    def _progress_reached(self, published: Published) -> bool:
        target = published.target
        rows = self._storage.query(
            "SELECT max(max_seq) AS seq FROM publisher_progress "
            "WHERE entity = {e:String} AND project = {p:String} "
            "AND run_id = {r:String} AND publisher_id = {w:String}",
            {"e": target.entity, "p": target.project, "r": target.run_id,
             "w": published.publisher_id},
        )
        return bool(rows) and int(rows[0]["seq"] or 0) >= published.last_seq


def embedded_applied(app_state: object) -> Callable[[], int | None]:
    """A getter of the in-process writer's applied stream sequence."""

    def applied() -> int | None:
        writer = getattr(app_state, "writer", None)
        return None if writer is None else writer.stats.applied_stream_seq

    return applied
