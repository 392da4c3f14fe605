"""Rule state kept in Redis, so that a restart of the service loses nothing.

- ``<prefix>streak:<rule>:<run key>``: a threshold rule's run of breaching
  steps ``{"count", "last_step", "fired"}``. Steps at or below `last_step` were
  counted before, so a batch delivered twice does not count twice.
- ``<prefix>stall:<rule>``: a sorted set of run keys scored by when the run
  last made progress (server time); a run leaves it when it ends, or when its
  stall has been reported, and comes back with its next step.
- ``<prefix>wait:<run key>:<title hash>``: when an alert of that title last
  paged (its event time), for ``wait_duration``. These are the rate limits.
- ``<prefix>hold:<channel>``: a receiver's retry-after, until which nothing is
  sent to that channel.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import Rule

STREAK_TTL_S = 30 * 86400


@dataclass(frozen=True)
class Point:
    step: int
    value: float
    time: float


class RuleState:
    """Reads and writes the service's Redis keys."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    # ---- threshold streaks ------------------------------------------------------

    async def streak(self, rule: Rule, run: str, points: list[Point]) -> Point | None:
        """Count breaching steps; the point that completes a streak, if any."""
        key = f"{self.prefix}streak:{rule.id}:{run}"
        stored = await self.redis.get(key)
        state = json.loads(stored) if stored else {
            "count": 0, "last_step": -(2**63), "fired": False}
        completed = _advance(rule, state, points)
        await self.redis.set(key, json.dumps(state), ex=STREAK_TTL_S)
        return completed

    # ---- stalls -----------------------------------------------------------------

    async def progressed(self, rules: Iterable[Rule], run: str, at: float) -> None:
        for rule in rules:
            await self.redis.zadd(f"{self.prefix}stall:{rule.id}", {run: at})

    async def ended(self, rules: Iterable[Rule], run: str) -> None:
        for rule in rules:
            await self.redis.zrem(f"{self.prefix}stall:{rule.id}", run)

    async def stalled(self, rule: Rule, now: float) -> list[tuple[str, float]]:
        """Runs of `rule` without progress for its interval; each is reported once."""
        key = f"{self.prefix}stall:{rule.id}"
        found = await self.redis.zrangebyscore(
            key, "-inf", now - rule.stall_s, withscores=True
        )
        runs = [(_text(member), float(score)) for member, score in found]
        if runs:
            await self.redis.zrem(key, *[run for run, _ in runs])
        return runs

    # ---- wait_duration -----------------------------------------------------------

    async def waiting(self, run: str, title: str, event_time: float, wait_s: float
                      ) -> bool:
        """True when an alert of `title` paged less than `wait_s` before."""
        if wait_s <= 0:
            return False
        key = self._wait_key(run, title)
        last = await self.redis.get(key)
        return last is not None and event_time - float(last) < wait_s

    async def paged(self, run: str, title: str, event_time: float, wait_s: float
                    ) -> None:
        if wait_s > 0:
            ttl = max(1, math.ceil(wait_s))
            await self.redis.set(self._wait_key(run, title), repr(event_time), ex=ttl)

    def _wait_key(self, run: str, title: str) -> str:
        digest = hashlib.sha256(title.encode("utf-8")).hexdigest()[:24]
        return f"{self.prefix}wait:{run}:{digest}"

    # ---- channel holds -------------------------------------------------------------

    async def hold(self, channel_id: str, until: float, now: float) -> None:
        ttl = max(1, math.ceil(until - now))
        await self.redis.set(f"{self.prefix}hold:{channel_id}", repr(until), ex=ttl)

    async def held_until(self, channel_id: str) -> float:
        value = await self.redis.get(f"{self.prefix}hold:{channel_id}")
        return float(value) if value else 0.0


def _advance(rule: Rule, state: dict[str, Any], points: list[Point]) -> Point | None:
    completed = None
    for point in sorted(points, key=lambda p: p.step):
        if point.step <= state["last_step"]:
            continue
        state["last_step"] = point.step
        if not rule.breached(point.value):
            state["count"], state["fired"] = 0, False
            continue
        state["count"] += 1
        if state["count"] >= rule.steps and not state["fired"]:
            state["fired"] = True
            completed = completed or point
    return completed


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
