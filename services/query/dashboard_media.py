"""A run file's bytes for the page: ``GET /api/v1/dashboard/file/E/P/R?path=``.

Media values in a run's history name a run file (``media/images/...png``).
An ``<img>``, ``<audio>`` or ``<video>`` element can only send the sign-in
cookie, and the blob store's signed URLs are on another origin, so the page
reads the bytes through this same-origin route. It looks the path up in
``run_files`` (the latest undeleted content of the name), asks the artifacts
service, which owns the blobs, to sign reads of its chunks, and streams them
in blocks, with the content type guessed from the name. Content is
addressed by its hash, so answers may be cached for a long time under the
same ``sha`` query value.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from lodestar.errors import BadPath
from lodestar.files import normalize_name

from ..common.accounts import Principal
from .auth import COOKIE, principal, require_entity
from .dashboard_proxy import TIMEOUT_S, service_url

router = APIRouter()
Caller = Annotated[Principal, Depends(principal)]
BLOCK = 1024 * 1024

_LATEST = """
SELECT sha256, size, manifest FROM run_files FINAL
WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String}
  AND path = {path:String} AND deleted = 0
LIMIT 1
"""


@router.get("/file/{entity}/{project}/{run_id}")
async def run_file(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    path: Annotated[str, Query(min_length=1)],
) -> StreamingResponse:
    """The file's content; 404 when the run has no such file, 502 when S3 fails."""
    require_entity(who, entity)
    name = normal_name(path)
    found = await asyncio.to_thread(
        request.app.state.storage.query, _LATEST,
        {"e": entity, "p": project, "r": run_id, "path": name},
    )
    if not found:
        raise HTTPException(404, f"run {entity}/{project}/{run_id} has no file "
                                 f"{name!r}")
    row = found[0]
    return await stream_chunks(request, entity, _chunks(row), name, int(row["size"]))


async def stream_chunks(
    request: Request, entity: str, shas: list[str], name: str, size: int
) -> StreamingResponse:
    """Stream content of `entity` stored as chunks `shas`, typed by `name`."""
    blocks = await asyncio.to_thread(chunk_blocks, request, entity, shas, name)
    first = await asyncio.to_thread(_first_block, blocks, name)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    headers = {"Content-Length": str(size),
               "Cache-Control": "private, max-age=86400",
               "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(_chain(first, blocks), media_type=kind,
                             headers=headers)


def chunk_blocks(
    request: Request, entity: str, shas: list[str], name: str
) -> Iterator[bytes]:
    """The content stored as chunks `shas`, in blocks (blocking calls)."""
    urls = _signed_urls(request, entity, shas, name)
    return _read(urls[sha] for sha in shas)


def _signed_urls(
    request: Request, entity: str, shas: list[str], name: str
) -> dict[str, str]:
    """Ask the artifacts service, which owns the blobs, to sign the reads."""
    auth = request.headers.get("authorization") or (
        "Bearer " + request.cookies.get(COOKIE, "")
    )
    url = (f"{service_url(request.app.state.config, 'artifacts')}"
           f"/api/v1/blobs/{entity}/urls")
    ask = urllib.request.Request(
        url, data=json.dumps({"chunks": list(dict.fromkeys(shas))}).encode(),
        headers={"Authorization": auth, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(ask, timeout=TIMEOUT_S) as answer:
            return json.loads(answer.read())["urls"]
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise HTTPException(404, f"the content of {name!r} is not in the "
                                "blob store (collected or never uploaded)") from exc
        raise HTTPException(
            502, f"the artifacts service answered {exc.code}"
        ) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise HTTPException(
            502, f"the artifacts service did not answer: {exc}"
        ) from exc


def _read(urls: Iterator[str]) -> Iterator[bytes]:
    for url in urls:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            while block := answer.read(BLOCK):
                yield block


def normal_name(path: str) -> str:
    """`path` when it is a normal file name; 422 naming the normal form if not."""
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
    """The first block, so a failing read is an error before the answer starts."""
    try:
        return next(blocks, b"")
    except (urllib.error.URLError, OSError) as exc:
        raise HTTPException(502, f"the blob store did not answer for {name!r}: "
                                 f"{exc}") from exc


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
