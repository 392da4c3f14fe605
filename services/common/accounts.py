"""Users, entities, memberships and API keys, kept in the ``accounts`` bucket.

The query service owns the bucket and writes it through its admin API (the
launcher writes the first user the same way). Other services read it through
`AccountsView`, an in-memory copy kept current by a KV watch, so checking a
key on every request costs a dictionary look-up.

Keys: ``user.<name>``, ``entity.<name>``, ``member.<entity>.<user>`` and
``key.<sha256 of the API key>``; values are JSON objects.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from .names import check_entity

logger = logging.getLogger(__name__)

KEY_PREFIX = "lsk_"


class AccountError(Exception):
    """Base of the account errors."""


class AlreadyExists(AccountError):
    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} already exists")


class NotFound(AccountError):
    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        super().__init__(f"{kind} {name!r} does not exist")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as, and the entities it may read and write."""

    user: str
    entities: frozenset[str]
    admin: bool = False

    @property
    def default_entity(self) -> str:
        return self.user

    def can_access(self, entity: str) -> bool:
        return self.admin or entity in self.entities


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)


class Accounts:
    """Writes to the accounts bucket. Creation uses KV create: atomic."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def add_user(self, name: str, admin: bool = False) -> None:
        """A user and the user's own entity, of which the user is admin."""
        check_entity(name)
        await self._create("entity", name, {"name": name, "kind": "user"})
        await self._create("user", name, {"name": name, "admin": admin})
        await self._put(f"member.{name}.{name}", {"role": "admin"})

    async def add_team(self, name: str, members: list[str]) -> None:
        check_entity(name)
        for member in members:
            await self._require("user", member)
        await self._create("entity", name, {"name": name, "kind": "team"})
        for member in members:
            await self._put(f"member.{name}.{member}", {"role": "member"})

    async def add_member(self, entity: str, user: str, role: str = "member") -> None:
        await self._require("entity", entity)
        await self._require("user", user)
        await self._put(f"member.{entity}.{user}", {"role": role})

    async def create_key(self, user: str, label: str = "") -> str:
        """Make an API key for `user`; only its hash is stored."""
        await self._require("user", user)
        api_key = new_api_key()
        record = {"user": user, "label": label, "created_at": time.time()}
        await self._put(f"key.{hash_key(api_key)}", record)
        return api_key

    async def _create(self, kind: str, name: str, value: dict) -> None:
        value = {**value, "created_at": time.time()}
        try:
            await self._kv.create(f"{kind}.{name}", json.dumps(value).encode())
        except KeyWrongLastSequenceError as exc:
            raise AlreadyExists(kind, name) from exc

    async def _require(self, kind: str, name: str) -> None:
        try:
            await self._kv.get(f"{kind}.{name}")
        except Exception as exc:  # nats raises KeyNotFoundError or deleted
            raise NotFound(kind, name) from exc

    async def _put(self, key: str, value: dict) -> None:
        await self._kv.put(key, json.dumps(value).encode())


@dataclass
class AccountsView:
    """A read-only copy of the accounts bucket, kept current by a watch."""

    users: dict[str, dict] = field(default_factory=dict)
    entities: dict[str, dict] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)          # hash -> user
    members: dict[str, set[str]] = field(default_factory=dict)  # user -> entities
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, kv: KeyValue) -> None:
        """Apply every change of the bucket; returns only when cancelled."""
        watcher = await kv.watchall()
        async for entry in watcher:
            if entry is None:  # the initial values have all been delivered
                self.ready.set()
                continue
            self._apply(entry.key, entry.value, entry.operation)

    def _apply(self, key: str, value: bytes | None, operation: str | None) -> None:
        kind, _, rest = key.partition(".")
        deleted = operation in ("DEL", "PURGE") or not value
        record = {} if deleted else json.loads(value or b"{}")
        if kind == "user":
            self._set(self.users, rest, record, deleted)
        elif kind == "entity":
            self._set(self.entities, rest, record, deleted)
        elif kind == "key":
            self._set(self.keys, rest, record.get("user"), deleted)
        elif kind == "member":
            entity, _, user = rest.partition(".")
            joined = self.members.setdefault(user, set())
            (joined.discard if deleted else joined.add)(entity)

    @staticmethod
    def _set(table: dict, name: str, value: object, deleted: bool) -> None:
        if deleted:
            table.pop(name, None)
        else:
            table[name] = value

    def authenticate(self, api_key: str) -> Principal | None:
        """The principal of a key, or None for an unknown or revoked key."""
        user = self.keys.get(hash_key(api_key))
        if user is None or user not in self.users:
            return None
        admin = bool(self.users[user].get("admin"))
        return Principal(user, frozenset(self.members.get(user, ())), admin)
