"""Artifact versions and aliases in the ``artifacts`` KV bucket.

Two kinds of keys (name parts encoded with `names.encode_token`)::

    c.<entity>.<project>.<name>            the collection: one JSON document
    d.<entity>.<project>.<name>.<digest>   one version's record

The collection document is ``{"type", "created_at", "versions": [digest or
null], "aliases": {alias: index}}``: version ``vN`` is ``versions[N]`` (null
once deleted), and ``latest`` is the highest index still there. Every change
of a collection is one compare-and-set on its revision, retried from a fresh
read when another writer won, so concurrent loggers of one name get
consecutive numbers with no gap and no duplicate. A version's record is
written before the collection names it: a record nobody names is harmless
and is reused when the same content is logged again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from lodestar.artifacts.artifact import check_alias as sdk_check_alias
from lodestar.artifacts.artifact import check_artifact_name
from lodestar.errors import UsageError
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from ..common.names import decode_token, encode_token
from .errors import BadRequest, Conflict, NotFound, StoreUnavailable

logger = logging.getLogger(__name__)

CAS_ATTEMPTS = 200
LATEST = "latest"
_VERSION = re.compile(r"^v(\d+)$")


def check_name(name: str) -> str:
    """An artifact name: the SDK's rule, which checks it before sending too."""
    try:
        return check_artifact_name(name)
    except UsageError as exc:
        raise BadRequest(str(exc)) from exc


def check_alias(alias: str) -> str:
    """A user alias: not ``latest`` and not shaped like a version ``vN``."""
    try:
        return sdk_check_alias(alias)
    except UsageError as exc:
        raise BadRequest(str(exc)) from exc


@dataclass
class Collection:
    """One artifact name's versions and aliases, at a KV revision."""

    type: str
    created_at: float
    versions: list[str | None] = field(default_factory=list)
    aliases: dict[str, int] = field(default_factory=dict)
    revision: int = 0

    @property
    def latest(self) -> int | None:
        for index in range(len(self.versions) - 1, -1, -1):
            if self.versions[index] is not None:
                return index
        return None

    def aliases_of(self, index: int) -> list[str]:
        found = [alias for alias, at in self.aliases.items() if at == index]
        if index == self.latest:
            found.append(LATEST)
        return sorted(found)

    def index_of(self, digest: str) -> int | None:
        for index, known in enumerate(self.versions):
            if known == digest:
                return index
        return None

    def resolve(self, ref: str) -> int:
        """The index `ref` (``vN``, an alias, ``latest``) names, or `NotFound`."""
        match = _VERSION.match(ref)
        if match:
            index = int(match.group(1))
            if index < len(self.versions) and self.versions[index] is not None:
                return index
        elif ref == LATEST and self.latest is not None:
            return self.latest
        elif ref in self.aliases:
            return self.aliases[ref]
        raise NotFound(f"no version {ref!r}; known: {self.known_refs()}")

    def known_refs(self) -> list[str]:
        refs = [f"v{i}" for i, d in enumerate(self.versions) if d is not None]
        return refs + sorted(self.aliases) + ([LATEST] if refs else [])

    def dump(self) -> bytes:
        body = {"type": self.type, "created_at": self.created_at,
                "versions": self.versions, "aliases": self.aliases}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def load(cls, raw: bytes, revision: int) -> Collection:
        body = json.loads(raw)
        return cls(body["type"], body["created_at"], list(body["versions"]),
                   dict(body["aliases"]), revision)


@dataclass(frozen=True)
class Created:
    """The outcome of logging a version."""

    index: int
    created: bool                 # False: identical content, existing version
    moves: list[tuple[str, int]]  # aliases set by this call


def collection_key(entity: str, project: str, name: str) -> str:
    return "c." + ".".join(encode_token(p) for p in (entity, project, name))


def record_key(entity: str, project: str, name: str, digest: str) -> str:
    return "d." + ".".join(encode_token(p) for p in (entity, project, name, digest))


class VersionStore:
    """Reads and changes collections and version records in one KV bucket."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def collection(self, entity: str, project: str, name: str) -> Collection:
        """The collection of `name`, or `NotFound`."""
        key = collection_key(entity, project, check_name(name))
        entry = await self._get(key)
        if entry is None:
            raise NotFound(f"no artifact {entity}/{project}/{name}")
        return Collection.load(entry.value, entry.revision)

    async def record(
        self, entity: str, project: str, name: str, digest: str
    ) -> dict[str, Any]:
        entry = await self._get(record_key(entity, project, name, digest))
        if entry is None:
            raise NotFound(f"artifact {entity}/{project}/{name} has no content "
                           f"{digest}")
        return json.loads(entry.value)

    async def create_version(
        self, entity: str, project: str, name: str, record: dict[str, Any],
        aliases: list[str],
    ) -> Created:
        """Make `record` the next version of `name`, unless its digest is there.

        Raises:
            BadRequest: the name exists with another type, or an alias is bad.
            Conflict: other writers kept winning for `CAS_ATTEMPTS` tries.
        """
        check_name(name)
        wanted = [check_alias(a) for a in dict.fromkeys(aliases) if a != LATEST]
        digest = record["digest"]
        first = await self._current(entity, project, name, record["type"])
        if first.index_of(digest) is None:  # keep the record of a live version
            await self._put(record_key(entity, project, name, digest), record)
        for attempt in range(CAS_ATTEMPTS):
            current = await self._current(entity, project, name, record["type"])
            index = current.index_of(digest)
            created = index is None
            if index is None:
                index = len(current.versions)
                current.versions.append(digest)
            moves = [(a, index) for a in wanted if current.aliases.get(a) != index]
            if not created and not moves:
                return Created(index, False, [])
            current.aliases.update(dict(moves))
            if await self._swap(entity, project, name, current):
                return Created(index, created, moves)
            await _backoff(attempt)
        raise Conflict(f"too many concurrent changes to {name!r}; try again")

    async def move_aliases(
        self, entity: str, project: str, name: str, index: int,
        add: list[str], remove: list[str],
    ) -> list[tuple[str, int | None]]:
        """Point `add` at version `index` and drop `remove` from it, atomically."""
        added = [check_alias(a) for a in dict.fromkeys(add) if a != LATEST]
        removed = [a for a in dict.fromkeys(remove) if a != LATEST]
        for attempt in range(CAS_ATTEMPTS):
            current = await self.collection(entity, project, name)
            current.resolve(f"v{index}")
            moves: list[tuple[str, int | None]] = [
                (a, index) for a in added if current.aliases.get(a) != index
            ]
            moves += [(a, None) for a in removed
                      if current.aliases.get(a) == index and a not in added]
            if not moves:
                return []
            for alias, target in moves:
                if target is None:
                    current.aliases.pop(alias, None)
                else:
                    current.aliases[alias] = target
            if await self._swap(entity, project, name, current):
                return moves
            await _backoff(attempt)
        raise Conflict(f"too many concurrent changes to {name!r}; try again")

    async def delete_version(
        self, entity: str, project: str, name: str, index: int, delete_aliases: bool
    ) -> tuple[str, list[str]]:
        """Remove version `index`; returns its digest and the aliases it lost.

        Raises:
            BadRequest: it still has aliases and `delete_aliases` is False.
        """
        for attempt in range(CAS_ATTEMPTS):
            current = await self.collection(entity, project, name)
            current.resolve(f"v{index}")
            held = [a for a, at in current.aliases.items() if at == index]
            if held and not delete_aliases:
                raise BadRequest(f"version v{index} has aliases {sorted(held)}; "
                                 "pass delete_aliases=True to delete them as well")
            digest = current.versions[index]
            current.versions[index] = None
            for alias in held:
                del current.aliases[alias]
            if await self._swap(entity, project, name, current):
                return str(digest), held
            await _backoff(attempt)
        raise Conflict(f"too many concurrent changes to {name!r}; try again")

    async def names(self, entity: str, project: str) -> list[str]:
        """Every artifact name of a project."""
        prefix = collection_key(entity, project, "x")[:-1]
        found = [decode_token(k[len(prefix):]) async for k in self._keys(prefix + "*")]
        return sorted(found)

    async def collections(self) -> AsyncIterator[tuple[str, str, str, Collection]]:
        """Every collection of every entity: (entity, project, name, collection)."""
        async for key in self._keys("c.>"):
            entry = await self._get(key)
            if entry is None:
                continue
            entity, project, name = (decode_token(p) for p in key.split(".")[1:4])
            yield entity, project, name, Collection.load(entry.value, entry.revision)

    # ---- KV --------------------------------------------------------------

    async def _current(
        self, entity: str, project: str, name: str, type_: str
    ) -> Collection:
        try:
            current = await self.collection(entity, project, name)
        except NotFound:
            return Collection(type_, time.time())
        if current.type != type_:
            raise BadRequest(f"artifact {name!r} is of type {current.type!r}, not "
                             f"{type_!r}; use another name or the same type")
        return current

    async def _swap(
        self, entity: str, project: str, name: str, current: Collection
    ) -> bool:
        key = collection_key(entity, project, name)
        try:
            if current.revision:
                await self._kv.update(key, current.dump(), last=current.revision)
            else:
                await self._kv.create(key, current.dump())
        except KeyWrongLastSequenceError:
            return False
        except nats.errors.Error as exc:
            if "wrong last sequence" in str(exc).lower():
                return False
            raise StoreUnavailable(f"artifacts KV update failed: {exc}") from exc
        return True

    async def _get(self, key: str) -> Any:
        try:
            return await self._kv.get(key)
        except KeyNotFoundError:
            return None
        except (nats.errors.Error, asyncio.TimeoutError) as exc:
            raise StoreUnavailable(f"artifacts KV read failed: {exc}") from exc

    async def _put(self, key: str, value: dict[str, Any]) -> None:
        try:
            await self._kv.put(key, json.dumps(value).encode())
        except (nats.errors.Error, asyncio.TimeoutError) as exc:
            raise StoreUnavailable(f"artifacts KV write failed: {exc}") from exc

    async def _keys(self, pattern: str) -> AsyncIterator[str]:
        watcher = await self._kv.watch(pattern, ignore_deletes=True, meta_only=True)
        try:
            async for entry in watcher:
                if entry is None:
                    break
                yield entry.key
                if entry.delta == 0:
                    break
        finally:
            await watcher.stop()


async def _backoff(attempt: int) -> None:
    await asyncio.sleep(random.uniform(0, min(0.05, 0.002 * (attempt + 1))))
