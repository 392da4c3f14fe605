"""The agent process against real ingest, NATS JetStream and Valkey: tailing,
replay after ingest is SIGKILLed, crash reports, heartbeats, refusals."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from ingest_support import (
    Discovery,
    LoopThread,
    Nats,
    ProcessIngest,
    event_ids,
    finish,
    header,
    history,
    run_start,
    running_ingest,
    wait_for,
    write_wal,
)
from lodestar._proto import events_pb2
from lodestar.agent_status import read_status
from lodestar_server.common import bus
from lodestar_server.ingest.heartbeats import heartbeat_key

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def env(servers):
    with running_ingest(servers) as parts:
        yield parts


@pytest.fixture
def parent():
    """A stand-in training process that the test can SIGKILL."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc
    proc.kill()
    proc.wait(10)


def start_agent(run_dir: Path, parent_pid: int, base_url: str, api_key: str,
                **env: str) -> subprocess.Popen:
    environ = {**os.environ, "LODESTAR_BASE_URL": base_url,
               "LODESTAR_API_KEY": api_key, "HOME": str(run_dir.parent),
               **{f"LODESTAR_{k.upper()}": v for k, v in env.items()}}
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    with open(run_dir / "logs" / "agent.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "lodestar.agent", str(run_dir),
             "--parent-pid", str(parent_pid)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True, env=environ,
        )


def _agent_log(run_dir: Path) -> str:
    return (run_dir / "logs" / "agent.log").read_text()


def _exit_code(agent: subprocess.Popen, run_dir: Path, timeout_s: float = 60) -> int:
    try:
        return agent.wait(timeout_s)
    except subprocess.TimeoutExpired as exc:
        agent.kill()
        raise AssertionError("the agent did not exit:\n" + _agent_log(run_dir)) from exc


def _history_events(first_seq: int, count: int) -> list[events_pb2.Event]:
    return [history(first_seq + i, i, {"loss": 1.0 / (i + 1), "acc": i / count})
            for i in range(count)]


def test_agent_sends_a_finished_wal_and_reports_done(env, parent, tmp_path):
    nats, _, discovery = env
    name, key = nats.new_user()
    head = header("agent", "finished")
    events = [run_start()] + _history_events(2, 500) + [finish(502)]
    write_wal(tmp_path / "run", head, events).close()
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, key)
    assert _exit_code(agent, tmp_path / "run") == 0
    status = read_status(tmp_path / "run")
    assert (status.done, status.acked_seq, status.error, status.wal_id) == (
        True, 502, None, head.wal_id)
    assert status.opened["entity"] == name
    assert (tmp_path / "run" / ".synced").exists()
    ids = event_ids(nats.batches(name, "agent", "finished"))
    assert sorted(ids) == [(head.wal_id, s) for s in range(1, 503)]
    assert nats.registry(name, "agent", "finished")["state"] == "finished"


def test_agent_tails_a_wal_while_it_grows(env, parent, tmp_path):
    nats, _, discovery = env
    name, key = nats.new_user()
    head = header("agent", "tailing")
    writer = write_wal(tmp_path / "run", head, [run_start()])
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, key)
    seq = 2
    for _ in range(5):
        writer.append(_history_events(seq, 10))
        seq += 10
        last = seq - 1
        wait_for(lambda last=last: read_status(tmp_path / "run").acked_seq == last,
                 20, f"the ack of event {last}")
    assert agent.poll() is None  # no Finish yet: the agent keeps tailing
    writer.append([finish(seq)])
    writer.close()
    assert _exit_code(agent, tmp_path / "run") == 0
    ids = event_ids(nats.batches(name, "agent", "tailing"))
    assert sorted(ids) == [(head.wal_id, s) for s in range(1, seq + 1)]


def test_agent_reports_a_crash_when_its_parent_is_killed(env, parent, tmp_path):
    nats, _, discovery = env
    name, key = nats.new_user()
    head = header("agent", "crashing")
    writer = write_wal(tmp_path / "run", head, [run_start()] + _history_events(2, 20))
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, key)
    wait_for(lambda: read_status(tmp_path / "run").acked_seq == 21, 20, "acks")
    writer.append(_history_events(22, 5))  # written just before the kill
    writer.close()
    parent.kill()
    assert _exit_code(agent, tmp_path / "run", 20) == 0
    assert read_status(tmp_path / "run").done
    batches = nats.batches(name, "agent", "crashing")
    states = [e.lifecycle.state for b in batches for e in b.events
              if e.HasField("lifecycle")]
    assert states == [events_pb2.CRASHED]
    wal_ids = sorted(s for p, s in event_ids(batches) if p == head.wal_id)
    assert wal_ids == list(range(1, 27))
    assert nats.registry(name, "agent", "crashing")["state"] == "crashed"


def test_agent_heartbeats_land_in_redis(env, parent, tmp_path, servers):
    nats, _, discovery = env
    name, key = nats.new_user()
    head = header("agent", "beating")
    write_wal(tmp_path / "run", head, [run_start()]).close()
    client = redis.Redis.from_url(servers.redis_url)
    hb_key = heartbeat_key(bus.run_key(name, "agent", "beating"))
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, key,
                        heartbeat_interval="0.2")
    try:
        first = float(wait_for(lambda: client.get(hb_key), 20, "a heartbeat"))
        later = wait_for(lambda: float(client.get(hb_key) or 0) > first + 0.3, 20,
                         "a later heartbeat")
        assert later
    finally:
        agent.kill()
        agent.wait(10)
        client.close()


def test_agent_reports_an_unknown_key_and_waits_for_its_parent(env, parent, tmp_path):
    _, _, discovery = env
    head = header("agent", "refused")
    write_wal(tmp_path / "run", head, [run_start()]).close()
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, "lsk_bad")
    error = wait_for(lambda: read_status(tmp_path / "run").error, 20, "the error")
    assert error["code"] == "unauthenticated"
    assert "unknown" in error["message"]
    time.sleep(0.3)  # a refused agent must stay until its parent is gone
    assert agent.poll() is None
    parent.kill()
    assert _exit_code(agent, tmp_path / "run", 20) == 1


def test_agent_turns_rejections_into_warnings(env, parent, tmp_path):
    nats, _, discovery = env
    _, key = nats.new_user()
    head = header("agent", "warned")
    events = [run_start(), history(2, 0, {"k" * 300: 1.0, "ok": 2.0}), finish(3)]
    write_wal(tmp_path / "run", head, events).close()
    agent = start_agent(tmp_path / "run", parent.pid, discovery.base_url, key)
    assert _exit_code(agent, tmp_path / "run") == 0
    [warning] = read_status(tmp_path / "run").warnings
    assert warning.startswith(f"value {'k' * 300!r} was not stored: the key has 300")
    assert "step 0" in warning
    assert "was not stored" in _agent_log(tmp_path / "run")


def test_agent_replays_after_ingest_is_killed_mid_stream(servers, parent, tmp_path):
    loop = LoopThread()
    nats = Nats(servers, loop)
    ingest = ProcessIngest(servers, tmp_path)
    ingest.start()
    discovery = Discovery(ingest.target)
    try:
        _replay_after_kill(nats, ingest, discovery, parent, tmp_path)
    finally:
        ingest.stop()
        discovery.close()
        nats.close()
        loop.close()


def _replay_after_kill(nats, ingest, discovery, parent, tmp_path) -> None:
    name, key = nats.new_user()
    head = header("agent", "ingest-killed")
    run_dir = tmp_path / "run"
    total = 20_000
    writer = write_wal(run_dir, head, [run_start()])
    agent = start_agent(run_dir, parent.pid, discovery.base_url, key)
    written = threading.Event()

    def produce() -> None:
        for first in range(2, total + 2, 200):
            writer.append(_history_events(first, 200))
            time.sleep(0.005)
        writer.append([finish(total + 2)])
        written.set()

    threading.Thread(target=produce, daemon=True).start()
    wait_for(lambda: read_status(run_dir).acked_seq > 2000, 60, "a first stretch")
    ingest.kill()
    acked_at_kill = read_status(run_dir).acked_seq
    ingest.start()
    assert written.wait(60)
    assert _exit_code(agent, run_dir, 120) == 0
    assert acked_at_kill < total + 2
    ids = event_ids(nats.batches(name, "agent", "ingest-killed"))
    distinct = set(ids)
    assert distinct == {(head.wal_id, s) for s in range(1, total + 3)}
    assert "retrying" in _agent_log(run_dir)
