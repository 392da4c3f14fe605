"""The agent's uploads: content first, then the event that names it.

The `Sender` hands every batch to `Uploader.prepare` before sending it. For
a `FileEntry` whose file exists under ``RUN_DIR/files/``, the file is stored
in the blob store and the event gets its ``sha256``, ``size`` and
``manifest_json``. For an `ArtifactEvent` the training process logged, the
staged entries and the manifest are stored, the artifacts service creates
(or finds) the version, and the event gets its version and digest; the
outcome is also written to ``RUN_DIR/artifacts/logged/<id>.json`` for
`Artifact.wait()`. A failure to reach the platform raises `CommError`, and
the sender retries the batch later: chunks already stored are not sent again.
An artifact that cannot be logged (the service refuses it, or its staged
content is gone) is reported in that file too, and as a warning the sender
passes on through ``agent.json``, so the training process hears of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .._proto import events_pb2
from ..artifacts.manifest import Entry, FileManifest, describe_file, dump_manifest
from ..artifacts.staging import LOGGED_DIR, pending_id, read_pending
from ..artifacts.transfer import BlobClient, ChunkFailed
from ..errors import ApiError, BadPath, CommError
from ..files import normalize_name
from .discovery import discover

logger = logging.getLogger(__name__)

CHANGED_ATTEMPTS = 3
RETRY_STATUSES = (0, 408, 409, 429)  # no answer, or "try again"


class _Unloggable(Exception):
    """An artifact whose staged content cannot be read; retrying cannot help."""


@dataclass(frozen=True)
class RunIdentity:
    entity: str
    project: str
    run_id: str

    @property
    def path(self) -> str:
        return f"{self.entity}/{self.project}/{self.run_id}"


class Uploader:
    """Stores the content of a run's file and artifact events.

    Args:
        run_dir: the run directory (``files/``, ``artifacts/``).
        base_url: the platform, asked where the artifacts service is.
        api_key: the key for the artifacts service.
    """

    def __init__(self, run_dir: Path, base_url: str, api_key: str) -> None:
        self.run_dir = run_dir
        self._base_url = base_url
        self._api_key = api_key
        self._client: BlobClient | None = None
        self._described: dict[tuple[str, int, int], FileManifest] = {}
        self._warnings: list[str] = []
        self._refused: set[str] = set()

    async def prepare(self, events: list[events_pb2.Event], run: RunIdentity) -> None:
        """Upload what `events` name and fill the events in place.

        Raises:
            CommError: the blob store could not be reached; retry later.
        """
        for event in events:
            body = event.WhichOneof("body")
            if body == "file" and not event.file.deleted and not event.file.sha256:
                await asyncio.to_thread(self._file, event.file, run)
            elif body == "artifact" and not event.artifact.used:
                if not event.artifact.version:
                    await asyncio.to_thread(self._artifact, event.artifact, run)

    def take_warnings(self) -> list[str]:
        """The refusals met since the last call, once each, for the script."""
        taken, self._warnings = self._warnings, []
        return taken

    # ---- run files ---------------------------------------------------------

    def _file(self, entry: events_pb2.FileEntry, run: RunIdentity) -> None:
        try:
            # lexical: save() links files in from elsewhere on purpose
            path = self.run_dir / "files" / normalize_name(entry.path)
        except BadPath as exc:
            logger.warning("file event %r skipped: %s", entry.path, exc)
            return
        if not path.is_file():
            logger.info("file %s is gone; its event goes without content", path)
            return
        try:
            manifest = self._store(run.entity, path)
        except OSError as exc:
            logger.warning("file %s could not be read: %s; not uploaded", path, exc)
            return
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise CommError(str(exc)) from exc
            logger.error("file %s was refused: %s", path, exc)
            return
        entry.sha256 = manifest.sha256
        entry.size = manifest.size
        entry.manifest_json = manifest.to_json()

    def _store(self, entity: str, path: Path) -> FileManifest:
        # a file still being written changes under us: describe it again
        for attempt in range(CHANGED_ATTEMPTS):
            manifest = self._describe(path)
            try:
                self._blobs().upload_files(entity, [(str(path), manifest)])
                return manifest
            except ChunkFailed:
                if attempt == CHANGED_ATTEMPTS - 1:
                    raise
                self._described.clear()
        raise AssertionError("unreachable")

    def _describe(self, path: Path) -> FileManifest:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        found = self._described.get(key)
        if found is None:
            found = describe_file(path)
            if len(self._described) > 10_000:
                self._described.clear()
            self._described[key] = found
        return found

    # ---- artifacts ---------------------------------------------------------

    def _artifact(self, event: events_pb2.ArtifactEvent, run: RunIdentity) -> None:
        pending = read_pending(self.run_dir, event.manifest_json)
        if pending is None:
            reason = "its staged manifest is missing from the run directory"
            self._refuse(event, pending_id(event.manifest_json), reason)
            return
        client_id = pending["client_id"]
        try:
            version = self._log_version(event, pending, run)
        except ApiError as exc:
            if exc.status in RETRY_STATUSES or exc.status >= 500:
                raise CommError(str(exc)) from exc
            self._refuse(event, client_id, _reason(exc), exc.status)
            return
        except _Unloggable as exc:
            self._refuse(event, client_id, str(exc))
            return
        event.version = version["version"]
        event.digest = version["digest"]
        event.manifest_json = json.dumps({"manifest": version["manifest"],
                                          "client_id": client_id})
        self._report(client_id, version)

    def _refuse(
        self, event: events_pb2.ArtifactEvent, client_id: str | None, reason: str,
        status: int = 0,
    ) -> None:
        """Give up on one artifact: tell `wait()` and the script why."""
        logger.error("artifact %s was refused: %s", event.name, reason)
        if client_id is None:
            return
        self._report(client_id, {"error": reason, "status": status})
        if client_id not in self._refused:  # a retried batch meets it again
            self._refused.add(client_id)
            self._warnings.append(f"artifact {event.name!r} (type {event.type!r}) "
                                  f"was not logged: {reason}")

    def _log_version(
        self, event: events_pb2.ArtifactEvent, pending: dict[str, Any],
        run: RunIdentity,
    ) -> dict[str, Any]:
        entries = [Entry.from_dict(e) for e in pending["entries"]]
        files = []
        for entry, raw in zip(entries, pending["entries"], strict=True):
            if not entry.ref:
                source = self.run_dir / raw["local"]
                manifest = self._staged(entry, source)
                entry.chunks = manifest.chunks
                files.append((str(source), manifest))
        self._blobs().upload_files(run.entity, files)  # one batched transfer
        stored = self._blobs().upload_bytes(run.entity, dump_manifest(entries))
        body = {
            "digest": event.digest, "type": event.type, "manifest": stored.to_dict(),
            "aliases": list(event.aliases), "producer_run": run.path,
            "description": pending.get("description", ""),
            "metadata": pending.get("metadata", {}),
        }
        path = f"/api/v1/artifacts/{_q(run.entity)}/{_q(run.project)}/{_q(event.name)}"
        return self._blobs().call("POST", path + "/versions", body)

    def _staged(self, entry: Entry, source: Path) -> FileManifest:
        try:
            manifest = self._describe(source)
        except OSError as exc:
            raise _Unloggable(f"the content of {entry.path!r} cannot be read: "
                              f"{exc.strerror or exc}") from exc
        if manifest.sha256 != entry.sha256:
            raise _Unloggable(f"the content of {entry.path!r} changed after it "
                              "was logged")
        return manifest

    def _report(self, client_id: str, outcome: dict[str, Any]) -> None:
        folder = self.run_dir / LOGGED_DIR
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{client_id}.tmp"
        tmp.write_text(json.dumps(outcome))
        os.replace(tmp, folder / f"{client_id}.json")

    def _blobs(self) -> BlobClient:
        if self._client is None:
            endpoints = discover(self._base_url)
            if not endpoints.artifacts:
                raise CommError("the platform names no artifacts service")
            self._client = BlobClient(endpoints.artifacts, self._api_key)
        return self._client


def _q(name: str) -> str:
    return quote(name, safe="")


def _reason(exc: ApiError) -> str:
    """The service's words, without the status and address `ApiError` adds."""
    return str(exc).removesuffix(f" (HTTP {exc.status} from {exc.url})")
