"""Heartbeat silence: ``running`` → ``unreachable`` → ``crashed``, and back.

Silence is measured on an *uptime clock*, not the wall clock: a number of
seconds in Redis (``lodestar:uptime``) that only advances while an ingest
process ticks it. Every heartbeat files its run in the sorted set
``lodestar:alive`` with the clock's value as score, so a run's silence is
``clock - score``. When the whole platform is down nothing ticks the clock,
and an outage never turns healthy runs into crashed ones.

One ingest process at a time ticks (it holds ``lodestar:liveness-leader``
with a short expiry). Each tick it:

- adds the time since its previous tick to the clock (at most two ticks, so a
  paused or restarted process adds no downtime);
- marks ``unreachable`` the running runs silent for `unreachable_after`
  (2.5 heartbeat intervals), and ``crashed`` those silent for that plus
  `PlatformConfig.crash_grace_s`;
- forgets runs that ended.

Each change is a registry compare-and-set, then a ``Lifecycle`` event that
ingest publishes as itself. A heartbeat from a run marked silent puts it back
to ``running`` (`Liveness.alive`). Redis being down stops the clock: no run
changes state until it answers again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from lodestar._proto import events_pb2
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ..common import bus
from ..common.config import PlatformConfig
from .errors import Unavailable
from .registry import Registry, RunRecord

logger = logging.getLogger(__name__)

CLOCK = "lodestar:uptime"
ALIVE = "lodestar:alive"
SILENT = "lodestar:silent"
LEADER = "lodestar:liveness-leader"
TIMEOUT_S = 2.0
TIMEOUT_REASON = "heartbeat timeout"
_STATE = events_pb2.RunState


@dataclass(frozen=True)
class RunIds:
    entity: str
    project: str
    run_id: str

    def member(self) -> str:
        return json.dumps([self.entity, self.project, self.run_id])

    @property
    def key(self) -> str:
        return bus.run_key(self.entity, self.project, self.run_id)

    @classmethod
    def parse(cls, member: bytes | str) -> RunIds:
        entity, project, run_id = json.loads(member)
        return cls(entity, project, run_id)


@dataclass(frozen=True)
class Timing:
    """Thresholds in seconds of ingest uptime."""

    unreachable_after: float
    crashed_after: float
    tick: float

    @classmethod
    def of(cls, config: PlatformConfig) -> Timing:
        interval = max(config.heartbeat_interval_s, 0.05)
        unreachable = 2.5 * interval
        return cls(unreachable, unreachable + max(config.crash_grace_s, 0.0),
                   min(max(interval / 2, 0.05), 5.0))


Announce = Callable[[RunIds, RunRecord, events_pb2.Lifecycle], Awaitable[None]]


class Liveness:
    """Tracks heartbeats on the uptime clock and decides silent runs' states.

    Args:
        redis_url: the Redis holding the clock and the sets.
        registry: the run registry.
        timing: thresholds and tick.
        announce: publishes a lifecycle event of a run as ingest.
    """

    def __init__(
        self, redis_url: str, registry: Registry, timing: Timing, announce: Announce
    ) -> None:
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self._registry = registry
        self.timing = timing
        self._announce = announce
        self._id = secrets.token_hex(8)
        self._clock = 0.0
        self._ticked_at = 0.0

    async def start(self) -> None:
        """Read the clock, so the first heartbeats get the right score."""
        try:
            self._clock = float(await self._redis.get(CLOCK) or 0.0)
        except (RedisError, OSError) as exc:
            logger.warning("uptime clock not readable yet: %s", exc)

    async def close(self) -> None:
        """Hand the lead over at once (another process takes the next tick)."""
        try:
            holder = await self._redis.get(LEADER)
            if _text(holder) == self._id:
                await self._redis.delete(LEADER)
        except (RedisError, OSError) as exc:
            logger.debug("lead not released: %s", exc)
        await self._redis.aclose()

    async def alive(self, run: RunIds) -> bool:
        """Record a sign of life; True when the run was marked silent."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.zadd(ALIVE, {run.member(): self._clock})
                pipe.srem(SILENT, run.member())
                _, was_silent = await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.debug("liveness not recorded: %s", exc)
            return False
        return bool(was_silent)

    async def revive(self, run: RunIds) -> RunRecord | None:
        """Put a silent run back to running; the record when it changed."""
        revival = _Revival()
        record = (await self._registry.change(run.key, revival)).record
        if record is None or not revival.changed:
            return None
        lifecycle = events_pb2.Lifecycle(
            state=_STATE.RUNNING, reason="heartbeats are back", epoch=record.epoch
        )
        await self._announce(run, record, lifecycle)
        logger.info("run %s: running again", run.key)
        return record

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; a failed tick is logged and skipped."""
        while not stop.is_set():
            try:
                await self.tick()
            except (RedisError, OSError, Unavailable) as exc:
                logger.warning("liveness check skipped: %s", exc)
            except Exception:  # the loop must survive; the next tick retries
                logger.exception("liveness check failed")
            try:
                await asyncio.wait_for(stop.wait(), self.timing.tick)
            except asyncio.TimeoutError:
                pass

    async def tick(self) -> None:
        """One round: advance the clock if leading, then judge silent runs."""
        now = time.monotonic()
        elapsed = min(now - self._ticked_at, 2 * self.timing.tick)
        self._ticked_at = now
        if not await self._lead():
            self._clock = float(await self._redis.get(CLOCK) or 0.0)
            return
        self._clock = float(await self._redis.incrbyfloat(CLOCK, max(elapsed, 0.0)))
        limit = self._clock - self.timing.unreachable_after
        silent: list[Any] = await self._redis.zrangebyscore(
            ALIVE, "-inf", limit, withscores=True
        )
        for member, score in silent:
            await self._judge(RunIds.parse(member), self._clock - float(score))

    async def _lead(self) -> bool:
        expiry = max(int(self.timing.tick * 3000), 1000)
        if await self._redis.set(LEADER, self._id, nx=True, px=expiry):
            return True
        if _text(await self._redis.get(LEADER)) == self._id:
            await self._redis.pexpire(LEADER, expiry)
            return True
        return False

    async def _judge(self, run: RunIds, silence: float) -> None:
        state = "crashed" if silence >= self.timing.crashed_after else "unreachable"
        decision = _Silence(state)
        record = (await self._registry.change(run.key, decision)).record
        if record is None or record.state not in ("running", "unreachable"):
            await self._redis.zrem(ALIVE, run.member())  # ended, crashed or gone
        if record is None or not decision.changed:
            return
        await self._redis.sadd(SILENT, run.member())
        await self._announce_silence(run, record, state, silence)

    async def _announce_silence(
        self, run: RunIds, record: RunRecord, state: str, silence: float
    ) -> None:
        lifecycle = events_pb2.Lifecycle(
            state=_STATE.Value(state.upper()), epoch=record.epoch,
            reason=f"{TIMEOUT_REASON}: no heartbeat for {silence:.0f} s of uptime",
        )
        await self._announce(run, record, lifecycle)
        logger.info("run %s: %s after %.1f s of silence", run.key, state, silence)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class _Silence:
    """The registry change for silence: running → unreachable → crashed."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.changed = False

    def __call__(self, record: RunRecord | None) -> RunRecord | None:
        self.changed = False
        if record is None:
            return None
        if record.state == "running" or (
            record.state == "unreachable" and self.state == "crashed"
        ):
            record.state = self.state
            record.state_reason = TIMEOUT_REASON
            self.changed = True
            return record
        return None


class _Revival:
    """The registry change for heartbeats after silence: back to running."""

    def __init__(self) -> None:
        self.changed = False

    def __call__(self, record: RunRecord | None) -> RunRecord | None:
        self.changed = False
        if record is None or record.state not in ("unreachable", "crashed"):
            return None
        if record.state_reason != TIMEOUT_REASON:
            return None  # a crash the agent reported stays a crash
        record.state = "running"
        record.state_reason = ""
        self.changed = True
        return record
