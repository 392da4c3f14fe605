"""What the alerts service knows of each run: name, group, tags, owner, state.

Learned from the stream itself (``RunStart``, ``Edit``, ``Finish``,
``Lifecycle``) and kept in Redis, with a bounded copy in memory, so rules
scoped to a group or a tag and messages naming the run work after a restart.
A run first seen in the middle (the service started after it) is known by
its id until its name is learned.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..common.bus import run_key

logger = logging.getLogger(__name__)

MEMORY_RUNS = 20_000
REDIS_TTL_S = 90 * 86400


@dataclass(frozen=True)
class RunInfo:
    entity: str
    project: str
    run_id: str
    name: str = ""
    group: str = ""
    tags: tuple[str, ...] = ()
    user: str = ""
    ended: bool = False

    @property
    def key(self) -> str:
        return run_key(self.entity, self.project, self.run_id)

    @property
    def label(self) -> str:
        return self.name or self.run_id

    def url(self, public_url: str) -> str:
        parts = (self.entity, self.project, self.run_id)
        path = "/".join(urllib.parse.quote(p, safe="") for p in parts)
        return f"{public_url.rstrip('/')}/#/{path}"


@dataclass
class RunBook:
    """Run facts in memory, backed by Redis hashes ``<prefix>run:<run key>``."""

    redis: Any
    prefix: str
    _memory: OrderedDict[str, RunInfo] = field(default_factory=OrderedDict)

    async def get(self, entity: str, project: str, run_id: str) -> RunInfo:
        key = run_key(entity, project, run_id)
        known = self._memory.get(key)
        if known is not None:
            self._memory.move_to_end(key)
            return known
        stored = await self.redis.get(self.prefix + "run:" + key)
        if stored:
            data = json.loads(stored)
            info = RunInfo(**{**data, "tags": tuple(data.get("tags", ()))})
        else:
            info = RunInfo(entity, project, run_id)
        self._remember(info)
        return info

    async def update(self, info: RunInfo, **changes: Any) -> RunInfo:
        """Store `info` with `changes`; returns the new facts."""
        if "tags" in changes:
            changes["tags"] = tuple(changes["tags"])
        new = replace(info, **changes)
        if new == info:
            return info
        self._remember(new)
        await self.redis.set(
            self.prefix + "run:" + new.key, json.dumps(asdict(new)), ex=REDIS_TTL_S
        )
        return new

    def _remember(self, info: RunInfo) -> None:
        self._memory[info.key] = info
        self._memory.move_to_end(info.key)
        while len(self._memory) > MEMORY_RUNS:
            self._memory.popitem(last=False)
