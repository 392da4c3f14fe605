"""What the ingest and agent tests share: ingest in a thread or a subprocess,
a discovery endpoint, accounts, WAL files, a raw gRPC stream and JetStream reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import queue
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import grpc
import polling
from lodestar._proto import events_pb2, ingest_pb2, ingest_pb2_grpc
from lodestar.wal import WalWriter
from lodestar_server.common import bus
from lodestar_server.common.accounts import Accounts
from lodestar_server.common.config import PlatformConfig
from lodestar_server.ingest.server import IngestServer
from lodestar_server.launcher.servers import free_port
from nats.js.api import ConsumerConfig, DeliverPolicy

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], T], timeout_s: float = 20.0, what: str = "") -> T:
    """Poll `check` until it returns something true; fail at the deadline."""
    found: T = polling.wait_for(check, timeout_s, what)
    return found


class LoopThread:
    """An event loop in a daemon thread; tests hand it coroutines."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


class Nats:
    """A NATS connection on a `LoopThread`, for accounts and JetStream reads."""

    def __init__(self, config: PlatformConfig, loop: LoopThread) -> None:
        self.config = config
        self.loop = loop
        self.nc = loop.run(bus.connect(config, "lodestar-tests"))
        self.js = self.nc.jetstream()
        loop.run(bus.ensure_streams(self.js, config))

    def new_user(self, prefix: str = "u") -> tuple[str, str]:
        """A fresh user (and entity) with an API key."""
        name = f"{prefix}{secrets.token_hex(4)}"

        async def make() -> str:
            accounts = Accounts(await bus.bucket(self.js, bus.BUCKET_ACCOUNTS))
            await accounts.add_user(name)
            return await accounts.create_key(name)

        return name, self.loop.run(make())

    def new_team(self, members: list[str]) -> str:
        name = f"t{secrets.token_hex(4)}"

        async def make() -> None:
            accounts = Accounts(await bus.bucket(self.js, bus.BUCKET_ACCOUNTS))
            await accounts.add_team(name, members)

        self.loop.run(make())
        return name

    def messages(self, entity: str, project: str, run_id: str) -> list[Any]:
        """Every JetStream message on the run's ingest subject, in stream order."""
        subject = bus.event_subject("ingest", entity, project, run_id)
        return self.loop.run(self._read(subject))

    async def _read(self, subject: str) -> list[Any]:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, filter_subject=subject
        )
        sub = await self.js.pull_subscribe(subject, durable=None, config=config)
        found = []
        try:
            while (await sub.consumer_info()).num_pending > 0:
                for msg in await sub.fetch(500, timeout=2):
                    found.append(msg)
                    await msg.ack()
        finally:
            await sub.unsubscribe()
        return found

    def batches(self, entity: str, project: str, run_id: str):
        return [events_pb2.PublishedBatch.FromString(m.data)
                for m in self.messages(entity, project, run_id)]

    def registry(self, entity: str, project: str, run_id: str) -> dict:
        async def read() -> dict:
            kv = await bus.bucket(self.js, bus.BUCKET_RUNS)
            entry = await kv.get(bus.run_key(entity, project, run_id))
            return json.loads(entry.value)

        return self.loop.run(read())

    def close(self) -> None:
        self.loop.run(self.nc.close())


def event_ids(batches) -> list[tuple[str, int]]:
    """(publisher id, seq) of every published event, duplicates included."""
    return [(b.publisher_id, e.seq) for b in batches for e in b.events]


class ThreadIngest:
    """Ingest running in this test process, on ephemeral ports."""

    def __init__(self, config: PlatformConfig, loop: LoopThread) -> None:
        self.config = dataclasses.replace(config, ingest_port=0, ingest_http_port=0)
        self.loop = loop
        self.server = IngestServer(self.config)
        loop.run(self.server.start())

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def stop(self) -> None:
        self.loop.run(self.server.stop(0.5))


class ProcessIngest:
    """Ingest as the launcher runs it: ``python -m lodestar_server.ingest``."""

    def __init__(self, config: PlatformConfig, workdir: Path) -> None:
        self.config = dataclasses.replace(
            config, ingest_port=free_port(), ingest_http_port=free_port()
        )
        self.path = workdir / "platform.json"
        self.config.dump(self.path)
        self.log = workdir / "ingest.log"
        self.proc: subprocess.Popen | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.config.ingest_port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lodestar_server.ingest", "--config",
                 str(self.path)], stdout=log, stderr=log, cwd=REPO,
            )
        url = f"http://127.0.0.1:{self.config.ingest_http_port}/healthz"
        wait_for(lambda: _http_ok(url), 30, "ingest to report healthy")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


class Discovery:
    """``GET /api/v1/discovery`` as the query service answers it."""

    def __init__(self, target: str) -> None:
        self.target = target
        discovery = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path != "/api/v1/discovery":
                    self.send_error(404)
                    return
                body = json.dumps({"ingest": discovery.target, "artifacts": "",
                                   "version": "0.1.0"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class RawStream:
    """A hand-driven ``Ingest.Stream`` call, as an agent would make it."""

    def __init__(self, target: str, api_key: str | None) -> None:
        self._requests: queue.Queue = queue.Queue()
        self._channel = grpc.insecure_channel(target)
        stub = ingest_pb2_grpc.IngestStub(self._channel)
        metadata = [("authorization", f"Bearer {api_key}")] if api_key else []
        self._call = stub.Stream(self._iterate(), metadata=metadata, timeout=60)
        self._replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _iterate(self) -> Iterator[ingest_pb2.ClientMessage]:
        while True:
            message = self._requests.get()
            if message is None:
                return
            yield message

    def _read(self) -> None:
        try:
            for reply in self._call:
                self._replies.put(reply)
        except grpc.RpcError as exc:
            self._replies.put(exc)
        self._replies.put(None)

    def open(self, header: events_pb2.WalHeader,
             start: events_pb2.RunStart | None = None) -> None:
        self._requests.put(ingest_pb2.ClientMessage(
            open=ingest_pb2.StreamOpen(header=header, run_start=start)))

    def send(self, events: list[events_pb2.Event]) -> None:
        batch = ingest_pb2.EventBatch(events=events)
        self._requests.put(ingest_pb2.ClientMessage(batch=batch))

    def send_message(self, message: ingest_pb2.ClientMessage) -> None:
        self._requests.put(message)

    def recv(self, timeout_s: float = 20.0):
        """The next reply, the `grpc.RpcError` that ended the call, or None."""
        return self._replies.get(timeout=timeout_s)

    def until_ack(self, timeout_s: float = 20.0) -> tuple[list, int]:
        """Replies up to and including the next ack: (rejections, upto_seq)."""
        rejections = []
        while True:
            reply = self.recv(timeout_s)
            if not isinstance(reply, ingest_pb2.ServerMessage):
                raise AssertionError(f"stream ended before an ack: {reply!r}")
            if reply.HasField("ack"):
                return rejections, reply.ack.upto_seq
            rejections.append(reply.rejection)

    def close(self) -> None:
        self._requests.put(None)
        self._channel.close()


def header(project: str, run_id: str, entity: str = "") -> events_pb2.WalHeader:
    return events_pb2.WalHeader(
        wal_id=secrets.token_hex(16), entity=entity, project=project, run_id=run_id,
        created_at=time.time(), sdk_version="0.1.0",
    )


def run_start(seq: int = 1, resume: int = events_pb2.RESUME_NEVER,
              **fields: Any) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            run_start=events_pb2.RunStart(resume=resume, **fields))


def history(seq: int, step: int, values: dict[str, float]) -> events_pb2.Event:
    """A one-row history batch of float values."""
    batch = events_pb2.HistoryBatch(
        steps=[step], timestamps=[time.time()], runtimes=[0.1],
        keys=list(values), max_step=step,
    )
    for key, value in values.items():
        batch.columns.append(events_pb2.Column(key=key, kind=events_pb2.FLOAT,
                                               f64=[value]))
    return events_pb2.Event(seq=seq, timestamp=time.time(), history=batch)


def finish(seq: int, exit_code: int = 0) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            finish=events_pb2.Finish(exit_code=exit_code))


def write_wal(run_dir: Path, head: events_pb2.WalHeader,
              events: list[events_pb2.Event]) -> WalWriter:
    """A run directory with a WAL holding `events`; the writer stays open."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = WalWriter(run_dir / f"run-{head.run_id}.wal", head)
    if events:
        writer.append(events)
    return writer


@contextmanager
def running_ingest(
    servers: PlatformConfig,
) -> Iterator[tuple[Nats, ThreadIngest, Discovery]]:
    """A NATS client, ingest in a thread and a discovery stub, stopped in order."""
    loop = LoopThread()
    nats = Nats(servers, loop)
    ingest = ThreadIngest(servers, loop)
    discovery = Discovery(ingest.target)
    try:
        yield nats, ingest, discovery
    finally:
        discovery.close()
        ingest.stop()
        nats.close()
        loop.close()
