"""Who may see and use what, what the API shows, and the log's read path.

A channel owned by a user is that user's; one owned by an entity belongs to
every member of it. Keys are checked as the query service checks them,
against the watched copy of the accounts bucket. The alert log lives in
ClickHouse; it is read through the query service's internal API with the
service credential (``Authorization: Service <server_secret>``).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

from ..common.accounts import Principal
from ..common.config import PlatformConfig
from ..query.auth import principal, require_entity
from .crypto import SecretBox, mask
from .errors import NotFound, SecretError
from .model import Channel

if TYPE_CHECKING:
    from .service import AlertsService

__all__ = ["principal", "require_entity", "may_use", "shown", "channel", "read_log"]

LOG_TIMEOUT_S = 15.0


def may_use(who: Principal, channel: Channel) -> bool:
    owner = channel.owner
    return who.admin or owner.user == who.user or (
        bool(owner.entity) and who.can_access(owner.entity))


def channel(service: AlertsService, who: Principal, channel_id: str) -> Channel:
    found = service.store.channels.get(channel_id)
    if found is None or not may_use(who, found):
        raise NotFound("channel", channel_id)
    return found


def shown(channel: Channel, box: SecretBox) -> dict[str, Any]:
    """A channel as the API returns it: the secret masked, never whole."""
    data = channel.to_json()
    try:
        data["secret"] = mask(box.open(channel.secret, channel.id))
    except SecretError:
        data["secret"] = "(does not open with this server key)"
    return data


async def read_log(config: PlatformConfig, params: dict[str, Any]) -> dict[str, Any]:
    """The alert log from the query service's internal API."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    url = (f"http://{config.query_host}:{config.query_port}"
           f"/internal/v1/alerts/log?{query}")
    return await asyncio.to_thread(_get, url, config.server_secret)


def _get(url: str, secret: str) -> dict[str, Any]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Service {secret}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=LOG_TIMEOUT_S) as reply:
            return json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        raise HTTPException(502, f"the query service answered {exc.code} for the "
                            "alert log; check its log") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise HTTPException(503, f"the query service cannot be reached for the "
                            f"alert log ({exc}); try again") from None
