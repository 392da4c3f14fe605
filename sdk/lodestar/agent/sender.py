"""The sender: streams one WAL to ingest until the server holds all of it.

One `Sender` serves one WAL. Each connection ("session") opens the stream,
learns from `Opened.acked_seq` how far the server already got, and sends from
there. Batches in flight are remembered only by their offset in the file, so
a reconnect rereads the WAL instead of holding sent data in memory.

The sender is done when the Finish event is acknowledged, or, once the
training process is gone without one, when everything left and then a
`ProcessExit` are acknowledged. Connection failures are retried with
exponential backoff while the training process lives, and for a bounded time
after it is gone.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

from .._proto import events_pb2, ingest_pb2, ingest_pb2_grpc
from ..agent_status import AgentStatus, read_status
from ..errors import AuthError, CommError, RunError
from ..wal import WalError
from .cursor import Batch, WalCursor
from .parent import ParentWatch
from .uploads import RunIdentity, Uploader

logger = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
MAX_WARNINGS = 1000
SYNCED_MARKER = ".synced"
_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
]
_FATAL_STATUS = {
    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
    grpc.StatusCode.PERMISSION_DENIED: "permission_denied",
    grpc.StatusCode.ALREADY_EXISTS: "run_exists",
    grpc.StatusCode.NOT_FOUND: "run_not_found",
    grpc.StatusCode.FAILED_PRECONDITION: "run_active",
    grpc.StatusCode.INVALID_ARGUMENT: "invalid",
}
_AUTH_CODES = ("unauthenticated", "permission_denied")


class Outcome(enum.Enum):
    DONE = "done"            # the server holds every event of the WAL
    REFUSED = "refused"      # ingest refused the stream; retrying cannot help
    GAVE_UP = "gave_up"      # the platform stayed unreachable past the deadline


@dataclass(frozen=True)
class SenderOptions:
    """Limits and timings of a sender."""

    max_batch_events: int = 1000
    max_batch_bytes: int = 2 * 1024 * 1024
    max_in_flight_bytes: int = 16 * 1024 * 1024
    max_in_flight_batches: int = 32
    heartbeat_interval_s: float = 30.0
    poll_interval_s: float = 0.02
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0
    linger_s: float = 600.0          # retrying after the training process is gone
    open_timeout_s: float = 30.0
    report_exit: bool = True          # send ProcessExit when there is no Finish


class _Retry(Exception):
    """The session ended in a way a new connection may fix."""


class _Refused(Exception):
    """Ingest refused the stream; carries the `StreamError` code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    def public(self) -> Exception:
        """The `lodestar.errors` exception for users."""
        if self.code in _AUTH_CODES:
            return AuthError(f"{self.message} ({self.code})")
        return RunError(self.code, self.message)


@dataclass
class _InFlight:
    first: int
    last: int
    offset: int
    size: int


Resolver = Callable[[], Awaitable[str]]


class Sender:
    """Streams the WAL at `wal_path` to ingest and reports in `run_dir`.

    Args:
        run_dir: where ``agent.json`` and the ``.synced`` marker go.
        wal_path: the run's WAL.
        api_key: sent as ``authorization: Bearer <key>``.
        resolve: returns the ingest address (``host:port``); asked again on
            every reconnect, so a platform that moved is found.
        options: limits and timings.
        parent: the training process; None when there is none (sync).
        uploader: stores the content that file and artifact events name
            before they are sent; None sends them as they are.
    """

    def __init__(
        self,
        run_dir: Path,
        wal_path: Path,
        api_key: str,
        resolve: Resolver,
        options: SenderOptions | None = None,
        parent: ParentWatch | None = None,
        uploader: Uploader | None = None,
    ) -> None:
        self.run_dir = run_dir
        self._uploader = uploader
        self.options = options or SenderOptions()
        self.status = _continued_status(run_dir)
        self.error: Exception | None = None
        self._api_key = api_key
        self._resolve = resolve
        self._parent = parent
        self._cursor = WalCursor(
            wal_path, self.options.max_batch_events, self.options.max_batch_bytes
        )
        self._acked = 0
        self._in_flight: deque[_InFlight] = deque()
        self._acked_changed = asyncio.Event()
        self._exit_pending = False
        self._exit_acked = False
        self._opened_now = False
        self._gone_at: float | None = None

    async def run(self) -> Outcome:
        """Send until done, refused, or out of retries."""
        self.status.write(self.run_dir)  # the pid, before any network wait
        start = await self._wait_for_start()
        if start is None:
            logger.info("the WAL has no events and nobody will write them")
            return self._finished()
        try:
            return await self._retrying(start)
        except _Refused as refused:
            self.error = refused.public()
            self._report_error(refused.code, refused.message)
            return Outcome.REFUSED
        except WalError as exc:
            self.error = exc
            self._report_error("corrupt_wal", str(exc))
            return Outcome.REFUSED

    async def _retrying(self, start: ingest_pb2.StreamOpen) -> Outcome:
        attempt = 0
        while True:
            self._opened_now = False
            try:
                return await self._session(start)
            except _Retry as exc:
                attempt = 0 if self._opened_now else attempt
                delay = min(self.options.backoff_max_s,
                            self.options.backoff_initial_s * 2 ** attempt)
                attempt += 1
                if not self._may_retry():
                    self.error = CommError(str(exc))
                    logger.error("giving up after %d attempts: %s", attempt, exc)
                    return Outcome.GAVE_UP
                logger.warning("%s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    def _may_retry(self) -> bool:
        if self._parent_alive():
            return True
        now = time.monotonic()
        if self._gone_at is None:
            self._gone_at = now
        return now - self._gone_at < self.options.linger_s

    def _parent_alive(self) -> bool:
        return self._parent is not None and self._parent.alive()

    async def _wait_for_start(self) -> ingest_pb2.StreamOpen | None:
        """The open message, once the WAL holds its header and first event."""
        while True:
            alive = self._parent_alive()
            header = self._cursor.header()
            first = self._cursor.first_event() if header is not None else None
            if header is not None and first is not None:
                self.status.wal_id = header.wal_id
                start = first.run_start if first.HasField("run_start") else None
                return ingest_pb2.StreamOpen(header=header, run_start=start)
            if not alive:
                return None
            await asyncio.sleep(self.options.poll_interval_s)

    # One connection ---------------------------------------------------------

    async def _session(self, start: ingest_pb2.StreamOpen) -> Outcome:
        target = await self._target()
        channel = grpc.aio.insecure_channel(target, options=_CHANNEL_OPTIONS)
        async with channel:
            stub = ingest_pb2_grpc.IngestStub(channel)
            metadata = (("authorization", f"Bearer {self._api_key}"),)
            call = stub.Stream(metadata=metadata)
            try:
                return await self._converse(call, start)
            except grpc.aio.AioRpcError as exc:
                raise _refusal_or_retry(exc) from exc
            finally:
                call.cancel()

    async def _target(self) -> str:
        try:
            return await self._resolve()
        except CommError as exc:
            raise _Retry(str(exc)) from exc

    async def _converse(self, call, start: ingest_pb2.StreamOpen) -> Outcome:
        link = _Link(call)
        await link.send(ingest_pb2.ClientMessage(open=start))
        opened = await self._read_opened(call)
        self._on_opened(opened)
        tasks = [
            asyncio.ensure_future(self._pump(link)),
            asyncio.ensure_future(self._receive(call)),
            asyncio.ensure_future(self._heartbeats(link)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            outcome = next(iter(done)).result()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await link.close()
        return outcome

    async def _read_opened(self, call) -> ingest_pb2.Opened:
        try:
            reply = await asyncio.wait_for(call.read(), self.options.open_timeout_s)
        except asyncio.TimeoutError as exc:
            raise _Retry("ingest did not answer the open message in time") from exc
        if reply is grpc.aio.EOF:
            raise _Retry("ingest closed the stream before opening it")
        kind = reply.WhichOneof("body")
        if kind == "error":
            raise _Refused(reply.error.code, reply.error.message)
        if kind != "opened":
            raise _Retry(f"ingest answered the open message with {kind}")
        return reply.opened

    def _on_opened(self, opened: ingest_pb2.Opened) -> None:
        self._opened_now = True
        self.status.opened = MessageToDict(opened, preserving_proto_field_name=True)
        restart: int | None = 0  # read again from the start, skipping acked
        if opened.acked_seq < self._acked:
            restart = 0  # the server has less than it told us
        elif self._in_flight and self._in_flight[0].first == opened.acked_seq + 1:
            restart = self._in_flight[0].offset
        elif not self._in_flight and self._cursor.last_read == opened.acked_seq:
            restart = None  # everything read so far is acknowledged
        # else a batch was read but the stream broke before it was sent
        self._in_flight.clear()
        self._acked = opened.acked_seq
        self._cursor.rewind(restart, opened.acked_seq)
        self.status.acked_seq = self._acked
        self.status.write(self.run_dir)
        logger.info("stream open at %s; the server holds events up to %d",
                    opened.run_url, opened.acked_seq)

    async def _pump(self, link: _Link) -> Outcome:
        """Send batches as the WAL grows; decide when the WAL is complete."""
        self._exit_pending = False
        while True:
            gone = not self._parent_alive()  # read before the WAL: no lost tail
            batch = self._cursor.next_batch()
            if batch is not None:
                await self._send_batch(link, batch)
                continue
            if self._complete():
                return self._finished()
            if gone and not self._in_flight and self._cursor.finish_seq is None:
                if not self.options.report_exit:
                    return self._finished()
                if not self._exit_pending:
                    self._exit_pending = True
                    await link.send(_process_exit())
            await self._wait_for_acks(self.options.poll_interval_s)

    def _complete(self) -> bool:
        finish = self._cursor.finish_seq
        return self._exit_acked or (finish is not None and self._acked >= finish)

    async def _send_batch(self, link: _Link, batch: Batch) -> None:
        while self._window_full(batch.size):
            await self._wait_for_acks(1.0)
        await self._upload(batch)
        events = ingest_pb2.EventBatch(events=batch.events)
        message = ingest_pb2.ClientMessage(batch=events)
        item = _InFlight(batch.first, batch.last, batch.offset, batch.size)
        self._in_flight.append(item)
        await link.send(message)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("sent events %d to %d", batch.first, batch.last)

    async def _upload(self, batch: Batch) -> None:
        if self._uploader is None:
            return
        header = self._cursor.header()
        opened = self.status.opened or {}
        entity = str(opened.get("entity") or (header.entity if header else ""))
        run = RunIdentity(entity, header.project if header else "",
                          header.run_id if header else "")
        try:
            await self._uploader.prepare(batch.events, run)
        except CommError as exc:
            self._cursor.rewind(batch.offset, self._acked)  # read it again later
            raise _Retry(f"uploading content failed: {exc}") from exc
        finally:
            for text in self._uploader.take_warnings():
                self._add_warning(text)

    def _window_full(self, size: int) -> bool:
        if not self._in_flight:
            return False
        pending = sum(item.size for item in self._in_flight)
        return (pending + size > self.options.max_in_flight_bytes
                or len(self._in_flight) >= self.options.max_in_flight_batches)

    async def _wait_for_acks(self, timeout_s: float) -> None:
        self._acked_changed.clear()
        try:
            await asyncio.wait_for(self._acked_changed.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass  # time to look at the WAL and the parent again

    async def _receive(self, call) -> Outcome:
        while True:
            reply = await call.read()
            if reply is grpc.aio.EOF:
                raise _Retry("ingest ended the stream")
            kind = reply.WhichOneof("body")
            if kind == "ack":
                self._on_ack(reply.ack.upto_seq)
            elif kind == "rejection":
                self._on_rejection(reply.rejection)
            elif kind == "error":
                raise _Refused(reply.error.code, reply.error.message)

    def _on_ack(self, upto: int) -> None:
        if self._exit_pending and not self._in_flight:
            self._exit_acked = True  # ProcessExit goes last: this ack answers it
        self._acked = max(self._acked, upto)
        while self._in_flight and self._in_flight[0].last <= self._acked:
            self._in_flight.popleft()
        self.status.acked_seq = self._acked
        self.status.write(self.run_dir)
        self._acked_changed.set()

    def _on_rejection(self, rejection: ingest_pb2.Rejection) -> None:
        if rejection.key:
            text = f"value {rejection.key!r} was not stored: {rejection.reason}"
        else:
            text = f"event {rejection.seq} was not stored: {rejection.reason}"
        logger.warning("%s", text)
        self._add_warning(text)

    def _add_warning(self, text: str) -> None:
        """Keep `text` for the training process; written with the next ack."""
        warnings = self.status.warnings
        if len(warnings) < MAX_WARNINGS:
            warnings.append(text)
        elif len(warnings) == MAX_WARNINGS:
            warnings.append("more values were not stored; see logs/agent.log")

    async def _heartbeats(self, link: _Link) -> Outcome:
        while True:
            await asyncio.sleep(self.options.heartbeat_interval_s)
            heartbeat = ingest_pb2.Heartbeat(sent_at=time.time())
            await link.send(ingest_pb2.ClientMessage(heartbeat=heartbeat))

    # Reporting --------------------------------------------------------------

    def _finished(self) -> Outcome:
        self.status.done = True
        self.status.acked_seq = self._acked
        self.status.write(self.run_dir)
        (self.run_dir / SYNCED_MARKER).write_text(f"{time.time():.3f}\n")
        logger.info("done: the server holds every event up to %d", self._acked)
        return Outcome.DONE

    def _report_error(self, code: str, message: str) -> None:
        logger.error("stopped: %s", message)
        self.status.error = {"code": code, "message": message}
        self.status.write(self.run_dir)


class _Link:
    """The sending half of a stream; writes from several tasks, one at a time."""

    def __init__(self, call) -> None:
        self._call = call
        self._lock = asyncio.Lock()

    async def send(self, message: ingest_pb2.ClientMessage) -> None:
        async with self._lock:
            await self._call.write(message)

    async def close(self) -> None:
        async with self._lock:
            await self._call.done_writing()


def _process_exit() -> ingest_pb2.ClientMessage:
    report = ingest_pb2.ProcessExit(
        state=events_pb2.CRASHED,
        reason="the training process ended without finish()",
        at=time.time(),
    )
    return ingest_pb2.ClientMessage(process_exit=report)


def _refusal_or_retry(exc: grpc.aio.AioRpcError) -> Exception:
    code = _FATAL_STATUS.get(exc.code())
    if code is not None:
        return _Refused(code, exc.details() or code)
    return _Retry(f"ingest stream failed: {exc.code().name} {exc.details()}")


def _continued_status(run_dir: Path) -> AgentStatus:
    """The report of an earlier agent of this run, carried on by this one.

    Its warnings are kept: the SDK shows the entries after those it has seen.
    """
    status = read_status(run_dir)
    status.pid = os.getpid()
    status.error = None
    status.done = False
    return status
