"""Garbage collection: delete chunks nothing references any more.

References are counted afresh on every collection, never kept as counters
that a lost message could skew: each live artifact version counts its
manifest's chunks and every chunk of its entries, and each run file (media
values are run files too) counts the chunks of its latest, undeleted content,
read from the query service's internal API. A chunk with a count of zero is
deleted once it is older than the grace period, which protects uploads that
are committed but not referenced yet; staged uploads that were never
committed go after the same period.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lodestar.artifacts.manifest import FileManifest, load_manifest

from ..common.config import PlatformConfig
from .blobs import BlobStore
from .errors import StoreUnavailable
from .versions import VersionStore

logger = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 60.0


@dataclass
class GcReport:
    entities: list[str] = field(default_factory=list)
    referenced: int = 0
    kept: int = 0
    deleted: int = 0
    staged_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def collect_garbage(
    config: PlatformConfig, blobs: BlobStore, versions: VersionStore,
    entity: str | None, grace_s: float,
) -> GcReport:
    """Delete unreferenced chunks of `entity` (every entity when None)."""
    report = GcReport()
    counts = await _artifact_references(blobs, versions, entity)
    entities = [entity] if entity else await asyncio.to_thread(blobs.entities)
    cutoff = time.time() - grace_s
    for name in entities:
        files = await asyncio.to_thread(_file_references, config, name)
        counts.update((name, sha) for sha in files)
        await asyncio.to_thread(_sweep, blobs, name, counts, cutoff, report)
        report.entities.append(name)
    report.referenced = len(counts)
    logger.info("garbage collection: %s", report.as_dict())
    return report


async def _artifact_references(
    blobs: BlobStore, versions: VersionStore, entity: str | None
) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    async for owner, project, name, collection in versions.collections():
        if entity and owner != entity:
            continue
        for digest in collection.versions:
            if digest is None:
                continue
            record = await versions.record(owner, project, name, digest)
            chunks = await asyncio.to_thread(_version_chunks, blobs, owner, record)
            counts.update((owner, sha) for sha in chunks)
    return counts


def _version_chunks(blobs: BlobStore, entity: str, record: dict[str, Any]) -> list[str]:
    manifest = FileManifest.from_dict(record["manifest"])
    raw = b"".join(blobs.read_chunks(entity, list(manifest.chunk_list)))
    found = list(manifest.chunk_list)
    for entry in load_manifest(raw).values():
        if not entry.ref:
            found.extend(entry.file.chunk_list)
    return found


def _file_references(config: PlatformConfig, entity: str) -> list[str]:
    query = urllib.parse.urlencode({"entity": entity})
    url = (f"http://{config.query_host}:{config.query_port}"
           f"/internal/v1/files/chunks?{query}")
    request = urllib.request.Request(url)
    request.add_header("Authorization", f"Service {config.server_secret}")
    try:
        with urllib.request.urlopen(request, timeout=QUERY_TIMEOUT_S) as response:
            return list(json.loads(response.read())["chunks"])
    except (OSError, ValueError, KeyError) as exc:
        # without the file references nothing may be deleted
        raise StoreUnavailable(f"cannot read run file references: {exc}") from exc


def _sweep(
    blobs: BlobStore, entity: str, counts: Counter[tuple[str, str]],
    cutoff: float, report: GcReport,
) -> None:
    doomed = []
    for sha, stored in blobs.list_chunks(entity):
        if counts[(entity, sha)] or not _older(stored, cutoff):
            report.kept += 1
        else:
            doomed.append(sha)
    blobs.remove_chunks(entity, doomed)
    report.deleted += len(doomed)
    stale = [sha for sha, stored in blobs.list_staged(entity) if _older(stored, cutoff)]
    blobs.remove_staged(entity, stale)
    report.staged_deleted += len(stale)


def _older(stored: datetime | None, cutoff: float) -> bool:
    return stored is not None and stored.timestamp() <= cutoff
