"""Where ingest and artifacts listen, asked of the query service."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..errors import CommError

TIMEOUT_S = 5.0
PATH = "/api/v1/discovery"


@dataclass(frozen=True)
class Endpoints:
    ingest: str      # host:port of the gRPC service
    artifacts: str   # http://host:port


def discover(base_url: str, timeout_s: float = TIMEOUT_S) -> Endpoints:
    """Ask ``GET {base_url}/api/v1/discovery`` (no authentication needed).

    Raises:
        CommError: the platform did not answer, or answered without an
            ingest address.
    """
    url = base_url.rstrip("/") + PATH
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CommError(f"cannot reach the platform at {url}: {exc}") from exc
    if not isinstance(body, dict) or not body.get("ingest"):
        raise CommError(f"{url} answered without an ingest address: {body!r}")
    artifacts = str(body.get("artifacts", ""))
    return Endpoints(ingest=str(body["ingest"]), artifacts=artifacts)


def ingest_resolver(base_url: str) -> Callable[[], Awaitable[str]]:
    """An async function that discovers the ingest address each time it is called."""

    async def resolve() -> str:
        endpoints = await asyncio.to_thread(discover, base_url)
        return endpoints.ingest

    return resolve
