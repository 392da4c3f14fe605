"""What a path that no route serves gets.

The page is also served at ``/<entity>/<project>/...`` (see
`dashboard.add_page_routes`), a pattern that would swallow every unknown
``/api/...`` path and answer it with HTML and a 200. `PageRoute` keeps such
routes off the API's paths, so an unknown API path falls through to the
router's 404, which `not_found` turns into a JSON body naming the path.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match

API_PREFIXES = ("/api/", "/internal/")
ROUTER_DETAIL = "Not Found"


class PageRoute(APIRoute):
    """A route for the page that never matches a path under `API_PREFIXES`."""

    def matches(
        self, scope: MutableMapping[str, Any]
    ) -> tuple[Match, MutableMapping[str, Any]]:
        if scope["type"] == "http" and _route_path(scope).startswith(API_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)


async def not_found(request: Request, exc: Exception) -> Response:
    """The router's bare 404 as a JSON body that names the path."""
    if not isinstance(exc, HTTPException):
        raise exc
    if exc.status_code != 404 or exc.detail != ROUTER_DETAIL:
        return await http_exception_handler(request, exc)
    return JSONResponse(
        {"detail": f"nothing at {request.method} {request.url.path}; the API's "
         "routes are listed at /openapi.json"},
        status_code=404, headers=exc.headers,
    )


def _route_path(scope: MutableMapping[str, Any]) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
