"""Publishing to JetStream: a WAL's batches, and ingest's own lifecycle events.

One received batch becomes one `PublishedBatch` with the message id
``<wal_id>:<first seq>:<last seq>``. A batch larger than the stream's
``max_payload`` is cut into several messages, each with the id of its own
range. Lifecycle events that ingest decides (a crash reported by the agent, a
rewind) are published under ingest's random publisher id with its own
sequence numbers.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from lodestar._proto import events_pb2
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from .errors import Unavailable
from .metrics import Metrics

PUBLISH_TIMEOUT_S = 10.0
ENVELOPE_BYTES = 64 * 1024  # room for the batch's own fields and headers


class Publisher:
    """Publishes batches and waits for JetStream's acknowledgement."""

    def __init__(
        self, js: JetStreamContext, max_payload: int, metrics: Metrics
    ) -> None:
        self.publisher_id = secrets.token_hex(16)
        self.max_event_bytes = max_payload - ENVELOPE_BYTES
        self._js = js
        self._metrics = metrics
        self._seq = 0
        self._lock = asyncio.Lock()

    async def publish_events(
        self, subject: str, envelope: events_pb2.PublishedBatch,
        events: list[events_pb2.Event],
    ) -> None:
        """Publish `events` (ascending, each under the size limit) with `envelope`."""
        for chunk in self._chunks(events):
            batch = events_pb2.PublishedBatch()
            batch.CopyFrom(envelope)
            batch.events.extend(chunk)
            await self._publish(subject, batch, chunk[0].seq, chunk[-1].seq)
        self._metrics.add("events_published_total", len(events))

    async def publish_lifecycle(
        self, subject: str, envelope: events_pb2.PublishedBatch,
        lifecycle: events_pb2.Lifecycle, at: float | None = None,
    ) -> None:
        """Publish one lifecycle event as ingest itself."""
        async with self._lock:  # keeps this publisher's sequence in stream order
            self._seq += 1
            event = events_pb2.Event(seq=self._seq, timestamp=at or time.time())
            event.lifecycle.CopyFrom(lifecycle)
            batch = events_pb2.PublishedBatch()
            batch.CopyFrom(envelope)
            batch.publisher_id = self.publisher_id
            batch.events.append(event)
            await self._publish(subject, batch, self._seq, self._seq)

    def _chunks(self, events: list[events_pb2.Event]):
        chunk: list[events_pb2.Event] = []
        size = 0
        for event in events:
            event_size = event.ByteSize() + 8
            if chunk and size + event_size > self.max_event_bytes:
                yield chunk
                chunk, size = [], 0
            chunk.append(event)
            size += event_size
        if chunk:
            yield chunk

    async def _publish(
        self, subject: str, batch: events_pb2.PublishedBatch, first: int, last: int
    ) -> None:
        batch.published_at = time.time()
        msg_id = f"{batch.publisher_id}:{first}:{last}"
        try:
            await self._js.publish(
                subject,
                batch.SerializeToString(),
                timeout=PUBLISH_TIMEOUT_S,
                headers={"Nats-Msg-Id": msg_id},
            )
        except (NatsError, asyncio.TimeoutError) as exc:
            raise Unavailable(f"publishing {msg_id} to JetStream", exc) from exc
        self._metrics.add("messages_published_total")
