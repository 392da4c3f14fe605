"""Alert and delivery records in the ``alert_deliveries`` KV bucket.

Keys:

- ``alert.<alert_id>``: the alert as fired (`AlertRecord`), made with KV
  create, so an event delivered twice raises its alert once.
- ``open.<alert_id>.<channel_id>``: a delivery still to be made
  (`DeliveryRecord`, status ``pending``, ``sending`` or ``retrying``). It is
  written before each attempt (``sending``) and after it, so a restart of the
  service repeats at most the attempt that was in flight.
- ``done.<alert_id>.<channel_id>``: a delivery that ended (``sent`` or
  ``failed``); its ``open`` key is then purged. At start the service reads
  only the ``open`` keys.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from nats.js.errors import (
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

logger = logging.getLogger(__name__)

MAX_ATTEMPT_LOG = 25
TERMINAL = ("sent", "failed")


@dataclass(frozen=True)
class AlertRecord:
    alert_id: str
    kind: str
    rule: str
    title: str
    text: str
    level: int
    entity: str
    project: str
    run_id: str
    run_name: str
    run_url: str
    event_time: float
    fired_at: float
    paged: bool
    reason: str = ""
    channels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertRecord:
        return cls(**{**data, "channels": tuple(data.get("channels", ()))})


@dataclass
class DeliveryRecord:
    """One alert's delivery to one channel, and the log of its attempts."""

    alert_id: str
    channel_id: str
    status: str = "pending"
    attempt: int = 0
    next_at: float = 0.0
    error: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        state = "done" if self.status in TERMINAL else "open"
        return f"{state}.{self.alert_id}.{self.channel_id}"

    def note(self, status: str, error: str, at: float) -> None:
        """Record the outcome of the current attempt."""
        self.status, self.error = status, error
        self.attempts.append(
            {"attempt": self.attempt, "status": status, "error": error, "at": at}
        )
        del self.attempts[:-MAX_ATTEMPT_LOG]


class Ledger:
    """Reads and writes alert and delivery records."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def exists(self, alert_id: str) -> bool:
        return await self._get(f"alert.{alert_id}") is not None

    async def create(self, alert: AlertRecord, at: float) -> list[DeliveryRecord]:
        """Store `alert` and one pending delivery per channel; [] when it existed."""
        try:
            await self._kv.create(f"alert.{alert.alert_id}", _dump(alert.to_json()))
        except KeyWrongLastSequenceError:
            return []
        deliveries = [DeliveryRecord(alert.alert_id, c, next_at=at)
                      for c in alert.channels]
        for delivery in deliveries:
            await self.save(delivery)
        return deliveries

    async def alert(self, alert_id: str) -> AlertRecord | None:
        data = await self._get(f"alert.{alert_id}")
        return None if data is None else AlertRecord.from_json(data)

    async def save(self, delivery: DeliveryRecord) -> None:
        await self._kv.put(delivery.key, _dump(asdict(delivery)))
        if delivery.status in TERMINAL:
            await self._kv.purge(f"open.{delivery.alert_id}.{delivery.channel_id}")

    async def delivery(self, alert_id: str, channel_id: str) -> DeliveryRecord | None:
        for state in ("done", "open"):
            data = await self._get(f"{state}.{alert_id}.{channel_id}")
            if data is not None:
                return DeliveryRecord(**data)
        return None

    async def open_deliveries(self) -> list[DeliveryRecord]:
        """Every delivery not yet sent or failed (read once, at start)."""
        keys = await self._keys("open.>")
        found = []
        for key in keys:
            _, alert_id, channel_id = key.split(".", 2)
            record = await self.delivery(alert_id, channel_id)
            if record is not None and record.status not in TERMINAL:
                found.append(record)
        return found

    async def _keys(self, pattern: str) -> list[str]:
        watcher = await self._kv.watch(pattern, ignore_deletes=True, meta_only=True)
        keys = []
        try:
            async for entry in watcher:
                if entry is None:
                    break
                keys.append(entry.key)
        finally:
            await watcher.stop()
        return keys

    async def _get(self, key: str) -> dict[str, Any] | None:
        try:
            entry = await self._kv.get(key)
        except (KeyNotFoundError, KeyDeletedError):
            return None
        return json.loads(entry.value) if entry.value else None


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()
