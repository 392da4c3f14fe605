"""Live updates for the dashboard: the writer's Redis fan-out as server-sent events.

After each insert the writer publishes, per run touched, ``{"entity",
"project", "run_id", "max_step", "stream_seq"}`` on Redis channel
``lodestar:live``. One subscriber task per query process reads the channel
and hands each message to the open event streams whose entity, project (and
run, when given) match. A page thus learns within the writer's batch time
that a run has new rows, and fetches only then: no page polls the API.

Events are ``event: applied`` with the writer's JSON as data; a comment line
every `KEEPALIVE_S` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

CHANNEL = "lodestar:live"
KEEPALIVE_S = 15.0
QUEUE_SIZE = 256
RETRY_S = (0.5, 5.0)


@dataclass(frozen=True)
class Watch:
    """What one event stream wants: a project, or one run of it."""

    entity: str
    project: str = ""
    run_id: str = ""

    def wants(self, news: dict[str, Any]) -> bool:
        if news.get("entity") != self.entity:
            return False
        if self.project and news.get("project") != self.project:
            return False
        return not self.run_id or news.get("run_id") == self.run_id


@dataclass
class LiveHub:
    """Fans the Redis channel out to the open streams of this process."""

    redis_url: str
    streams: dict[asyncio.Queue, Watch] = field(default_factory=dict)
    received: int = 0

    async def run(self) -> None:
        """Follow the channel until cancelled; reconnect after a failure."""
        pause = RETRY_S[0]
        while True:
            try:
                await self._follow()
                pause = RETRY_S[0]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # redis raises many types; retry them all
                logger.warning("live channel lost (%s); retrying in %.1f s", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_S[1])

    async def _follow(self) -> None:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(
            self.redis_url, socket_connect_timeout=2.0, health_check_interval=30
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(CHANNEL)
            while True:
                message = await pubsub.get_message(timeout=KEEPALIVE_S)
                if message is not None:
                    self.deliver(message.get("data"))
        finally:
            await pubsub.aclose()
            await client.aclose()

    def deliver(self, data: Any) -> None:
        """Hand one channel message to every stream that wants it."""
        try:
            news = json.loads(data)
        except (TypeError, ValueError):
            logger.debug("ignoring a live message that is not JSON: %r", data)
            return
        self.received += 1
        for queue, watch in list(self.streams.items()):
            if watch.wants(news):
                _offer(queue, news)

    async def events(self, watch: Watch) -> AsyncIterator[str]:
        """Server-sent event text for one client, until it goes away."""
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        self.streams[queue] = watch
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                try:
                    news = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                yield f"event: applied\ndata: {json.dumps(news)}\n\n"
        finally:
            self.streams.pop(queue, None)


def _offer(queue: asyncio.Queue, news: dict[str, Any]) -> None:
    # A slow client loses the oldest news, never blocks the others: every
    # message only says "fetch again", so the newest one is enough.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(news)
