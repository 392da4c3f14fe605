"""The artifacts service's REST API (every route needs an API key).

| route | does |
|---|---|
| ``POST /api/v1/blobs/{entity}/prepare`` | PUT URLs for chunks the entity lacks |
| ``POST /api/v1/blobs/{entity}/commit`` | check staged chunks, make them addressable |
| ``POST /api/v1/blobs/{entity}/urls`` | GET URLs for chunks the entity holds |
| ``GET /api/v1/artifacts/{e}/{p}`` | the project's artifact names (``?type=``) |
| ``POST /api/v1/artifacts/{e}/{p}/{name}/versions`` | log a version |
| ``GET /api/v1/artifacts/{e}/{p}/{name}/versions`` | every version |
| ``GET …/versions/{ref}`` | one version (``vN``, an alias, ``latest``) |
| ``POST …/versions/{ref}/aliases`` | ``{"add": [...], "remove": [...]}`` |
| ``DELETE …/versions/{ref}?delete_aliases=`` | delete a version |
| ``POST /api/v1/admin/gc`` | garbage collection (admins) |
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from ..common.accounts import Principal
from ..query.auth import principal, require_admin, require_entity
from .blobs import BlobStore, check_sha
from .catalog import Catalog, Place
from .gc import collect_garbage

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(principal)]
MAX_CHUNKS = 10_000


class Chunks(BaseModel):
    chunks: list[str] = Field(max_length=MAX_CHUNKS)


class AliasChange(BaseModel):
    add: list[str] = []
    remove: list[str] = []


class GcRequest(BaseModel):
    entity: str | None = None
    grace_s: float = Field(3600.0, ge=0)


def _blobs(request: Request) -> BlobStore:
    return request.app.state.blobs


def _catalog(request: Request) -> Catalog:
    state = request.app.state
    return Catalog(state.blobs, state.versions, state.publisher)


def _place(who: Principal, entity: str, project: str, name: str) -> Place:
    require_entity(who, entity)
    return Place(entity, project, name)


@router.post("/blobs/{entity}/prepare", tags=["blobs"])
async def prepare(request: Request, who: Caller, entity: str, body: Chunks) -> dict:
    require_entity(who, entity)
    shas = [check_sha(s) for s in body.chunks]
    staged = await asyncio.to_thread(_blobs(request).prepare, entity, shas)
    return {"missing": [{"sha256": s.sha256, "url": s.url, "staged": s.staged}
                        for s in staged]}


@router.post("/blobs/{entity}/commit", tags=["blobs"])
async def commit(request: Request, who: Caller, entity: str, body: Chunks) -> dict:
    require_entity(who, entity)
    shas = [check_sha(s) for s in body.chunks]
    failed = await asyncio.to_thread(_blobs(request).commit, entity, shas)
    return {"failed": failed}


@router.post("/blobs/{entity}/urls", tags=["blobs"])
async def urls(request: Request, who: Caller, entity: str, body: Chunks) -> dict:
    require_entity(who, entity)
    shas = [check_sha(s) for s in body.chunks]
    found = await asyncio.to_thread(_blobs(request).download_urls, entity, shas)
    return {"urls": found}


@router.get("/artifacts/{entity}/{project}", tags=["artifacts"])
async def list_names(
    request: Request, who: Caller, entity: str, project: str,
    type: str | None = None, name: str | None = None,
) -> dict[str, Any]:
    require_entity(who, entity)
    versions = request.app.state.versions
    found = []
    for each in await versions.names(entity, project):
        if name and each != name:
            continue
        collection = await versions.collection(entity, project, each)
        if type and collection.type != type:
            continue
        live = sum(d is not None for d in collection.versions)
        found.append({"name": each, "type": collection.type, "versions": live,
                      "latest": None if collection.latest is None
                      else f"v{collection.latest}"})
    return {"artifacts": found}


@router.post("/artifacts/{entity}/{project}/{name}/versions", tags=["artifacts"])
async def log_version(
    request: Request, who: Caller, entity: str, project: str, name: str,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    place = _place(who, entity, project, name)
    return await _catalog(request).log_version(place, body)


@router.get("/artifacts/{entity}/{project}/{name}/versions", tags=["artifacts"])
async def list_versions(
    request: Request, who: Caller, entity: str, project: str, name: str
) -> dict[str, Any]:
    return await _catalog(request).list_versions(_place(who, entity, project, name))


@router.get("/artifacts/{entity}/{project}/{name}/versions/{ref}",
            tags=["artifacts"])
async def get_version(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str
) -> dict[str, Any]:
    return await _catalog(request).get(_place(who, entity, project, name), ref)


@router.post("/artifacts/{entity}/{project}/{name}/versions/{ref}/aliases",
             tags=["artifacts"])
async def move_aliases(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str,
    body: AliasChange,
) -> dict[str, Any]:
    place = _place(who, entity, project, name)
    return await _catalog(request).move_aliases(place, ref, body.add, body.remove)


@router.delete("/artifacts/{entity}/{project}/{name}/versions/{ref}",
               tags=["artifacts"])
async def delete_version(
    request: Request, who: Caller, entity: str, project: str, name: str, ref: str,
    delete_aliases: bool = False,
) -> dict[str, Any]:
    place = _place(who, entity, project, name)
    return await _catalog(request).delete(place, ref, delete_aliases)


@router.post("/admin/gc", tags=["admin"])
async def gc(request: Request, who: Caller, body: GcRequest) -> dict[str, Any]:
    """Delete chunks that no run file or artifact version references."""
    require_admin(who)
    state = request.app.state
    report = await collect_garbage(state.config, state.blobs, state.versions,
                                   body.entity, body.grace_s)
    return report.as_dict()
