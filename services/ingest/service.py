"""The gRPC servicer: ``lodestar.v1.Ingest/Stream``.

A refused stream gets a `StreamError` message, then ends with the matching
gRPC status, so an agent can tell "do not retry" (refused) from "retry"
(``UNAVAILABLE``: a store ingest depends on failed, or ingest is stopping).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
from lodestar._proto import ingest_pb2, ingest_pb2_grpc

from ..common.accounts import AccountsView
from .auth import authorize, bearer_key
from .errors import StreamRefused, Unavailable
from .session import IngestContext, RunSession

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_S = 30.0
_STATUS = {
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "permission_denied": grpc.StatusCode.PERMISSION_DENIED,
    "run_exists": grpc.StatusCode.ALREADY_EXISTS,
    "run_not_found": grpc.StatusCode.NOT_FOUND,
    "run_active": grpc.StatusCode.FAILED_PRECONDITION,
    "invalid": grpc.StatusCode.INVALID_ARGUMENT,
}

Replies = AsyncIterator[ingest_pb2.ServerMessage]


class IngestServicer(ingest_pb2_grpc.IngestServicer):
    """Serves one stream per WAL."""

    def __init__(self, ctx: IngestContext, accounts: AccountsView) -> None:
        self._ctx = ctx
        self._accounts = accounts

    async def Stream(self, request_iterator, context) -> Replies:  # noqa: N802
        metrics = self._ctx.metrics
        metrics.add("streams_active")
        try:
            async for reply in self._serve(request_iterator, context):
                yield reply
        except StreamRefused as refused:
            metrics.add("streams_refused_total")
            logger.info("stream refused: %s", refused)
            yield _error(refused)
            await context.abort(_STATUS[refused.code], refused.message)
        except Unavailable as exc:
            logger.warning("stream ended, the agent will retry: %s", exc)
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        finally:
            metrics.add("streams_active", -1)

    async def _serve(self, requests, context) -> Replies:
        api_key = bearer_key(context.invocation_metadata())
        first = await _first(requests)
        header = first.open.header
        principal, entity = await authorize(self._accounts, api_key, header.entity)
        session, opened = await RunSession.open(
            self._ctx, principal, entity, first.open
        )
        self._ctx.metrics.add("streams_opened_total")
        logger.info("stream opened: run %s, WAL %s from seq %d",
                    session.run.key, session.wal_id, opened.acked_seq)
        yield ingest_pb2.ServerMessage(opened=opened)
        async for message in requests:
            for reply in await _dispatch(session, message):
                yield reply


async def _first(requests) -> ingest_pb2.ClientMessage:
    try:
        first = await asyncio.wait_for(anext(requests), OPEN_TIMEOUT_S)
    except StopAsyncIteration as exc:
        raise StreamRefused(
            "invalid", "the stream ended before its open message"
        ) from exc
    except asyncio.TimeoutError as exc:
        raise StreamRefused(
            "invalid", f"no open message within {OPEN_TIMEOUT_S:g} s"
        ) from exc
    if first.WhichOneof("body") != "open":
        raise StreamRefused("invalid", "the first message of a stream must be open")
    return first


async def _dispatch(
    session: RunSession, message: ingest_pb2.ClientMessage
) -> list[ingest_pb2.ServerMessage]:
    kind = message.WhichOneof("body")
    if kind == "batch":
        return await session.batch(message.batch)
    if kind == "heartbeat":
        await session.heartbeat(message.heartbeat.sent_at)
        return []
    if kind == "process_exit":
        return [await session.process_exit(message.process_exit)]
    raise StreamRefused("invalid", f"unexpected {kind or 'empty'} message after open")


def _error(refused: StreamRefused) -> ingest_pb2.ServerMessage:
    return ingest_pb2.ServerMessage(
        error=ingest_pb2.StreamError(code=refused.code, message=refused.message)
    )
