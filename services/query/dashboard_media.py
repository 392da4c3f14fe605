"""A run file's bytes for the page: ``GET /api/v1/dashboard/file/E/P/R?path=``.

Media values in a run's history name a run file (``media/images/...png``).
An ``<img>``, ``<audio>`` or ``<video>`` element can only send the sign-in
cookie, and the blob store's signed URLs are on another origin, so the page
reads the bytes through this same-origin route. It looks the path up in
``run_files`` (the latest undeleted content of the name), then streams that
content's chunks from the run's entity in the blob store, in blocks, with
the content type guessed from the name. Content is addressed by its hash, so
answers may be cached for a long time under the same ``sha`` query value.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from lodestar.errors import BadPath
from lodestar.files import normalize_name

from ..artifacts.blobs import BlobStore
from ..artifacts.errors import BlobMissing, StoreUnavailable
from ..common.accounts import Principal
from .auth import principal, require_entity

router = APIRouter()
Caller = Annotated[Principal, Depends(principal)]

_LATEST = """
SELECT sha256, size, manifest FROM run_files FINAL
WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String}
  AND path = {path:String} AND deleted = 0
LIMIT 1
"""


def blob_store(request: Request) -> BlobStore:
    """The query process's reader of the blob store, made on first use."""
    store = getattr(request.app.state, "dashboard_blobs", None)
    if store is None:
        store = BlobStore(request.app.state.config)
        request.app.state.dashboard_blobs = store
    return store


@router.get("/file/{entity}/{project}/{run_id}")
async def run_file(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    path: Annotated[str, Query(min_length=1)],
) -> StreamingResponse:
    """The file's content; 404 when the run has no such file, 502 when S3 fails."""
    require_entity(who, entity)
    name = _normal(path)
    found = await asyncio.to_thread(
        request.app.state.storage.query, _LATEST,
        {"e": entity, "p": project, "r": run_id, "path": name},
    )
    if not found:
        raise HTTPException(404, f"run {entity}/{project}/{run_id} has no file "
                                 f"{name!r}")
    row = found[0]
    blocks = blob_store(request).read_chunks(entity, _chunks(row))
    first = await asyncio.to_thread(_first_block, blocks, name)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Content-Length": str(int(row["size"])),
               "Cache-Control": "private, max-age=86400",
               "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(_chain(first, blocks), media_type=kind,
                             headers=headers)


def _normal(path: str) -> str:
    try:
        name = normalize_name(path)
    except BadPath as exc:
        raise HTTPException(422, str(exc)) from exc
    if name != path:
        raise HTTPException(422, f"{path!r} is not a normal file name; use {name!r}")
    return name


def _chunks(row: dict[str, Any]) -> list[str]:
    manifest = json.loads(row["manifest"] or "{}")
    return list(manifest.get("chunks") or [row["sha256"]])


def _first_block(blocks: Iterator[bytes], name: str) -> bytes:
    """The first block, so a missing chunk is a 404 before the answer starts."""
    try:
        return next(blocks, b"")
    except BlobMissing as exc:
        raise HTTPException(404, f"the content of {name!r} is not in the blob "
                                 "store (collected or never uploaded)") from exc
    except StoreUnavailable as exc:
        raise HTTPException(502, f"the blob store did not answer: {exc}") from exc


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
