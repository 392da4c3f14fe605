"""Ingest against real NATS JetStream and Valkey: auth, resume, validation,
publish-then-ack, replays, lifecycle, heartbeats, health."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from ingest_support import (
    RawStream,
    event_ids,
    finish,
    header,
    history,
    run_start,
    running_ingest,
    wait_for,
)
from lodestar._proto import events_pb2, ingest_pb2
from lodestar_server.common import bus
from lodestar_server.ingest.heartbeats import heartbeat_key

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def env(servers):
    with running_ingest(servers) as (nats, ingest, _):
        yield nats, ingest


@pytest.fixture
def user(env):
    nats, _ = env
    return nats.new_user()


def _open(ingest, key, head, start=None):
    stream = RawStream(ingest.target, key)
    stream.open(head, start or run_start().run_start)
    return stream, stream.recv()


def _refused_code(stream, first) -> tuple[str, grpc.StatusCode]:
    assert first.HasField("error"), first
    ended = stream.recv()
    assert isinstance(ended, grpc.RpcError)
    return first.error.code, ended.code()


def test_stream_without_key_is_unauthenticated(env):
    _, ingest = env
    stream, first = _open(ingest, None, header("p", "r1"))
    assert _refused_code(stream, first) == (
        "unauthenticated", grpc.StatusCode.UNAUTHENTICATED)
    assert "LODESTAR_API_KEY" in first.error.message


def test_unknown_key_is_unauthenticated(env):
    _, ingest = env
    stream, first = _open(ingest, "lsk_not-a-key", header("p", "r1"))
    assert _refused_code(stream, first) == (
        "unauthenticated", grpc.StatusCode.UNAUTHENTICATED)


def test_entity_the_user_is_not_a_member_of_is_permission_denied(env, user):
    nats, ingest = env
    other, _ = nats.new_user()
    stream, first = _open(ingest, user[1], header("p", "r1", entity=other))
    assert _refused_code(stream, first) == (
        "permission_denied", grpc.StatusCode.PERMISSION_DENIED)
    assert repr(other) in first.error.message


def test_empty_entity_means_the_users_own_and_teams_are_allowed(env, user):
    nats, ingest = env
    name, key = user
    stream, first = _open(ingest, key, header("p", "own"))
    assert first.opened.entity == name
    stream.close()
    team = nats.new_team([name])
    stream, first = _open(ingest, key, header("p", "teamrun", entity=team))
    assert first.opened.entity == team
    stream.close()


def test_two_new_runs_with_one_id_have_exactly_one_winner(env, user):
    _, ingest = env
    results: list = []

    def open_one() -> None:
        stream, first = _open(ingest, user[1], header("race", "same-id"))
        results.append(first.WhichOneof("body"))
        if first.HasField("error"):
            results.append(first.error.code)
        stream.close()

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["error", "error", "error", "opened",
                               "run_exists", "run_exists", "run_exists"]


def test_resume_must_fails_for_an_unknown_run(env, user):
    _, ingest = env
    start = run_start(resume=events_pb2.RESUME_MUST).run_start
    stream, first = _open(ingest, user[1], header("p", "nobody"), start)
    assert _refused_code(stream, first) == (
        "run_not_found", grpc.StatusCode.NOT_FOUND)


def test_resume_allow_continues_after_the_highest_step(env, user):
    nats, ingest = env
    name, key = user
    head = header("p", "resumed")
    first_start = run_start(config_json=json.dumps({"lr": 0.1}))
    stream, first = _open(ingest, key, head, first_start.run_start)
    assert not first.opened.resumed and first.opened.next_step == 0
    stream.send([first_start, history(2, 7, {"loss": 1.0}),
                 history(3, 41, {"loss": 0.5}), finish(4)])
    assert stream.until_ack() == ([], 4)
    stream.close()
    assert nats.registry(name, "p", "resumed")["state"] == "finished"

    allow = run_start(resume=events_pb2.RESUME_ALLOW).run_start
    again, reply = _open(ingest, key, header("p", "resumed"), allow)
    opened = reply.opened
    assert (opened.resumed, opened.next_step, opened.acked_seq) == (True, 42, 0)
    assert json.loads(opened.config_json) == {"lr": 0.1}
    assert nats.registry(name, "p", "resumed")["state"] == "running"
    again.close()


def test_bad_values_are_rejected_one_by_one_and_the_rest_published(env, user):
    nats, ingest = env
    name, key = user
    head = header("p", "bad-values")
    stream, _ = _open(ingest, key, head)
    event = history(2, 5, {"ok": 1.5, "k" * 300: 2.0, "tab\tkey": 3.0})
    event.history.columns.append(events_pb2.Column(
        key="big", kind=events_pb2.TEXT, text=["x" * (2 * 1024 * 1024)]))
    event.history.columns.append(events_pb2.Column(
        key="flag", kind=events_pb2.BOOL, i64=[2]))
    empty = events_pb2.Event(seq=3, timestamp=time.time())
    stream.send([run_start(), event, empty])
    rejections, upto = stream.until_ack()
    assert upto == 3
    found = {(r.seq, r.key): r.reason for r in rejections}
    assert set(found) == {(2, "k" * 300), (2, "tab\tkey"), (2, "big"), (2, "flag"),
                          (3, "")}
    assert "at most 256" in found[(2, "k" * 300)]
    assert "control character" in found[(2, "tab\tkey")]
    assert "2097152 bytes" in found[(2, "big")] and "step 5" in found[(2, "big")]
    assert "not 0 or 1" in found[(2, "flag")]
    assert found[(3, "")] == "the event has no body"
    [batch] = nats.batches(name, "p", "bad-values")
    assert [e.seq for e in batch.events] == [1, 2]
    kept = batch.events[1].history
    assert [(c.key, list(c.f64)) for c in kept.columns] == [("ok", [1.5])]
    assert list(kept.keys) == ["ok"]
    stream.close()


def test_every_ack_comes_after_jetstream_holds_the_batch(env, user):
    nats, ingest = env
    name, key = user
    head = header("p", "ordering")
    stream, _ = _open(ingest, key, head)
    stream.send([run_start()])
    assert stream.until_ack()[1] == 1
    for seq in range(2, 12):
        stream.send([history(seq, seq, {"x": float(seq)})])
        assert stream.until_ack()[1] == seq
        stored = {s for _, s in event_ids(nats.batches(name, "p", "ordering"))}
        assert max(stored) == seq
    msgs = nats.messages(name, "p", "ordering")
    assert [m.headers["Nats-Msg-Id"] for m in msgs][:2] == [
        bus.message_id(head.wal_id, 1, 1), bus.message_id(head.wal_id, 2, 2)]
    assert nats.registry(name, "p", "ordering")["wals"] == {head.wal_id: 11}
    stream.close()


def test_a_replayed_wal_is_acked_without_publishing_again(env, user):
    nats, ingest = env
    name, key = user
    head = header("p", "replay")
    events = [run_start()] + [history(s, s, {"x": 1.0}) for s in range(2, 6)]
    stream, _ = _open(ingest, key, head)
    stream.send(events[:3])
    assert stream.until_ack()[1] == 3
    stream.close()
    before = len(nats.messages(name, "p", "replay"))

    again, reply = _open(ingest, key, head)
    assert reply.opened.acked_seq == 3
    again.send(events)  # 1..5: 1..3 were published before
    assert again.until_ack() == ([], 5)
    again.send(events)
    assert again.until_ack() == ([], 5)
    ids = event_ids(nats.batches(name, "p", "replay"))
    assert sorted(ids) == [(head.wal_id, s) for s in range(1, 6)]
    assert len(nats.messages(name, "p", "replay")) == before + 1
    again.close()


def test_a_gap_in_the_sequence_ends_the_stream_as_invalid(env, user):
    _, ingest = env
    stream, _ = _open(ingest, user[1], header("p", "gap"))
    stream.send([run_start(), history(3, 1, {"x": 1.0})])
    first = stream.recv()
    assert _refused_code(stream, first) == ("invalid",
                                            grpc.StatusCode.INVALID_ARGUMENT)


def test_process_exit_publishes_one_crashed_lifecycle(env, user):
    nats, ingest = env
    name, key = user
    head = header("p", "crash")
    stream, _ = _open(ingest, key, head)
    stream.send([run_start(), history(2, 0, {"x": 1.0})])
    assert stream.until_ack()[1] == 2
    exit_report = ingest_pb2.ProcessExit(state=events_pb2.CRASHED, reason="gone",
                                         at=123.5)
    for _ in range(2):
        stream.send_message(ingest_pb2.ClientMessage(process_exit=exit_report))
        assert stream.until_ack() == ([], 2)
    batches = nats.batches(name, "p", "crash")
    lifecycles = [(b.publisher_id, e) for b in batches for e in b.events
                  if e.HasField("lifecycle")]
    assert len(lifecycles) == 1
    publisher, event = lifecycles[0]
    assert publisher != head.wal_id and len(publisher) == 32
    assert (event.lifecycle.state, event.lifecycle.reason, event.timestamp) == (
        events_pb2.CRASHED, "gone", 123.5)
    assert nats.registry(name, "p", "crash")["state"] == "crashed"
    stream.close()


def test_heartbeats_land_in_redis(env, user, servers):
    _, ingest = env
    name, key = user
    stream, _ = _open(ingest, key, header("p", "beating"))
    client = redis.Redis.from_url(servers.redis_url)
    hb_key = heartbeat_key(bus.run_key(name, "p", "beating"))
    client.delete(hb_key)
    sent = time.time()
    stream.send_message(ingest_pb2.ClientMessage(
        heartbeat=ingest_pb2.Heartbeat(sent_at=sent)))
    stored = wait_for(lambda: client.get(hb_key), 10, "the heartbeat in Redis")
    assert float(stored) >= sent - 1
    stream.close()
    client.close()


def test_health_over_grpc_and_http_and_metrics(env):
    _, ingest = env
    with grpc.insecure_channel(ingest.target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "lodestar.v1.Ingest"):
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service),
                               timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    base = f"http://127.0.0.1:{ingest.server.http_port}"
    with urllib.request.urlopen(base + "/healthz", timeout=5) as reply:
        assert json.loads(reply.read()) == {
            "status": "ok", "nats": True, "accounts": True, "redis": True}
    with urllib.request.urlopen(base + "/metrics", timeout=5) as reply:
        text = reply.read().decode()
    assert "# TYPE lodestar_ingest_events_published_total counter" in text
