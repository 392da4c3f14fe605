"""Channels, subscriptions, rules and switches in the alerts KV bucket.

Keys: ``channel.<id>``, ``sub.<id>``, ``rule.<id>``, ``switch.user.<user>``
and ``switch.project.<entity>.<project>`` (names encoded with
`names.encode_token`); values are the records' JSON. Every instance keeps an
in-memory copy current through a KV watch, so evaluating a batch costs
dictionary look-ups; a write is also applied to the copy at once, so the API
reads its own writes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from nats.js.kv import KeyValue

from ..common.names import encode_token
from .model import Channel, Rule, Subscription, Switch

logger = logging.getLogger(__name__)

_KINDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "channel": Channel.from_json,
    "sub": Subscription.from_json,
    "rule": Rule.from_json,
}


def switch_key(user: str = "", entity: str = "", project: str = "") -> str:
    if user:
        return f"switch.user.{encode_token(user)}"
    return f"switch.project.{encode_token(entity)}.{encode_token(project)}"


class ConfigStore:
    """The service's configuration, read from memory, written to KV."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.subscriptions: dict[str, Subscription] = {}
        self.rules: dict[str, Rule] = {}
        self.switches: dict[str, Switch] = {}
        self.ready = asyncio.Event()
        self._kv: KeyValue | None = None
        self._watched: dict[tuple[str, str], frozenset[str]] = {}

    async def follow(self, kv: KeyValue) -> None:
        """Apply every change of the bucket; returns only when cancelled."""
        self._kv = kv
        watcher = await kv.watchall()
        async for entry in watcher:
            if entry is None:
                self.ready.set()
                continue
            deleted = entry.operation in ("DEL", "PURGE") or not entry.value
            self._apply(entry.key, None if deleted else json.loads(entry.value))

    # ---- writes ------------------------------------------------------------

    async def put(self, record: Channel | Subscription | Rule) -> None:
        key = f"{_prefix(record)}.{record.id}"
        await self._put_json(key, record.to_json())

    async def remove(self, prefix: str, ident: str) -> None:
        key = f"{prefix}.{ident}"
        await self._require_kv().delete(key)
        self._apply(key, None)

    async def put_switch(self, switch: Switch) -> None:
        key = switch_key(switch.user, switch.entity, switch.project)
        await self._put_json(key, switch.to_json())

    async def _put_json(self, key: str, value: dict[str, Any]) -> None:
        await self._require_kv().put(key, json.dumps(value).encode())
        self._apply(key, value)

    def _require_kv(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("the configuration bucket is not open yet")
        return self._kv

    # ---- reads -------------------------------------------------------------

    def targets(
        self, entity: str, project: str, kind: str, level: int
    ) -> list[tuple[Subscription, Channel]]:
        """The subscriptions (and their channels) an alert goes to."""
        found = []
        for sub in self.subscriptions.values():
            channel = self.channels.get(sub.channel_id)
            if channel is None or not sub.matches(entity, project, kind, level):
                continue
            if kind in self.disabled(user=sub.created_by):
                continue
            found.append((sub, channel))
        return found

    def disabled(self, user: str = "", entity: str = "", project: str = "") -> set[str]:
        """The kinds switched off for a user, or for a project."""
        switch = self.switches.get(switch_key(user, entity, project))
        return set(switch.disabled) if switch else set()

    def rules_of(self, entity: str, project: str) -> list[Rule]:
        return [r for r in self.rules.values()
                if r.entity == entity and r.project == project]

    def watched_keys(self, entity: str, project: str) -> frozenset[str]:
        """The metrics some threshold rule of the project watches (cached)."""
        found = self._watched.get((entity, project))
        if found is None:
            found = frozenset(r.metric for r in self.rules_of(entity, project)
                              if r.kind == "threshold")
            self._watched[(entity, project)] = found
        return found

    def stall_rules(self) -> list[Rule]:
        return [r for r in self.rules.values() if r.kind == "stall"]

    # ---- the in-memory copy ------------------------------------------------

    def _apply(self, key: str, value: dict[str, Any] | None) -> None:
        prefix, _, ident = key.partition(".")
        table = self._table(prefix)
        if table is None:
            logger.debug("ignoring unknown key %s", key)
            return
        name = key if prefix == "switch" else ident
        if value is None:
            table.pop(name, None)
        elif prefix == "switch":
            table[name] = Switch.from_json(value)
        else:
            table[name] = _KINDS[prefix](value)
        self._watched.clear()

    def _table(self, prefix: str) -> dict[str, Any] | None:
        tables: dict[str, dict[str, Any]] = {
            "channel": self.channels, "sub": self.subscriptions,
            "rule": self.rules, "switch": self.switches,
        }
        return tables.get(prefix)


def _prefix(record: Channel | Subscription | Rule) -> str:
    if isinstance(record, Channel):
        return "channel"
    return "sub" if isinstance(record, Subscription) else "rule"
