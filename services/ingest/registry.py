"""The run registry: one record per run in the ``runs`` KV bucket.

Ingest is its only writer. Every change is a compare-and-set on the key's
revision, retried on conflict, so decisions such as "this id is new" are
atomic across ingest processes: two streams that open the same new run with
``resume="never"`` cannot both win.

A record: ``{"state", "epoch", "max_step", "wals": {wal_id: highest seq
published}, "created_at", "user", "name", "origin_wal", "config",
"summary"}``. ``config`` and ``summary`` are kept so that a run resumed on a
machine without its WAL gets them back in `Opened`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from .errors import Unavailable

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 64
TIMEOUT_S = 5.0


@dataclass
class RunRecord:
    """What the registry knows of one run."""

    state: str = "running"
    epoch: int = 0
    max_step: int = -1
    wals: dict[str, int] = field(default_factory=dict)
    created_at: float = 0.0
    user: str = ""
    name: str = ""
    origin_wal: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    state_reason: str = ""          # why ingest decided the state, if it did
    preempting: bool = False        # the process said it will be preempted

    def dumps(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def loads(cls, raw: bytes) -> RunRecord:
        data = json.loads(raw)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Versioned:
    """A record and the revision it was read at (0: the key does not exist)."""

    record: RunRecord | None
    revision: int


Change = Callable[[RunRecord | None], RunRecord | None]


class Registry:
    """Reads and changes run records with compare-and-set."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def read(self, key: str) -> Versioned:
        """The current record of `key`."""
        try:
            entry = await asyncio.wait_for(self._kv.get(key), TIMEOUT_S)
        except KeyNotFoundError:
            return Versioned(None, 0)
        except (NatsError, asyncio.TimeoutError) as exc:
            raise Unavailable("reading the run registry", exc) from exc
        if entry.value is None:
            return Versioned(None, entry.revision or 0)
        return Versioned(RunRecord.loads(entry.value), entry.revision or 0)

    async def change(
        self, key: str, change: Change, known: Versioned | None = None
    ) -> Versioned:
        """Apply `change` to the record of `key` atomically.

        `change` gets a copy of the current record (None when there is none)
        and returns the new one, or None to leave the record as it is. It may
        be called several times when other writers get in first, and may
        raise to refuse.

        Args:
            key: the run's key, `bus.run_key(...)`.
            change: the pure function computing the new record.
            known: a recent read, saving one round trip when still current.
        """
        current = known or await self.read(key)
        for _ in range(MAX_ATTEMPTS):
            copy = _copy(current.record)
            updated = change(copy)
            if updated is None:
                return current
            written = await self._write(key, updated, current.revision)
            if written is not None:
                return Versioned(updated, written)
            current = await self.read(key)
        raise Unavailable(
            "the run registry", RuntimeError(f"{MAX_ATTEMPTS} conflicting writes")
        )

    async def _write(self, key: str, record: RunRecord, revision: int) -> int | None:
        """The new revision, or None when someone else changed the key first."""
        try:
            if revision == 0:
                call = self._kv.create(key, record.dumps())
            else:
                call = self._kv.update(key, record.dumps(), last=revision)
            return await asyncio.wait_for(call, TIMEOUT_S)
        except KeyWrongLastSequenceError:
            logger.debug("registry key %s changed under us; retrying", key)
            return None
        except (NatsError, asyncio.TimeoutError) as exc:
            raise Unavailable("writing the run registry", exc) from exc


def _copy(record: RunRecord | None) -> RunRecord | None:
    return None if record is None else RunRecord.loads(record.dumps())
