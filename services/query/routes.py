"""The read API: discovery, viewer, projects, runs, history, system, keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from ..common.accounts import Principal
from ..writer.storage import Storage
from .auth import principal, require_entity
from .history import MAX_SAMPLES, HistoryReader, RunRef, pivot
from .runs import RunReader

VERSION = "0.1.0"
INT64_MAX = 2**63 - 1
BUILTIN_AXES = ("_step", "_runtime", "_timestamp")

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(principal)]


def _storage(request: Request) -> Storage:
    return request.app.state.storage


def _run_ref(who: Principal, entity: str, project: str, run_id: str) -> RunRef:
    require_entity(who, entity)
    return RunRef(entity, project, run_id)


def _keys(keys: str | None, key: list[str] | None) -> list[str]:
    """Keys from repeated `key=` (any text) or a comma list in `keys=`."""
    chosen = list(key or [])
    if keys:
        chosen += [k for k in keys.split(",") if k]
    return list(dict.fromkeys(chosen))


def _require_run(request: Request, ref: RunRef) -> dict[str, Any]:
    reader = RunReader(_storage(request), request.app.state.config.public_url)
    found = reader.get(ref)
    if found is None:
        raise HTTPException(
            404, f"run {ref.entity}/{ref.project}/{ref.run_id} not found; list the "
            f"project's runs with GET /api/v1/runs/{ref.entity}/{ref.project}",
        )
    return found


@router.get("/discovery", tags=["platform"])
def discovery(request: Request) -> dict[str, str]:
    """Where the agent finds ingest and artifacts (no key needed)."""
    config = request.app.state.config
    return {"ingest": config.ingest_target, "artifacts": config.artifacts_url,
            "alerts": config.alerts_url, "version": VERSION}


@router.get("/viewer", tags=["platform"])
def viewer(who: Caller) -> dict[str, Any]:
    return {"user": who.user, "admin": who.admin, "entities": sorted(who.entities),
            "default_entity": who.default_entity}


@router.get("/projects", tags=["runs"])
def projects(request: Request, who: Caller, entity: str | None = None) -> dict:
    entity = entity or who.default_entity
    require_entity(who, entity)
    return {"projects": RunReader(_storage(request)).projects(entity)}


@router.get("/runs/{entity}/{project}", tags=["runs"])
def list_runs(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    order: Annotated[str, Query(pattern="^-?created_at$")] = "-created_at",
) -> dict[str, Any]:
    require_entity(who, entity)
    reader = RunReader(_storage(request), request.app.state.config.public_url)
    return reader.page(entity, project, limit, offset, order)


@router.get("/runs/{entity}/{project}/{run_id}", tags=["runs"])
def get_run(
    request: Request, who: Caller, entity: str, project: str, run_id: str
) -> dict[str, Any]:
    return _require_run(request, _run_ref(who, entity, project, run_id))


@router.get("/runs/{entity}/{project}/{run_id}/keys", tags=["history"])
def run_keys(
    request: Request, who: Caller, entity: str, project: str, run_id: str
) -> dict[str, list[str]]:
    ref = _run_ref(who, entity, project, run_id)
    return {"keys": HistoryReader(_storage(request)).keys(ref)}


@router.get("/runs/{entity}/{project}/{run_id}/history", tags=["history"])
def history(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    run_id: str,
    keys: str | None = None,
    key: Annotated[list[str] | None, Query()] = None,
    samples: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 500,
    x_axis: str = "_step",
) -> dict[str, Any]:
    """At most `samples` real rows; spikes, first and last steps survive."""
    ref = _run_ref(who, entity, project, run_id)
    reader = HistoryReader(_storage(request))
    chosen = _keys(keys, key)
    logged = reader.keys(ref) if not chosen or x_axis not in BUILTIN_AXES else []
    chosen = chosen or list(logged)
    if x_axis not in BUILTIN_AXES:
        _require_axis(ref, x_axis, logged)
        if x_axis not in chosen:
            chosen.append(x_axis)
    if not chosen:
        return {"rows": [], "keys": [], "sampled": False, "total_steps": 0}
    return reader.sample(ref, chosen, samples)


def _require_axis(ref: RunRef, x_axis: str, logged: list[str]) -> None:
    """An x axis is a built-in one or a key the run logged; else a 400."""
    if x_axis not in logged:
        raise HTTPException(
            400, f"unknown x_axis {x_axis!r}: run {ref.run_id} logged no such "
            f"key; use one of {', '.join(BUILTIN_AXES)} or a key from GET "
            f"/api/v1/runs/{ref.entity}/{ref.project}/{ref.run_id}/keys",
        )


@router.get("/runs/{entity}/{project}/{run_id}/history/scan", tags=["history"])
def scan(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    run_id: str,
    keys: str | None = None,
    key: Annotated[list[str] | None, Query()] = None,
    min_step: int = -INT64_MAX,
    max_step: int = INT64_MAX,
    page_size: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> dict[str, Any]:
    """Every row in step order, one page; ask again from `next_min_step`."""
    ref = _run_ref(who, entity, project, run_id)
    reader = HistoryReader(_storage(request))
    chosen = _keys(keys, key) or reader.keys(ref)
    if not chosen:
        return {"rows": [], "next_min_step": None}
    return reader.scan(ref, chosen, min_step, max_step, page_size)


@router.get("/runs/{entity}/{project}/{run_id}/system", tags=["history"])
def system(
    request: Request,
    who: Caller,
    entity: str,
    project: str,
    run_id: str,
    samples: Annotated[int, Query(ge=1, le=MAX_SAMPLES)] = 500,
) -> dict[str, Any]:
    ref = _run_ref(who, entity, project, run_id)
    found = _storage(request).query(
        "SELECT key, timestamp, value FROM system_metrics FINAL "
        "WHERE entity = {e:String} AND project = {p:String} AND run_id = {r:String} "
        "ORDER BY timestamp, key",
        ref.params(),
    )
    return {"rows": _system_rows(found, samples)}


def _system_rows(found: list[dict[str, Any]], samples: int) -> list[dict[str, Any]]:
    long = [{"step": r["timestamp"], "timestamp": r["timestamp"], "runtime": 0.0,
             "key": r["key"], "kind": 1, "f64": r["value"]} for r in found]
    rows = pivot(long)
    for row in rows:
        del row["_step"], row["_runtime"]
    if len(rows) <= samples:
        return rows
    stride = (len(rows) - 1) / max(samples - 1, 1)
    return [rows[round(i * stride)] for i in range(samples)]
