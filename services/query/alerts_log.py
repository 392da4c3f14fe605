"""The alert log's internal read route, for the alerts service.

``GET /internal/v1/alerts/log?entity=E&project=P&run_id=R&limit=N`` with
``Authorization: Service <server_secret>`` returns ``{"alerts": [...]}``,
newest first: each alert as the alerts service recorded it, with
``"attempts"``, every delivery attempt's outcome in order. The alerts service
checks the user's rights before it asks.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from ..writer.storage import Storage

router = APIRouter(prefix="/internal/v1/alerts", include_in_schema=False)

_ALERTS = (
    "SELECT alert_id, kind, rule, title, text, level, paged, reason, "
    "event_time, fired_at, entity, project, run_id FROM alert_log FINAL "
    "WHERE entity = {e:String} {where} ORDER BY fired_at DESC LIMIT {n:UInt32}"
)
_ATTEMPTS = (
    "SELECT alert_id, channel_id, attempt, status, error, timestamp "
    "FROM alert_deliveries FINAL WHERE entity = {e:String} "
    "AND alert_id IN {ids:Array(String)} ORDER BY timestamp, attempt"
)


def require_service(request: Request) -> None:
    """Only another service of the platform, holding the server secret."""
    secret = request.app.state.config.server_secret
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if not secret or scheme != "Service" or not hmac.compare_digest(
        token.strip().encode(), secret.encode()
    ):
        raise HTTPException(401, "internal routes need 'Authorization: Service "
                            "<server_secret>'")


@router.get("/log")
def alert_log(
    request: Request, entity: str, project: str | None = None,
    run_id: str | None = None, limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    require_service(request)
    storage: Storage = request.app.state.storage
    params: dict[str, Any] = {"e": entity, "n": limit}
    where = ""
    if project:
        where += "AND project = {p:String} "
        params["p"] = project
    if run_id:
        where += "AND run_id = {r:String} "
        params["r"] = run_id
    alerts = storage.query(_ALERTS.replace("{where}", where), params)
    _attach_attempts(storage, entity, alerts)
    return {"alerts": alerts}


def _attach_attempts(storage: Storage, entity: str, alerts: list[dict]) -> None:
    for alert in alerts:
        alert["paged"] = bool(alert["paged"])
        alert["attempts"] = []
    if not alerts:
        return
    by_id = {alert["alert_id"]: alert for alert in alerts}
    rows = storage.query(_ATTEMPTS, {"e": entity, "ids": list(by_id)})
    for row in rows:
        by_id[row.pop("alert_id")]["attempts"].append(row)
