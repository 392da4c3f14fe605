"""Changes after the fact: edit a run's fields, config and summary; delete it.

Every change is events that the query service publishes (`publish.py`), never
a write of its own: ``Edit`` for name, notes, tags, group and job_type,
``ConfigUpdate`` and ``SummaryUpdate`` for keys set or removed, and a
``Tombstone`` for a delete. The writer applies them in stream order, so an
edit wins over what came before it and a later sync of the same WAL (whose
events the writer already holds) cannot undo it; a tombstone hides the run
from every later read for good. Each route waits until the writer has
applied its events, then answers with what a read now returns.

Services that publish outside this process wait for the writer through
``POST /internal/v1/applied``, authenticated with ``Service <server_secret>``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from lodestar._proto import events_pb2
from pydantic import BaseModel, ConfigDict, Field

from ..common.accounts import Principal
from .auth import principal, require_entity
from .dashboard_proxy import call_service, forwarded_headers, service_url
from .history import RunRef
from .publish import Published, PublishFailed, Target
from .runs import RunReader

router = APIRouter()
Caller = Annotated[Principal, Depends(principal)]
SCALAR_EDITS = ("name", "notes", "tags", "group", "job_type")


class KeyChanges(BaseModel):
    """Keys to set (merged into what is stored) and keys to remove."""

    model_config = ConfigDict(extra="forbid")
    set: dict[str, Any] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)


class RunEdit(BaseModel):
    """A change to a run; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = None
    notes: str | None = None
    tags: list[str] | None = None
    group: str | None = None
    job_type: str | None = None
    config: KeyChanges | None = None
    summary: KeyChanges | None = None


class AppliedQuery(BaseModel):
    """A batch another service published: wait until the writer applied it."""

    entity: str
    project: str
    run_id: str
    publisher_id: str
    last_seq: int
    stream_seq: int = 0
    timeout_s: float = Field(default=10.0, ge=0.0, le=60.0)


@router.patch("/api/v1/runs/{entity}/{project}/{run_id}", tags=["edits"])
async def edit_run(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    edit: Annotated[RunEdit, Body()],
) -> dict[str, Any]:
    """Change fields, config or summary keys; answers the run as now stored."""
    ref = _ref(who, entity, project, run_id)
    run = await asyncio.to_thread(_existing, request, ref)
    events = edit_events(edit)
    if events:
        await _publish(request, ref, events, run, who.user)
    return await asyncio.to_thread(_existing, request, ref)


@router.delete("/api/v1/runs/{entity}/{project}/{run_id}", tags=["edits"])
async def delete_run(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    delete_artifacts: bool = False,
) -> dict[str, Any]:
    """Hide the run for good (a tombstone); its rows stay in the store.

    With `delete_artifacts`, the artifact versions the run logged are deleted
    first (aliases and all), so a failure there leaves the run to retry.
    """
    ref = _ref(who, entity, project, run_id)
    run = await asyncio.to_thread(_existing, request, ref)
    reason = f"deleted by {who.user}"
    removed: list[str] = []
    if delete_artifacts:
        reason += "; delete_artifacts"
        removed = await asyncio.to_thread(_delete_logged_artifacts, request, who, ref)
    event = events_pb2.Event(tombstone=events_pb2.Tombstone(reason=reason))
    await _publish(request, ref, [event], run, who.user)
    return {"id": run_id, "deleted": True, "delete_artifacts": delete_artifacts,
            "deleted_artifacts": removed}


def _delete_logged_artifacts(
    request: Request, who: Principal, ref: RunRef
) -> list[str]:
    """Delete every artifact version `ref` logged; returns their ``name:vN``."""
    from .files import run_artifacts  # files imports this module

    logged = run_artifacts(request, who, ref.entity, ref.project, ref.run_id)
    base = service_url(request.app.state.config, "artifacts") + "/api/v1/artifacts/"
    headers = forwarded_headers(request)
    removed = []
    for item in logged["artifacts"]:
        place = "/".join(quote(part, safe="") for part in (
            item["entity"], item["project"], item["name"]))
        url = f"{base}{place}/versions/{quote(item['version'], safe='')}"
        status, body, _ = call_service("DELETE", url + "?delete_aliases=true", None,
                                       headers)
        if status not in (200, 404):  # 404: deleted already
            raise HTTPException(status, "could not delete artifact "
                                f"{item['name']}:{item['version']}: "
                                f"{body.decode(errors='replace')}")
        removed.append(f"{item['name']}:{item['version']}")
    return removed


@router.post("/internal/v1/applied", tags=["internal"])
async def applied(request: Request, query: AppliedQuery) -> dict[str, bool]:
    """True once the writer applied the batch; false after `timeout_s`."""
    _require_service(request)
    target = Target(query.entity, query.project, query.run_id)
    published = Published(target, query.publisher_id, query.last_seq,
                          query.last_seq, query.stream_seq)
    done = await request.app.state.applied.wait(published, query.timeout_s)
    return {"applied": done}


def edit_events(edit: RunEdit) -> list[events_pb2.Event]:
    """The events of one edit, in the order they are published."""
    events = []
    for name in SCALAR_EDITS:
        value = getattr(edit, name)
        if value is not None:
            body = events_pb2.Edit(field=name, value_json=json.dumps(value))
            events.append(events_pb2.Event(edit=body))
    if edit.config and (edit.config.set or edit.config.remove):
        update = events_pb2.ConfigUpdate(
            set_json=json.dumps(edit.config.set), remove=edit.config.remove
        )
        events.append(events_pb2.Event(config=update))
    if edit.summary and (edit.summary.set or edit.summary.remove):
        change = events_pb2.SummaryUpdate(
            set_json=json.dumps(edit.summary.set), remove=edit.summary.remove
        )
        events.append(events_pb2.Event(summary=change))
    return events


async def _publish(
    request: Request, ref: RunRef, events: list[events_pb2.Event],
    run: dict[str, Any], user: str,
) -> None:
    now = time.time()
    for event in events:
        event.timestamp = now
    target = Target(ref.entity, ref.project, ref.run_id)
    try:
        published = await request.app.state.publisher.publish(
            target, events, epoch=int(run.get("epoch") or 0), user=user
        )
    except PublishFailed as exc:
        raise HTTPException(503, f"the change was not stored: {exc}") from exc
    if not await request.app.state.applied.wait(published):
        raise HTTPException(
            503, "the change is stored but not readable yet; read the run again "
            "in a moment",
        )


def _ref(who: Principal, entity: str, project: str, run_id: str) -> RunRef:
    require_entity(who, entity)
    return RunRef(entity, project, run_id)


def _existing(request: Request, ref: RunRef) -> dict[str, Any]:
    reader = RunReader(request.app.state.storage, request.app.state.config.public_url)
    found = reader.get(ref)
    if found is None:
        raise HTTPException(
            404, f"run {ref.entity}/{ref.project}/{ref.run_id} not found (or "
            "deleted); list the project's runs to find its id",
        )
    return found


def _require_service(request: Request) -> None:
    secret = request.app.state.config.server_secret
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    ok = scheme == "Service" and secret and hmac.compare_digest(
        token.strip().encode(), secret.encode()
    )
    if not ok:
        raise HTTPException(
            401, "internal routes need 'Authorization: Service <server_secret>'"
        )
