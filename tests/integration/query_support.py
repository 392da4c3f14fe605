"""The query service with its embedded writer, fed by hand-made batches.

`QueryPlatform` runs the query app in uvicorn on a free port against the
session's real NATS and Valkey and a fresh chDB store; tests publish
`PublishedBatch` messages as ingest would and read back through
`lodestar.Api`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import lodestar
import nats
import uvicorn
from lodestar._proto import events_pb2
from lodestar_server.common import bus
from lodestar_server.common.accounts import Accounts
from lodestar_server.common.config import PlatformConfig
from lodestar_server.query.app import create_app
from lodestar_server.writer.storage import ChdbStorage
from polling import wait_for as wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _with_js(config: PlatformConfig, action: Any) -> Any:
    client = await nats.connect(
        config.nats_url, user=config.nats_user, password=config.nats_password,
        connect_timeout=5,
    )
    try:
        js = client.jetstream(timeout=10)
        await bus.ensure_streams(js, config)
        return await action(js)
    finally:
        await client.close()


class QueryPlatform:
    """The running app, its user, and helpers to feed and read it."""

    def __init__(self, config: PlatformConfig, app: Any, user: str, key: str):
        self.config = config
        self.app = app
        self.user = user
        self.key = key
        self.base_url = config.public_url

    def publish(self, batch: events_pb2.PublishedBatch) -> int:
        first, last = batch.events[0].seq, batch.events[-1].seq
        return self.publish_with_id(
            batch, bus.message_id(batch.publisher_id, first, last)
        )

    def publish_with_id(self, batch: events_pb2.PublishedBatch, msg_id: str) -> int:
        """Publish as ingest would, with message id `msg_id`; the stream seq."""
        subject = bus.event_subject("ingest", batch.entity, batch.project,
                                    batch.run_id)

        async def send(js: Any) -> int:
            ack = await js.publish(subject, batch.SerializeToString(),
                                   headers={"Nats-Msg-Id": msg_id})
            return ack.seq

        return asyncio.run(_with_js(self.config, send))

    def wait_applied(self, stream_seq: int) -> None:
        writer = self.app.state.writer
        wait_for(lambda: writer.stats.applied_stream_seq >= stream_seq, 30,
                 f"the writer to apply stream message {stream_seq}")

    def feed(self, project: str, run_id: str, *events: events_pb2.Event,
             publisher: str = "", epoch: int = 0) -> None:
        """Publish `events` of one run as one batch and wait until applied."""
        publisher = publisher or hashlib.md5(
            f"{project}/{run_id}".encode()).hexdigest()
        batch = events_pb2.PublishedBatch(
            entity=self.user, project=project, run_id=run_id,
            publisher_id=publisher, events=list(events), user=self.user,
            epoch=epoch,
        )
        self.wait_applied(self.publish(batch))

    def api(self) -> lodestar.Api:
        return lodestar.Api(overrides={"base_url": self.base_url}, api_key=self.key)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data,
                                         method=method)
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {"Authorization": f"Bearer {self.key}"}
                            ).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def _add_user(config: PlatformConfig, name: str) -> str:
    async def add(js: Any) -> str:
        accounts = Accounts(await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5))
        await accounts.add_user(name, admin=False)
        return await accounts.create_key(name)

    return asyncio.run(_with_js(config, add))


def start_query_platform(servers: PlatformConfig, data_dir: Any
                         ) -> Iterator[QueryPlatform]:
    """Yield a running `QueryPlatform`; stops it afterwards."""
    port = free_port()
    config = dataclasses.replace(
        servers, query_port=port, public_url=f"http://127.0.0.1:{port}",
        writer_embedded=True, server_secret="s3cret-for-tests",
    )
    storage = ChdbStorage(str(data_dir / "chdb"))
    app = create_app(config, storage)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    user = f"ana{uuid.uuid4().hex[:6]}"
    try:
        wait_for(lambda: server.started, 60, "the query service")
        key = _add_user(config, user)
        found = QueryPlatform(config, app, user, key)
        wait_for(lambda: found.request("GET", "/api/v1/viewer")[0] == 200, 10,
                 "the accounts view to see the new key")
        yield found
    finally:
        server.should_exit = True
        thread.join(30)
        storage.close()


def run_start(created_at: float, name: str, config: dict[str, Any],
              tags: list[str] | None = None, group: str = "", job_type: str = "",
              host: str = "h1", seq: int = 1) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=created_at,
                            run_start=events_pb2.RunStart(
        name=name, tags=tags or [], group=group, job_type=job_type,
        config_json=json.dumps(config), metadata_json=json.dumps({"host": host}),
    ))


def summary(seq: int, values: dict[str, Any]) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            summary=events_pb2.SummaryUpdate(
                                set_json=json.dumps(values)))


def finish(seq: int, exit_code: int = 0) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            finish=events_pb2.Finish(exit_code=exit_code))
