"""GET and POST JSON over urllib, with errors a user can act on."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..errors import ApiError

_HINTS = {
    401: "check the API key (LODESTAR_API_KEY, `lodestar login`, or "
         "Api(api_key=...))",
    403: "use an entity your user belongs to, or ask an admin to add you",
    404: "check the entity, project and run id",
}


class Transport:
    """One base URL, one key, one timeout for every call."""

    def __init__(self, base_url: str, api_key: str | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = urllib.parse.urlencode(_flatten(params or {}), doseq=True)
        return self._call("GET", path + ("?" + query if query else ""), None)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("POST", path, json.dumps(body).encode())

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._call("PATCH", path, json.dumps(body).encode())

    def delete(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = urllib.parse.urlencode(_flatten(params or {}), doseq=True)
        return self._call("DELETE", path + ("?" + query if query else ""), None)

    def _call(self, method: str, path: str, data: bytes | None) -> Any:
        url = self.base_url + path
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._api_key:
            request.add_header("Authorization", f"Bearer {self._api_key}")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _api_error(exc, url) from None
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ApiError(
                0, f"cannot reach {self.base_url} ({reason}); is the platform "
                "running (`lodestar server status`) and is LODESTAR_BASE_URL right?",
                url,
            ) from exc


def _flatten(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _api_error(exc: urllib.error.HTTPError, url: str) -> ApiError:
    try:
        detail = json.loads(exc.read()).get("detail")
    except (ValueError, AttributeError, OSError):
        detail = None
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(
            f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}" for d in detail
        )
    message = str(detail or exc.reason)
    hint = _HINTS.get(exc.code)
    return ApiError(exc.code, f"{message} ({hint})" if hint else message, url)
