"""A tiny HTTP listener for ``/healthz`` and ``/metrics``.

Two fixed routes do not justify a web framework in ingest: this reads one
request line, answers, and closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
Route = Callable[[], Awaitable[tuple[int, str, str]]]  # status, content type, body
_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed",
            503: "Service Unavailable"}


class HttpEndpoint:
    """Serves GET routes, each a coroutine returning (status, type, body)."""

    def __init__(self, host: str, port: int, routes: dict[str, Route]) -> None:
        self._host = host
        self._port = port
        self._routes = routes
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            status, kind, body = await self._answer(reader)
            writer.write(_response(status, kind, body))
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            logger.debug("an HTTP client went away before its answer")
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, str, str]:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        method, _, rest = head.decode("latin-1").partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        route = self._routes.get(path)
        if route is None:
            return 404, "text/plain", f"no route {path}\n"
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", "use GET\n"
        return await route()


def _response(status: int, kind: str, body: str) -> bytes:
    data = body.encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
        f"Content-Type: {kind}; charset=utf-8\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + data
