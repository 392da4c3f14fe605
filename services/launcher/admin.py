"""A small client of the query service's admin API (users, teams, keys)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from .errors import AdminRequestFailed, LauncherError

TIMEOUT_S = 30.0


class AdminClient:
    """Calls ``/api/v1/admin/*`` with an admin user's API key.

    Args:
        base_url: The platform's URL, for example ``http://127.0.0.1:8080``.
        api_key: An admin user's key.
    """

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key

    def add_user(self, name: str, admin: bool = False) -> dict[str, Any]:
        return self._post("users", {"name": name, "admin": admin})

    def add_team(self, name: str, members: list[str]) -> dict[str, Any]:
        return self._post("teams", {"name": name, "members": members})

    def add_member(self, entity: str, user: str, role: str) -> dict[str, Any]:
        return self._post("members", {"entity": entity, "user": user, "role": role})

    def create_key(self, user: str, label: str = "") -> str:
        reply = self._post("keys", {"user": user, "label": label})
        return str(reply["api_key"])

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/api/v1/admin/{route}"
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self._api_key}",
                     "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                return _json(reply.read())
        except urllib.error.HTTPError as exc:
            raise AdminRequestFailed(exc.code, _detail(exc)) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LauncherError(
                f"cannot reach {self.base_url}: {exc}; is the server running? "
                "(`lodestar server status`)"
            ) from exc


def _json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw or b"{}")
    return value if isinstance(value, dict) else {"value": value}


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except (json.JSONDecodeError, OSError):
        return exc.reason or "no detail"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail or exc.reason)
