"""Logging, reading, aliasing and deleting artifact versions.

Between the routes and the two stores: a version is accepted only when its
manifest (itself a stored blob of the entity) hashes right, its digest is the
one the manifest gives, every entry name is allowed, and every chunk it
names is held by the same entity. Changes are then made in the KV bucket and
announced as events on ``events.artifacts.<producer run>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from lodestar._proto import events_pb2
from lodestar.artifacts.manifest import (
    Entry,
    FileManifest,
    artifact_digest,
    load_manifest,
)
from lodestar.errors import BadPath

from ..query.publish import EventPublisher, PublishFailed, Target
from .blobs import BlobStore, check_sha
from .errors import BadRequest
from .versions import Collection, VersionStore, check_name

logger = logging.getLogger(__name__)

MAX_MANIFEST = 256 * 1024 * 1024


@dataclass(frozen=True)
class Place:
    entity: str
    project: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"


class Catalog:
    """Artifact operations over the chunk store and the version store."""

    def __init__(
        self, blobs: BlobStore, versions: VersionStore, publisher: EventPublisher
    ) -> None:
        self.blobs = blobs
        self.versions = versions
        self.publisher = publisher

    async def log_version(self, place: Place, body: dict[str, Any]) -> dict[str, Any]:
        """Create (or find, for known content) a version from a request body."""
        check_name(place.name)
        manifest = _file_manifest(body.get("manifest"))
        entries = await asyncio.to_thread(self._checked_entries, place, manifest)
        digest = artifact_digest(entries.values())
        if body.get("digest") and body["digest"] != digest:
            raise BadRequest(f"digest {body['digest']} does not match the manifest "
                             f"({digest})")
        record = _record(body, digest, manifest, entries)
        created = await self.versions.create_version(
            place.entity, place.project, place.name, record,
            list(body.get("aliases") or []),
        )
        collection = await self.versions.collection(*_parts(place))
        stored = await self.versions.record(*_parts(place), digest)
        moves = [(alias, index) for alias, index in created.moves]
        await self._announce_moves(place, collection, moves)
        answer = describe(place, collection, created.index, stored)
        answer["created"] = created.created
        return answer

    async def get(self, place: Place, ref: str) -> dict[str, Any]:
        collection = await self.versions.collection(*_parts(place))
        index = collection.resolve(ref)
        record = await self.versions.record(
            *_parts(place), str(collection.versions[index])
        )
        return describe(place, collection, index, record)

    async def list_versions(self, place: Place) -> dict[str, Any]:
        collection = await self.versions.collection(*_parts(place))
        found = []
        for index, digest in enumerate(collection.versions):
            if digest is not None:
                record = await self.versions.record(*_parts(place), digest)
                found.append(describe(place, collection, index, record))
        return {"name": place.name, "type": collection.type, "versions": found}

    async def move_aliases(
        self, place: Place, ref: str, add: list[str], remove: list[str]
    ) -> dict[str, Any]:
        collection = await self.versions.collection(*_parts(place))
        index = collection.resolve(ref)
        moves = await self.versions.move_aliases(
            *_parts(place), index, add, remove
        )
        collection = await self.versions.collection(*_parts(place))
        await self._announce_moves(place, collection, moves)
        return await self.get(place, f"v{index}")

    async def delete(
        self, place: Place, ref: str, delete_aliases: bool
    ) -> dict[str, Any]:
        collection = await self.versions.collection(*_parts(place))
        index = collection.resolve(ref)
        record = await self.versions.record(
            *_parts(place), str(collection.versions[index])
        )
        digest, lost = await self.versions.delete_version(
            *_parts(place), index, delete_aliases
        )
        event = events_pb2.ArtifactEvent(
            name=place.name, type=record["type"], version=f"v{index}", digest=digest,
            deleted=True, producer_run=record.get("producer_run", ""),
        )
        await self._publish(record.get("producer_run", ""), place,
                            [events_pb2.Event(artifact=event)])
        return {"name": place.name, "version": f"v{index}", "deleted": True,
                "aliases_removed": lost}

    # ---- checks ------------------------------------------------------------

    def _checked_entries(
        self, place: Place, manifest: FileManifest
    ) -> dict[str, Entry]:
        raw = self._read_manifest(place.entity, manifest)
        try:
            entries = load_manifest(raw)
        except BadPath as exc:
            raise BadRequest(f"the manifest has a bad entry name: {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise BadRequest(f"the manifest cannot be read: {exc}") from exc
        chunks: list[str] = []
        for entry in entries.values():
            if not entry.ref:
                chunks.extend(check_sha(c) for c in entry.file.chunk_list)
        absent = self.blobs.missing(place.entity, chunks)
        if absent:
            raise BadRequest(f"entity {place.entity!r} holds no blob {absent[0]} "
                             f"({len(absent)} missing); upload the content first")
        return entries

    def _read_manifest(self, entity: str, manifest: FileManifest) -> bytes:
        if manifest.size > MAX_MANIFEST:
            raise BadRequest(f"manifests are at most {MAX_MANIFEST} bytes")
        data = bytearray()
        for block in self.blobs.read_chunks(entity, list(manifest.chunk_list)):
            data += block
            if len(data) > MAX_MANIFEST:
                raise BadRequest(f"manifests are at most {MAX_MANIFEST} bytes")
        if hashlib.sha256(data).hexdigest() != manifest.sha256:
            raise BadRequest("the manifest's chunks do not hash to its sha256")
        return bytes(data)

    # ---- events ------------------------------------------------------------

    async def _announce_moves(
        self, place: Place, collection: Collection, moves: list[tuple[str, Any]]
    ) -> None:
        if not moves:
            return
        events = []
        for alias, index in moves:
            version = "" if index is None else f"v{index}"
            move = events_pb2.AliasMove(name=place.name, alias=alias, version=version)
            events.append(events_pb2.Event(alias=move))
        latest = collection.latest
        digest = collection.versions[latest] if latest is not None else None
        producer = ""
        if digest is not None:
            record = await self.versions.record(*_parts(place), digest)
            producer = record.get("producer_run", "")
        await self._publish(producer, place, events)

    async def _publish(
        self, producer_run: str, place: Place, events: list[events_pb2.Event]
    ) -> None:
        parts = producer_run.split("/")
        if len(parts) != 3 or not all(parts):
            parts = [place.entity, place.project, "_artifacts"]
        try:
            await self.publisher.publish(Target(*parts), events)
        except PublishFailed as exc:
            logger.warning("artifact events of %s not published: %s", place.path, exc)


def describe(
    place: Place, collection: Collection, index: int, record: dict[str, Any]
) -> dict[str, Any]:
    """The public JSON form of one version."""
    return {
        "entity": place.entity, "project": place.project, "name": place.name,
        "type": collection.type, "version": f"v{index}", "index": index,
        "digest": record["digest"], "aliases": collection.aliases_of(index),
        "description": record.get("description", ""),
        "metadata": record.get("metadata", {}),
        "producer_run": record.get("producer_run", ""),
        "created_at": record.get("created_at"), "size": record.get("size", 0),
        "file_count": record.get("file_count", 0), "manifest": record["manifest"],
    }


def _file_manifest(body: Any) -> FileManifest:
    if not isinstance(body, dict):
        raise BadRequest("'manifest' must be {'sha256', 'size', 'chunks'}")
    try:
        manifest = FileManifest.from_dict(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest(f"bad 'manifest': {exc}") from exc
    check_sha(manifest.sha256)
    for chunk in manifest.chunk_list:
        check_sha(chunk)
    return manifest


def _record(
    body: dict[str, Any], digest: str, manifest: FileManifest,
    entries: dict[str, Entry],
) -> dict[str, Any]:
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object")
    return {
        "digest": digest, "type": str(body.get("type") or "unspecified"),
        "description": str(body.get("description") or ""), "metadata": metadata,
        "producer_run": str(body.get("producer_run") or ""),
        "created_at": time.time(), "manifest": manifest.to_dict(),
        "size": sum(e.size for e in entries.values()),
        "file_count": len(entries),
    }


def _parts(place: Place) -> tuple[str, str, str]:
    return place.entity, place.project, place.name
