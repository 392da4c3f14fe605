"""Artifact files and downloads for the dashboard, under ``/api/v1/dashboard``.

| route | returns |
|---|---|
| ``GET /artifact-files/{e}/{p}/{name}/{ref}`` | the version and its entries |
| ``GET /artifact-file/{e}/{p}/{name}/{ref}?path=&download=`` | an entry's bytes |
| ``GET /artifact-lineage/{e}/{p}/{name}/{ref}`` | runs and artifacts around it |
| ``GET /download/{e}/{p}/{r}?path=`` | a run file as an attachment |

The artifacts service owns versions and blobs: a version is read from it
with the caller's key (so it decides who may see it), its manifest is a
blob of the entity, read through signed chunk URLs as run files are
(`dashboard_media.chunk_blocks`). Only names the manifest lists are served,
so a request cannot reach any other content. Answers carry a sandbox
policy: an HTML or SVG entry opened from its URL runs no script in the
dashboard's origin.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from lodestar.artifacts.manifest import Entry, FileManifest, load_manifest

from ..common.accounts import Principal
from . import dashboard_artifacts_lineage as lineage
from . import dashboard_media as media
from .auth import COOKIE, principal, require_entity
from .dashboard_proxy import TIMEOUT_S, service_url

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])
Caller = Annotated[Principal, Depends(principal)]
Path = Annotated[str, Query(min_length=1, max_length=4096)]
MAX_MANIFEST = 64 * 1024 * 1024
CACHED_MANIFESTS = 64
SANDBOX = "sandbox"

_manifests: OrderedDict[str, dict[str, Entry]] = OrderedDict()


@router.get("/artifact-files/{entity}/{project}/{name}/{ref}")
async def artifact_files(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str
) -> dict[str, Any]:
    """The version (as the artifacts service describes it) and its entries."""
    require_entity(who, entity)
    version = await read_version(request, entity, project, name, ref)
    entries = await _entries(request, entity, version)
    version["files"] = [_public(entry) for entry in entries.values()]
    return version


@router.get("/artifact-file/{entity}/{project}/{name}/{ref}")
async def artifact_file(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str,
    path: Path, download: bool = False,
) -> StreamingResponse:
    """An entry's content; 404 for a name the version lacks, 409 for a reference."""
    require_entity(who, entity)
    media.normal_name(path)
    version = await read_version(request, entity, project, name, ref)
    entries = await _entries(request, entity, version)
    entry = entries.get(path)
    if entry is None:
        raise HTTPException(404, f"{name}:{version['version']} has no file {path!r}")
    if entry.ref:
        raise HTTPException(409, f"{path!r} is a reference to {entry.ref}; its "
                                 "content is not stored by the platform")
    answer = await media.stream_chunks(request, entity, list(entry.file.chunk_list),
                                       path, entry.size)
    return _guarded(answer, path, download)


@router.get("/artifact-lineage/{entity}/{project}/{name}/{ref}")
async def artifact_lineage(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str
) -> dict[str, Any]:
    """Nodes and edges: upstream artifacts, producers, this, consumers, outputs."""
    require_entity(who, entity)
    version = await read_version(request, entity, project, name, ref)
    return await asyncio.to_thread(
        lineage.graph, request.app.state.storage, who, version
    )


@router.get("/download/{entity}/{project}/{run_id}")
async def run_file_download(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    path: Path,
) -> StreamingResponse:
    """A run file, as the media route streams it, to be saved under its name."""
    answer = await media.run_file(request, who, entity, project, run_id, path)
    return _guarded(answer, path, True)


async def read_version(
    request: Request, entity: str, project: str, name: str, ref: str
) -> dict[str, Any]:
    """One version from the artifacts service, asked with the caller's key."""
    parts = "/".join(urllib.parse.quote(p, safe="") for p in (entity, project, name))
    url = (f"{service_url(request.app.state.config, 'artifacts')}/api/v1/artifacts/"
           f"{parts}/versions/{urllib.parse.quote(ref, safe='')}")
    return await asyncio.to_thread(_get_json, url, _auth(request))


def _auth(request: Request) -> str:
    return request.headers.get("authorization") or (
        "Bearer " + request.cookies.get(COOKIE, "")
    )


def _get_json(url: str, auth: str) -> dict[str, Any]:
    ask = urllib.request.Request(url, headers={"Authorization": auth})
    try:
        with urllib.request.urlopen(ask, timeout=TIMEOUT_S) as answer:
            found: dict[str, Any] = json.loads(answer.read())
            return found
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404, 422):
            raise HTTPException(exc.code, _detail(exc)) from exc
        raise HTTPException(502, f"the artifacts service answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise HTTPException(
            502, f"the artifacts service did not answer: {exc}"
        ) from exc


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("detail") or exc.reason)
    except (ValueError, AttributeError):
        return str(exc.reason)


async def _entries(
    request: Request, entity: str, version: dict[str, Any]
) -> dict[str, Entry]:
    """The version's entries; manifests are content-addressed, so cached."""
    manifest = FileManifest.from_dict(version["manifest"])
    key = f"{entity}/{manifest.sha256}"
    if key in _manifests:
        _manifests.move_to_end(key)
        return _manifests[key]
    entries = await asyncio.to_thread(_read_manifest, request, entity, manifest)
    _manifests[key] = entries
    while len(_manifests) > CACHED_MANIFESTS:
        _manifests.popitem(last=False)
    return entries


def _read_manifest(
    request: Request, entity: str, manifest: FileManifest
) -> dict[str, Entry]:
    if manifest.size > MAX_MANIFEST:
        raise HTTPException(413, f"the manifest is {manifest.size} bytes; the "
                                 f"dashboard lists at most {MAX_MANIFEST}")
    shas = list(manifest.chunk_list)
    data = b"".join(media.chunk_blocks(request, entity, shas, "manifest"))
    try:
        return load_manifest(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(502, f"the stored manifest cannot be read: {exc}") from exc


def _public(entry: Entry) -> dict[str, Any]:
    body: dict[str, Any] = {"path": entry.path, "size": entry.size}
    if entry.ref:
        body["ref"] = entry.ref
    else:
        body["sha256"] = entry.sha256
    return body


def _guarded(
    answer: StreamingResponse, path: str, download: bool
) -> StreamingResponse:
    answer.headers["Content-Security-Policy"] = SANDBOX
    if download:
        answer.headers["Content-Disposition"] = _attachment(path)
    return answer


def _attachment(path: str) -> str:
    """``attachment`` with the base name, ASCII-safe and as UTF-8 (RFC 6266)."""
    base = path.rsplit("/", 1)[-1]
    plain = "".join(c if c.isascii() and c.isprintable() and c not in '"\\'
                    else "_" for c in base)
    return (f'attachment; filename="{plain}"; '
            f"filename*=UTF-8''{urllib.parse.quote(base, safe='')}")
