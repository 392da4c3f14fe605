"""The alerts REST API, served by the alerts service on ``alerts_port``.

Every route needs ``Authorization: Bearer <API key>``; clients find the
service's URL under ``"alerts"`` in ``GET /api/v1/discovery``. Error bodies
are ``{"detail": "<what to fix>"}``. Secrets are accepted, sealed, and shown
only masked.

| route | does |
|---|---|
| ``GET/POST /api/v1/alerts/channels``, ``DELETE …/channels/{id}`` | channels |
| ``POST /api/v1/alerts/channels/{id}/test`` | one test message, no retries |
| ``GET/POST /api/v1/alerts/subscriptions``, ``DELETE …/{id}`` | subscriptions |
| ``GET/POST /api/v1/alerts/rules``, ``DELETE …/rules/{id}`` | rules |
| ``GET/POST /api/v1/alerts/switches`` | server-side kinds on or off |
| ``GET /api/v1/alerts/alerts/{id}`` | one alert and its deliveries, live |
| ``GET /api/v1/alerts/log`` | the alert log with every attempt (ClickHouse) |
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from ..common.accounts import Principal
from . import access
from .channels import deliver
from .errors import NotFound, SendFailed
from .ledger import AlertRecord
from .model import (
    Channel,
    Owner,
    Rule,
    Subscription,
    Switch,
    level_index,
    new_id,
    parse_email,
    parse_kinds,
    parse_rule,
    parse_slack,
)
from .service import AlertsService

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Caller = Annotated[Principal, Depends(access.principal)]
JsonBody = Annotated[dict[str, Any], Body()]


def _service(request: Request) -> AlertsService:
    return request.app.state.service


# ---- channels ----------------------------------------------------------------


@router.get("/channels")
def list_channels(request: Request, who: Caller) -> dict[str, Any]:
    service = _service(request)
    mine = [c for c in service.store.channels.values() if access.may_use(who, c)]
    mine.sort(key=lambda c: c.created_at)
    return {"channels": [access.shown(c, service.box) for c in mine]}


@router.post("/channels", status_code=201)
async def add_channel(request: Request, who: Caller, body: JsonBody) -> dict[str, Any]:
    service = _service(request)
    channel = _new_channel(service, who, body)
    await service.store.put(channel)
    shown = access.shown(channel, service.box)
    if body.get("subscribe") is not None:
        sub = _new_subscription(who, channel, dict(body["subscribe"] or {}))
        await service.store.put(sub)
        shown["subscription"] = sub.to_json()
    return shown


def _new_channel(service: AlertsService, who: Principal, body: dict) -> Channel:
    kind = str(body.get("type") or "")
    parse = {"slack": parse_slack, "email": parse_email}.get(kind)
    if parse is None:
        raise HTTPException(422, f"type {kind!r}: use 'slack' or 'email'")
    settings, secret = parse(body)
    entity = str(body.get("entity") or "")
    if entity:
        access.require_entity(who, entity)
    owner = Owner(entity=entity) if entity else Owner(user=who.user)
    ident = new_id("c")
    name = str(body.get("name") or f"{kind}-{ident[1:5]}")
    return Channel(
        id=ident, type=kind, name=name, owner=owner, settings=settings,
        secret=service.box.seal(secret, ident), created_by=who.user,
        created_at=time.time(),
    )


@router.delete("/channels/{channel_id}")
async def remove_channel(request: Request, who: Caller, channel_id: str
                         ) -> dict[str, Any]:
    service = _service(request)
    access.channel(service, who, channel_id)
    for sub in list(service.store.subscriptions.values()):
        if sub.channel_id == channel_id:
            await service.store.remove("sub", sub.id)
    await service.store.remove("channel", channel_id)
    return {"removed": channel_id}


@router.post("/channels/{channel_id}/test")
async def test_channel(request: Request, who: Caller, channel_id: str
                       ) -> dict[str, Any]:
    service = _service(request)
    channel = access.channel(service, who, channel_id)
    alert = _test_alert(who, channel, time.time())
    try:
        await deliver(channel, alert, service.box, service.settings)
    except SendFailed as exc:
        return {"channel": channel_id, "status": "failed", "error": exc.reason}
    return {"channel": channel_id, "status": "sent", "error": ""}


def _test_alert(who: Principal, channel: Channel, now: float) -> AlertRecord:
    return AlertRecord(
        alert_id=new_id("test"), kind="user", rule="test",
        title=f"Test message for channel {channel.name}",
        text=f"{who.user} checked that this channel works.", level=0,
        entity=channel.owner.entity or who.user, project="(test)", run_id="",
        run_name="(no run)", run_url="", event_time=now, fired_at=now, paged=True,
    )


# ---- subscriptions -----------------------------------------------------------


@router.get("/subscriptions")
def list_subscriptions(request: Request, who: Caller) -> dict[str, Any]:
    store = _service(request).store
    subs = [s for s in store.subscriptions.values() if who.can_access(s.entity)]
    return {"subscriptions": [s.to_json() for s in subs]}


@router.post("/subscriptions", status_code=201)
async def add_subscription(request: Request, who: Caller, body: JsonBody
                           ) -> dict[str, Any]:
    service = _service(request)
    channel = access.channel(service, who, str(body.get("channel_id") or ""))
    sub = _new_subscription(who, channel, body)
    await service.store.put(sub)
    return sub.to_json()


def _new_subscription(who: Principal, channel: Channel, body: dict) -> Subscription:
    entity = str(body.get("entity") or channel.owner.entity or who.user)
    access.require_entity(who, entity)
    min_level = str(body.get("min_level") or "info")
    level_index(min_level)
    return Subscription(
        id=new_id("s"), channel_id=channel.id, entity=entity,
        project=str(body.get("project") or ""), kinds=parse_kinds(body.get("kinds")),
        min_level=min_level, created_by=who.user,
    )


@router.delete("/subscriptions/{sub_id}")
async def remove_subscription(request: Request, who: Caller, sub_id: str
                              ) -> dict[str, Any]:
    store = _service(request).store
    sub = store.subscriptions.get(sub_id)
    if sub is None or not who.can_access(sub.entity):
        raise NotFound("subscription", sub_id)
    await store.remove("sub", sub_id)
    return {"removed": sub_id}


# ---- rules -------------------------------------------------------------------


@router.get("/rules")
def list_rules(request: Request, who: Caller, entity: str | None = None,
               project: str | None = None) -> dict[str, Any]:
    rules = [r for r in _service(request).store.rules.values()
             if who.can_access(r.entity) and (entity in (None, r.entity))
             and (project in (None, r.project))]
    return {"rules": [_rule_json(r) for r in rules]}


@router.post("/rules", status_code=201)
async def add_rule(request: Request, who: Caller, body: JsonBody) -> dict[str, Any]:
    entity = str(body.get("entity") or who.default_entity)
    access.require_entity(who, entity)
    rule = parse_rule(body, entity, who.user)
    await _service(request).store.put(rule)
    return _rule_json(rule)


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {**rule.to_json(), "description": rule.describe()}


@router.delete("/rules/{rule_id}")
async def remove_rule(request: Request, who: Caller, rule_id: str) -> dict[str, Any]:
    store = _service(request).store
    rule = store.rules.get(rule_id)
    if rule is None or not who.can_access(rule.entity):
        raise NotFound("rule", rule_id)
    await store.remove("rule", rule_id)
    return {"removed": rule_id}


# ---- switches ----------------------------------------------------------------


@router.get("/switches")
def list_switches(request: Request, who: Caller) -> dict[str, Any]:
    switches = [s for s in _service(request).store.switches.values()
                if s.user == who.user or (s.entity and who.can_access(s.entity))]
    return {"switches": [s.to_json() for s in switches]}


@router.post("/switches")
async def set_switch(request: Request, who: Caller, body: JsonBody
                     ) -> dict[str, Any]:
    """``{"kind", "enabled", "project"?, "entity"?}``: without a project, for you."""
    store = _service(request).store
    kinds = parse_kinds([body.get("kind")])
    project = str(body.get("project") or "")
    entity = str(body.get("entity") or who.default_entity) if project else ""
    if project:
        access.require_entity(who, entity)
    scope = {"entity": entity, "project": project} if project else {"user": who.user}
    disabled = store.disabled(**scope)
    if body.get("enabled", True):
        disabled -= set(kinds)
    else:
        disabled |= set(kinds)
    switch = Switch(**scope, disabled=tuple(sorted(disabled)))
    await store.put_switch(switch)
    return switch.to_json()


# ---- the log -----------------------------------------------------------------


@router.get("/alerts/{alert_id}")
async def one_alert(request: Request, who: Caller, alert_id: str) -> dict[str, Any]:
    service = _service(request)
    assert service.ledger is not None
    alert = await service.ledger.alert(alert_id)
    if alert is None or not who.can_access(alert.entity):
        raise NotFound("alert", alert_id)
    deliveries = [await service.ledger.delivery(alert_id, c) for c in alert.channels]
    return {**alert.to_json(),
            "deliveries": [d.__dict__ for d in deliveries if d is not None]}


@router.get("/log")
async def alert_log(
    request: Request, who: Caller, entity: str | None = None,
    project: str | None = None, run_id: str | None = None, limit: int = 100,
) -> dict[str, Any]:
    entity = entity or who.default_entity
    access.require_entity(who, entity)
    service = _service(request)
    params = {"entity": entity, "project": project, "run_id": run_id,
              "limit": max(1, min(limit, 1000))}
    return await access.read_log(service.config, params)
