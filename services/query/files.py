"""Run files and artifact lineage, read from ClickHouse; file deletes.

| route | returns |
|---|---|
| ``GET /api/v1/runs/{e}/{p}/{r}/files`` | the run's files (latest content each) |
| ``POST /api/v1/runs/{e}/{p}/{r}/files`` | publishes a FileEntry of stored content |
| ``DELETE /api/v1/runs/{e}/{p}/{r}/files/{path}`` | a deleted FileEntry; 404 if none |
| ``GET /api/v1/runs/{e}/{p}/{r}/artifacts?used=`` | versions logged (or used) |
| ``GET /api/v1/lineage/{e}/{p}/{name}/{version}`` | the runs that used it |
| ``GET /internal/v1/files/chunks?entity=`` | chunks run files reference (GC) |
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from lodestar._proto import events_pb2
from lodestar.errors import BadPath
from lodestar.files import normalize_name
from pydantic import BaseModel, Field

from .edits import _require_service
from .history import RunRef
from .publish import PublishFailed, Target
from .routes import Caller, _run_ref, _storage

router = APIRouter()


class StoredFile(BaseModel):
    path: str
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    chunks: list[str] = []

_FILES = """
SELECT path, sha256, size, manifest, timestamp FROM run_files FINAL
WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String}
  AND deleted = 0
ORDER BY path
"""

_FILE = """
SELECT path FROM run_files FINAL
WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String}
  AND path = {n:String} AND deleted = 0
LIMIT 1
"""

_LINEAGE = """
SELECT artifact_entity, artifact_project, name, artifact_version, type, digest,
       timestamp
FROM artifact_lineage FINAL
WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String}
  AND used = {u:UInt8} AND deleted = 0
ORDER BY timestamp, name, artifact_version
"""

USED_BY_SQL = """
SELECT entity, project, run_id, used FROM artifact_lineage FINAL
WHERE artifact_entity = {e:String} AND artifact_project = {p:String}
  AND name = {n:String} AND artifact_version = {v:String} AND deleted = 0
ORDER BY timestamp
"""

_CHUNKS = """
SELECT sha256, manifest FROM run_files FINAL
WHERE entity = {e:String} AND deleted = 0
"""


@router.get("/api/v1/runs/{entity}/{project}/{run_id}/files", tags=["files"])
def list_files(
    request: Request, who: Caller, entity: str, project: str, run_id: str
) -> dict[str, Any]:
    ref = _run_ref(who, entity, project, run_id)
    rows = _storage(request).query(
        _FILES, {"e": ref.entity, "p": ref.project, "r": ref.run_id}
    )
    return {"files": [_file(row) for row in rows]}


@router.post("/api/v1/runs/{entity}/{project}/{run_id}/files", tags=["files"])
async def add_file(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    body: StoredFile,
) -> dict[str, Any]:
    """Record content already in the entity's blob store as a run file."""
    name = _name(body.path)
    manifest = {"sha256": body.sha256, "size": body.size}
    if body.chunks:
        manifest["chunks"] = body.chunks
    entry = events_pb2.FileEntry(path=name, sha256=body.sha256, size=body.size,
                                 manifest_json=json.dumps(manifest))
    applied = await _publish_file(request, who, (entity, project, run_id), entry)
    return {"path": name, "sha256": body.sha256, "applied": applied}


@router.delete("/api/v1/runs/{entity}/{project}/{run_id}/files/{path:path}",
               tags=["files"])
async def delete_file(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    path: str,
) -> dict[str, Any]:
    name = _name(path)
    _require_file(request, _run_ref(who, entity, project, run_id), name)
    entry = events_pb2.FileEntry(path=name, deleted=True)
    applied = await _publish_file(request, who, (entity, project, run_id), entry)
    return {"path": name, "deleted": True, "applied": applied}


def _require_file(request: Request, ref: RunRef, name: str) -> None:
    """A 404 naming the file unless the run holds it (deleted ones do not count)."""
    found = _storage(request).query(
        _FILE, {"e": ref.entity, "p": ref.project, "r": ref.run_id, "n": name}
    )
    if not found:
        raise HTTPException(
            404, f"run {ref.entity}/{ref.project}/{ref.run_id} has no file {name!r}; "
            f"list its files with GET /api/v1/runs/{ref.entity}/{ref.project}/"
            f"{ref.run_id}/files",
        )


async def _publish_file(
    request: Request, who: Any, run: tuple[str, str, str],
    entry: events_pb2.FileEntry,
) -> bool:
    ref = _run_ref(who, *run)
    event = events_pb2.Event(file=entry, timestamp=time.time())
    target = Target(ref.entity, ref.project, ref.run_id)
    try:
        published = await request.app.state.publisher.publish(
            target, [event], user=who.user
        )
    except PublishFailed as exc:
        raise HTTPException(503, f"the change was not stored: {exc}") from exc
    return bool(await request.app.state.applied.wait(published))


def _name(path: str) -> str:
    try:
        return normalize_name(path)
    except BadPath as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/v1/runs/{entity}/{project}/{run_id}/artifacts", tags=["files"])
def run_artifacts(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    used: bool = False,
) -> dict[str, Any]:
    ref = _run_ref(who, entity, project, run_id)
    rows = _storage(request).query(
        _LINEAGE, {"e": ref.entity, "p": ref.project, "r": ref.run_id,
                   "u": 1 if used else 0},
    )
    return {"artifacts": [
        {"entity": r["artifact_entity"], "project": r["artifact_project"],
         "name": r["name"], "version": r["artifact_version"], "type": r["type"],
         "digest": r["digest"]}
        for r in rows
    ]}


@router.get("/api/v1/lineage/{entity}/{project}/{name}/{version}", tags=["files"])
def lineage(
    request: Request, who: Caller, entity: str, project: str, name: str,
    version: str,
) -> dict[str, Any]:
    _run_ref(who, entity, project, "-")
    rows = _storage(request).query(
        USED_BY_SQL, {"e": entity, "p": project, "n": name, "v": version}
    )
    runs: dict[str, list[str]] = {"used_by": [], "logged_by": []}
    for row in rows:
        path = f"{row['entity']}/{row['project']}/{row['run_id']}"
        runs["used_by" if row["used"] else "logged_by"].append(path)
    return runs


@router.get("/internal/v1/files/chunks", tags=["internal"])
def file_chunks(request: Request, entity: str) -> dict[str, list[str]]:
    """Every chunk the latest content of a run file of `entity` references."""
    _require_service(request)
    rows = _storage(request).query(_CHUNKS, {"e": entity})
    chunks: set[str] = set()
    for row in rows:
        manifest = json.loads(row["manifest"] or "{}")
        chunks.update(manifest.get("chunks") or [row["sha256"]])
    return {"chunks": sorted(chunks)}


def _file(row: dict[str, Any]) -> dict[str, Any]:
    manifest = json.loads(row["manifest"] or "{}")
    return {"path": row["path"], "sha256": row["sha256"], "size": int(row["size"]),
            "manifest": manifest or {"sha256": row["sha256"], "size": row["size"]},
            "updated_at": row["timestamp"]}
