"""The last heartbeat of every run, kept in Redis.

Key ``lodestar:hb:<run key>``, value the unix time of the heartbeat. Redis
being down must not stop ingestion: a heartbeat that cannot be stored is
counted and logged, and the stream goes on.
"""

from __future__ import annotations

import logging
import time

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from .metrics import Metrics

logger = logging.getLogger(__name__)

PREFIX = "lodestar:hb:"
TTL_S = 30 * 86400
TIMEOUT_S = 2.0
LOG_EVERY_S = 60.0


def heartbeat_key(run_key: str) -> str:
    return PREFIX + run_key


class Heartbeats:
    """Writes heartbeats; one instance per ingest process."""

    def __init__(self, redis_url: str, metrics: Metrics) -> None:
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self._metrics = metrics
        self._logged_at = 0.0

    async def beat(self, run_key: str, at: float | None = None) -> None:
        """Record that the run is alive at `at` (now by default)."""
        at = time.time() if at is None else at
        try:
            await self._redis.set(heartbeat_key(run_key), repr(at), ex=TTL_S)
        except (RedisError, OSError) as exc:
            self._metrics.add("heartbeat_errors_total")
            self._log_failure(exc)
            return
        self._metrics.add("heartbeats_total")

    async def age(self, run_key: str) -> float | None:
        """Seconds since the run's last heartbeat; None when unknown."""
        try:
            raw = await self._redis.get(heartbeat_key(run_key))
        except (RedisError, OSError) as exc:
            self._log_failure(exc)
            return None
        return None if raw is None else max(0.0, time.time() - float(raw))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()

    def _log_failure(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            logger.warning("cannot record heartbeats in Redis: %s", exc)
