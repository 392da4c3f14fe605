"""The dashboard's way to the artifacts and alerts services.

The page is served by the query service; the artifacts and alerts services
listen on ports of their own, so a browser call to them would be
cross-origin. The page calls ``/api/v1/dashboard/svc/<service>/<path>``
instead, and the query service forwards the request (method, query string,
JSON body and the caller's key as a Bearer header) to that service's
``/api/v1/<path>`` and returns its answer as it is. Only the two services'
public API paths are reachable this way.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from ..common.config import PlatformConfig
from .auth import COOKIE

TIMEOUT_S = 30.0
MAX_BYTES = 32 * 1024 * 1024
SERVICES = ("artifacts", "alerts")

router = APIRouter(prefix="/svc")


def service_url(config: PlatformConfig, service: str) -> str:
    port = config.artifacts_port if service == "artifacts" else config.alerts_port
    return f"http://{config.query_host}:{port}"


@router.api_route("/{service}/{path:path}", methods=["GET", "POST", "PUT", "DELETE"])
async def forward(request: Request, service: str, path: str) -> Response:
    """The service's answer to the same request, or 502 when it is down."""
    if service not in SERVICES:
        raise HTTPException(404, f"unknown service {service!r}; use {SERVICES}")
    if ".." in path.split("/"):
        raise HTTPException(400, "a path with '..' is not forwarded")
    url = f"{service_url(request.app.state.config, service)}/api/v1/{path}"
    if request.url.query:
        url += "?" + request.url.query
    body = await request.body() if request.method != "GET" else None
    headers = forwarded_headers(request)
    status, content, kind = await asyncio.to_thread(
        call_service, request.method, url, body, headers
    )
    return Response(content, status_code=status, media_type=kind)


def forwarded_headers(request: Request) -> dict[str, str]:
    """The caller's key (header, or the cookie on reads) and content headers."""
    headers = {"Accept": request.headers.get("accept", "application/json")}
    auth = request.headers.get("authorization", "")
    if not auth and request.method == "GET" and request.cookies.get(COOKIE):
        auth = "Bearer " + request.cookies[COOKIE]
    if auth:
        headers["Authorization"] = auth
    if request.headers.get("content-type"):
        headers["Content-Type"] = request.headers["content-type"]
    return headers


def call_service(
    method: str, url: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes, Any]:
    """(status, body, content type) of one call; 502 when nothing answers."""
    forwarded = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(forwarded, timeout=TIMEOUT_S) as answer:
            return answer.status, answer.read(MAX_BYTES), answer.headers.get(
                "content-type")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(MAX_BYTES), exc.headers.get("content-type")
    except (urllib.error.URLError, OSError) as exc:
        raise HTTPException(
            502, f"the {url.split('/api/')[0]} service did not answer ({exc}); "
            "check 'lodestar server status'",
        ) from exc
