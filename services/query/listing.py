"""Run searches with MongoDB-style filters, and a run's console lines."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..common.accounts import Principal
from .auth import principal, require_entity
from .filters import FilterError
from .search import RunSearch

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(principal)]


class RunQuery(BaseModel):
    """One page of a project's runs that match `filters`, sorted by `order`."""

    model_config = ConfigDict(extra="forbid")
    filters: dict[str, Any] | None = None
    order: str = "+created_at"
    limit: int = Field(default=50, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


@router.post("/search/runs/{entity}/{project}", tags=["runs"])
def search_runs(
    request: Request, who: Caller, entity: str, project: str,
    query: Annotated[RunQuery, Body()],
) -> dict[str, Any]:
    """``{"runs": [...], "total": N}``; a bad filter is a 400 saying why."""
    require_entity(who, entity)
    search = RunSearch(request.app.state.storage, request.app.state.config.public_url)
    try:
        return search.page(entity, project, query.filters, query.order,
                           query.limit, query.offset)
    except FilterError as exc:
        raise HTTPException(400, f"bad filter: {exc}") from exc


@router.get("/runs/{entity}/{project}/{run_id}/console", tags=["history"])
def console(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    last: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> dict[str, Any]:
    """The run's captured console lines, oldest first (the `last` N only)."""
    require_entity(who, entity)
    limit = "LIMIT {n:UInt64}" if last else ""
    rows = request.app.state.storage.query(
        "SELECT timestamp, stderr, text FROM console FINAL "
        "WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String} "
        f"ORDER BY timestamp DESC, publisher_id DESC, seq DESC, line DESC {limit}",
        {"e": entity, "p": project, "r": run_id, "n": last or 0},
    )
    lines = [{"timestamp": row["timestamp"], "stream": "stderr" if row["stderr"]
              else "stdout", "text": row["text"]} for row in reversed(rows)]
    return {"lines": lines}


@router.get("/runs/{entity}/{project}/{run_id}/wals/{wal_id}", tags=["history"])
def wal_facts(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    wal_id: str,
) -> dict[str, Any]:
    """What the store holds from one WAL: the highest event applied, and per
    history key its steps and checksums (for ``lodestar sync --verify``).

    A WAL the store holds nothing of is ``max_seq`` 0 with no keys, not a 404:
    that is the true answer for a WAL whose upload never arrived, and the
    verifier reports each of its records as missing instead of failing.
    """
    require_entity(who, entity)
    storage = request.app.state.storage
    params = {"e": entity, "p": project, "r": run_id, "w": wal_id}
    progress = storage.query(
        "SELECT max(max_seq) AS seq FROM publisher_progress WHERE entity = "
        "{e:String} AND project = {p:String} AND run_id = {r:String} "
        "AND publisher_id = {w:String}", params,
    )
    keys = storage.query(
        "SELECT key, count() AS rows, min(step) AS min_step, max(step) AS max_step, "
        "sum(step) AS step_sum, sumIf(f64, kind = 1 AND isFinite(f64)) AS value_sum "
        "FROM (SELECT key, step, kind, f64, publisher_id FROM history FINAL "
        "WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String})"
        " WHERE publisher_id = {w:String} GROUP BY key", params,
    )
    return {"max_seq": int(progress[0]["seq"] or 0) if progress else 0,
            "keys": {row.pop("key"): row for row in keys}}
