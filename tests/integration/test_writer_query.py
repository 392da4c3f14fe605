"""The writer and the query service against real NATS, Valkey and chDB.

Batches are published with nats-py as ingest would; the query app runs in
uvicorn on a free port with the writer embedded, and `lodestar.Api` reads the
numbers back over HTTP.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import math
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import lodestar
import nats
import pytest
import uvicorn
from lodestar._proto import events_pb2
from lodestar.errors import ApiError
from lodestar_server.common import bus
from lodestar_server.common.accounts import Accounts
from lodestar_server.common.config import PlatformConfig
from lodestar_server.query.app import create_app
from lodestar_server.writer.storage import ChdbStorage
from polling import wait_for

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
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


class Platform:
    """The query app with its embedded writer, and helpers to feed it."""

    def __init__(self, config: PlatformConfig, server: uvicorn.Server, app: Any):
        self.config = config
        self.base_url = config.public_url
        self._server = server
        self.app = app
        self.keys: dict[str, str] = {}

    def publish(self, batch: events_pb2.PublishedBatch, msg_id: str = "") -> int:
        """Publish like ingest does; returns the stream sequence."""
        subject = bus.event_subject("ingest", batch.entity, batch.project, batch.run_id)
        first, last = batch.events[0].seq, batch.events[-1].seq
        msg_id = msg_id or bus.message_id(batch.publisher_id, first, last)
        return self.publish_raw(subject, batch.SerializeToString(), msg_id)

    def publish_raw(self, subject: str, data: bytes, msg_id: str) -> int:
        async def send(js: Any) -> int:
            ack = await js.publish(subject, data, headers={"Nats-Msg-Id": msg_id})
            return ack.seq

        return asyncio.run(_with_js(self.config, send))

    def wait_applied(self, stream_seq: int) -> None:
        writer = self.app.state.writer
        wait_for(lambda: writer.stats.applied_stream_seq >= stream_seq, 30,
                  f"the writer to apply stream message {stream_seq}")

    def api(self, user: str) -> lodestar.Api:
        return lodestar.Api(overrides={"base_url": self.base_url},
                            api_key=self.keys[user])

    def get(self, path: str, key: str | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.base_url + path)
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def _add_users(config: PlatformConfig, names: list[str]) -> dict[str, str]:
    async def add(js: Any) -> dict[str, str]:
        accounts = Accounts(await bus.bucket(js, bus.BUCKET_ACCOUNTS, history=5))
        keys = {}
        for name in names:
            await accounts.add_user(name, admin=name.startswith("root"))
            keys[name] = await accounts.create_key(name)
        return keys

    return asyncio.run(_with_js(config, add))


@pytest.fixture(scope="module")
def platform(servers: PlatformConfig, tmp_path_factory: Any) -> Iterator[Platform]:
    port = _free_port()
    config = dataclasses.replace(
        servers, query_port=port, public_url=f"http://127.0.0.1:{port}",
        writer_embedded=True,
    )
    storage = ChdbStorage(str(tmp_path_factory.mktemp("wq") / "chdb"))
    app = create_app(config, storage)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    found = Platform(config, server, app)
    wait_for(lambda: found.get("/healthz")[0] == 200 if server.started else None,
              60, "the query service")
    suffix = uuid.uuid4().hex[:6]
    found.keys = _add_users(config, [f"alice{suffix}", f"bob{suffix}",
                                     f"root{suffix}"])
    found.alice, found.bob, found.root = (f"alice{suffix}", f"bob{suffix}",
                                          f"root{suffix}")
    wait_for(lambda: found.get("/api/v1/viewer", found.keys[found.bob])[0] == 200,
              10, "the accounts view to see the new keys")
    try:
        yield found
    finally:
        server.should_exit = True
        thread.join(30)
        storage.close()


def _batch(
    platform: Platform, run_id: str, *events: events_pb2.Event,
    publisher: str = "", project: str = "wq",
) -> events_pb2.PublishedBatch:
    # Publisher ids are WAL ids in real life: unique, so message ids are too.
    publisher = publisher or hashlib.md5(run_id.encode()).hexdigest()
    return events_pb2.PublishedBatch(
        entity=platform.alice, project=project, run_id=run_id,
        publisher_id=publisher, events=list(events), user=platform.alice,
    )


def _start(seq: int = 1, name: str = "exp", config: str = '{"lr": 0.1}') -> Any:
    return events_pb2.Event(seq=seq, timestamp=100.0, run_start=events_pb2.RunStart(
        name=name, tags=["t1"], config_json=config, metadata_json='{"host": "h"}',
    ))


def _history(seq: int, steps: list[int], **floats: list[float]) -> Any:
    columns = [events_pb2.Column(key=k, kind=events_pb2.FLOAT, f64=v)
               for k, v in floats.items()]
    return events_pb2.Event(seq=seq, timestamp=101.0, history=events_pb2.HistoryBatch(
        steps=steps, timestamps=[1000.0 + s for s in steps],
        runtimes=[0.25 * s for s in steps], columns=columns,
    ))


def _exact_values_event(seq: int) -> Any:
    return events_pb2.Event(seq=seq, history=events_pb2.HistoryBatch(
        steps=[0, 1, 2], timestamps=[10.5, 11.5, 12.5], runtimes=[0.1, 0.2, 0.3],
        columns=[
            events_pb2.Column(key="f", kind=events_pb2.FLOAT,
                              f64=[math.nan, math.inf, -math.inf]),
            events_pb2.Column(key="i", kind=events_pb2.INT,
                              i64=[-(2**63), 0, 2**63 - 1]),
            events_pb2.Column(key="b", kind=events_pb2.BOOL, i64=[1, 0, 1]),
            events_pb2.Column(key="big", kind=events_pb2.BIGINT, rows=[0],
                              text=[str(2**100)]),
            events_pb2.Column(key="s", kind=events_pb2.TEXT, rows=[1, 2],
                              text=["NaN", "hello"]),
        ],
    ))


def test_logged_values_come_back_exactly_through_the_api(platform: Platform) -> None:
    summary = events_pb2.Event(seq=3, summary=events_pb2.SummaryUpdate(
        set_json='{"best": Infinity, "acc": 0.5}'))
    batch = _batch(platform, "exact", _start(), _exact_values_event(2), summary)
    seq = platform.publish(batch)
    platform.wait_applied(seq)

    run = platform.api(platform.alice).run(f"{platform.alice}/wq/exact")
    rows = list(run.scan_history())

    assert (run.name, run.state, run.tags, run.config) == ("exp", "running", ["t1"],
                                                           {"lr": 0.1})
    assert run.summary == {"best": math.inf, "acc": 0.5}
    assert run.metadata == {"host": "h"} and run.created_at == 100.0
    assert [r["_step"] for r in rows] == [0, 1, 2]
    assert [r["_timestamp"] for r in rows] == [10.5, 11.5, 12.5]
    assert math.isnan(rows[0]["f"]) and rows[1]["f"] == math.inf
    assert rows[2]["f"] == -math.inf
    assert [r["i"] for r in rows] == [-(2**63), 0, 2**63 - 1]
    assert [type(r["b"]) for r in rows] == [bool] * 3 and rows[1]["b"] is False
    assert rows[0]["big"] == 2**100 and "big" not in rows[1]
    assert rows[1]["s"] == "NaN" and isinstance(rows[1]["s"], str)


def test_replays_change_nothing_even_after_the_duplicate_window(
    platform: Platform,
) -> None:
    batch = _batch(platform, "replay", _start(), _history(2, [0, 1], loss=[1.0, 0.5]))
    platform.wait_applied(platform.publish(batch))
    # The NATS server is shared with other test modules: count this run only.
    count = (
        "SELECT count() AS n FROM history WHERE entity = {entity:String}"
        " AND project = 'wq' AND run_id = 'replay'"
    )
    params = {"entity": platform.alice}
    before = platform.app.state.storage.query(count, params)[0]["n"]

    platform.publish(batch)  # same message id: JetStream drops it
    later = platform.publish(batch, msg_id="month-later-" + uuid.uuid4().hex)
    platform.wait_applied(later)

    assert platform.app.state.storage.query(count, params)[0]["n"] == before == 2
    rows = list(platform.api(platform.alice).run(
        f"{platform.alice}/wq/replay").scan_history())
    assert [(r["_step"], r["loss"]) for r in rows] == [(0, 1.0), (1, 0.5)]


def test_later_in_stream_wins_for_the_same_field(platform: Platform) -> None:
    platform.publish(_batch(platform, "wins", _start(),
                            _history(2, [5], loss=[1.0])))
    crash = events_pb2.Event(seq=1, lifecycle=events_pb2.Lifecycle(
        state=events_pb2.CRASHED))
    platform.publish(_batch(platform, "wins", crash, publisher="b" * 32))
    edit = events_pb2.Event(seq=1, edit=events_pb2.Edit(field="name",
                                                       value_json='"renamed"'))
    relog = _history(2, [5], loss=[2.0])
    seq = platform.publish(_batch(platform, "wins", edit, relog, publisher="c" * 32))
    platform.wait_applied(seq)

    run = platform.api(platform.alice).run(f"{platform.alice}/wq/wins")

    assert (run.state, run.name) == ("crashed", "renamed")
    assert [r["loss"] for r in run.scan_history()] == [2.0]


def test_garbage_is_dead_lettered_and_the_stream_goes_on(platform: Platform) -> None:
    subject = bus.event_subject("ingest", platform.alice, "wq", "garbage")
    platform.publish_raw(subject, b"\xff\x00not a batch", "garbage-" + uuid.uuid4().hex)
    bad_kind = events_pb2.Event(seq=1, history=events_pb2.HistoryBatch(
        steps=[0], columns=[events_pb2.Column(key="x", kind=99, f64=[1.0])]))
    platform.publish(_batch(platform, "bad-kind", bad_kind))
    good = platform.publish(_batch(platform, "after-garbage", _start(),
                                   _history(2, [0], x=[3.0])))
    platform.wait_applied(good)

    async def last_dead(js: Any) -> Any:
        return await js.get_last_msg(bus.DEADLETTER_STREAM, bus.DEADLETTER_SUBJECT)

    dead = asyncio.run(_with_js(platform.config, last_dead))
    run = platform.api(platform.alice).run(f"{platform.alice}/wq/after-garbage")

    assert [r["x"] for r in run.scan_history()] == [3.0]
    assert "unknown value kind 99" in dead.headers["Lodestar-Reason"]
    assert platform.app.state.writer.stats.dead_letters >= 2


def test_requests_without_a_key_or_for_another_entity_are_refused(
    platform: Platform,
) -> None:
    path = f"/api/v1/runs/{platform.alice}/wq"

    no_key = platform.get(path)
    other = platform.get(path, platform.keys[platform.bob])
    with pytest.raises(ApiError) as refused:
        platform.api(platform.bob).run(f"{platform.alice}/wq/exact")

    assert no_key[0] == 401 and "Authorization: Bearer" in no_key[1]["detail"]
    assert other[0] == 403 and "not a member" in other[1]["detail"]
    assert refused.value.status == 403
    discovery = platform.get("/api/v1/discovery")[1]
    assert discovery["ingest"] == platform.config.ingest_target


def test_admin_api_needs_an_admin_and_makes_working_keys(platform: Platform) -> None:
    def post(path: str, body: dict, key: str) -> tuple[int, Any]:
        request = urllib.request.Request(
            platform.base_url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {key}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    name = "carol" + uuid.uuid4().hex[:6]
    root = platform.keys[platform.root]
    bob = platform.keys[platform.bob]
    assert post("/api/v1/admin/users", {"name": name}, bob)[0] == 403
    assert post("/api/v1/admin/users", {"name": name}, root) == (201, {"name": name})
    assert post("/api/v1/admin/users", {"name": name}, root)[0] == 409
    assert post("/api/v1/admin/users", {"name": "Bad Name"}, root)[0] == 422
    assert post("/api/v1/admin/keys", {"user": "nobody-x"}, root)[0] == 404
    status, made = post("/api/v1/admin/keys", {"user": name}, root)

    assert status == 201
    viewer = wait_for(lambda: platform.get("/api/v1/viewer", made["api_key"]),
                       10, "the new key to work")
    assert viewer[1]["default_entity"] == name


def test_sampled_history_keeps_spikes_and_ends_deterministically(
    platform: Platform,
) -> None:
    steps = list(range(10_000))
    loss = [1.0 / (s + 1) for s in steps]
    loss[4321] = 50.0
    loss[777] = -3.0
    chunks = [slice(i * 2000, (i + 1) * 2000) for i in range(5)]
    events = [_start()] + [
        _history(2 + i, steps[part], loss=loss[part]) for i, part in enumerate(chunks)
    ]
    platform.wait_applied(platform.publish(_batch(platform, "sampled", *events)))
    run = platform.api(platform.alice).run(f"{platform.alice}/wq/sampled")

    first = run.history(samples=100, keys=["loss"], pandas=False)
    again = run.history(samples=100, keys=["loss"], pandas=False)
    chosen = [r["_step"] for r in first]

    assert first == again and len(first) <= 100
    assert {0, 777, 4321, 9999} <= set(chosen)
    assert all(r["loss"] == loss[r["_step"]] for r in first)


def test_runs_are_listed_lazily_with_their_fields(platform: Platform) -> None:
    for index in range(5):
        start = _start(name=f"experiment_{index}", config=f'{{"i": {index}}}')
        seq = platform.publish(_batch(platform, f"list-{index}", start,
                                      publisher=f"{index:032d}", project="listing"))
    platform.wait_applied(seq)
    api = platform.api(platform.alice)

    runs = api.runs(f"{platform.alice}/listing", per_page=2)
    projects = {p.name: p.run_count for p in api.projects(platform.alice)}

    assert len(runs) == 5
    assert sorted(r.name for r in runs) == [f"experiment_{i}" for i in range(5)]
    assert {r.config["i"] for r in runs} == set(range(5))
    assert projects["listing"] == 5
    assert api.default_entity == platform.alice
