"""``lodestar sync`` against real ingest and NATS JetStream: repeatable,
exact, resumes half-sent WALs, and cleans up what the server holds."""

from __future__ import annotations

import argparse

import pytest
from ingest_support import (
    RawStream,
    event_ids,
    finish,
    header,
    history,
    run_start,
    running_ingest,
    write_wal,
)
from lodestar._proto import events_pb2
from lodestar.agent.sender import Outcome
from lodestar.agent.sync import add_parser, sync
from lodestar.agent_status import read_status
from lodestar.errors import UsageError
from lodestar.settings import Settings

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def env(servers):
    with running_ingest(servers) as parts:
        yield parts


def _events(count: int, finished: bool = True) -> list[events_pb2.Event]:
    events = [run_start()] + [history(s, s - 2, {"x": float(s)})
                              for s in range(2, count + 1)]
    return events + [finish(count + 1)] if finished else events


def test_sync_twice_gives_exactly_the_same_stream(env, tmp_path):
    nats, _, discovery = env
    name, key = nats.new_user()
    settings = Settings(base_url=discovery.base_url, api_key=key)
    head = header("offline", "twice")
    run_dir = tmp_path / "offline-run-1"
    write_wal(run_dir, head, _events(50)).close()

    [first] = sync([run_dir], settings)
    assert (first.outcome, first.acked_seq, first.ok) == (Outcome.DONE, 51, True)
    assert (run_dir / ".synced").exists()
    before = nats.messages(name, "offline", "twice")
    [second] = sync([run_dir], settings)
    assert (second.outcome, second.acked_seq) == (Outcome.DONE, 51)
    after = nats.messages(name, "offline", "twice")
    assert [m.data for m in after] == [m.data for m in before]
    ids = event_ids(events_pb2.PublishedBatch.FromString(m.data) for m in after)
    assert sorted(ids) == [(head.wal_id, s) for s in range(1, 52)]
    assert read_status(run_dir).done


def test_sync_of_an_unfinished_wal_reports_one_crash(env, tmp_path):
    nats, _, discovery = env
    name, key = nats.new_user()
    settings = Settings(base_url=discovery.base_url, api_key=key)
    run_dir = tmp_path / "offline-run-2"
    write_wal(run_dir, header("offline", "unfinished"), _events(5, False)).close()
    for _ in range(2):
        [result] = sync([run_dir], settings)
        assert result.ok
    batches = nats.batches(name, "offline", "unfinished")
    crashes = [e for b in batches for e in b.events if e.HasField("lifecycle")]
    assert [e.lifecycle.state for e in crashes] == [events_pb2.CRASHED]
    assert nats.registry(name, "offline", "unfinished")["state"] == "crashed"


def test_sync_sends_only_the_rest_of_a_half_sent_wal(env, tmp_path):
    nats, ingest, discovery = env
    name, key = nats.new_user()
    head = header("online", "half-sent")
    events = _events(30)
    stream = RawStream(ingest.target, key)
    stream.open(head, events[0].run_start)
    assert stream.recv().HasField("opened")
    stream.send(events[:12])
    assert stream.until_ack() == ([], 12)
    stream.close()
    run_dir = tmp_path / "run-3"
    write_wal(run_dir, head, events).close()

    [result] = sync([run_dir], Settings(base_url=discovery.base_url, api_key=key))
    assert (result.outcome, result.acked_seq) == (Outcome.DONE, 31)
    ids = event_ids(nats.batches(name, "online", "half-sent"))
    assert sorted(ids) == [(head.wal_id, s) for s in range(1, 32)]


def test_sync_command_cleans_the_runs_the_server_holds(env, tmp_path, capsys,
                                                       monkeypatch):
    nats, _, discovery = env
    _, key = nats.new_user()
    root = tmp_path / "lodestar"
    for number in range(2):
        run_dir = root / f"offline-run-{number}"
        write_wal(run_dir, header("clean", f"r{number}"), _events(3)).close()
    (root / "latest-run").symlink_to(root / "offline-run-1")
    monkeypatch.setenv("LODESTAR_BASE_URL", discovery.base_url)
    monkeypatch.setenv("LODESTAR_API_KEY", key)
    monkeypatch.setenv("HOME", str(tmp_path))
    parser = argparse.ArgumentParser(prog="lodestar")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["sync", str(root), "--clean"])

    assert args.func(args) == 0
    assert sorted(p.name for p in root.iterdir()) == []
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"synced {root / 'offline-run-0'}: 4 events (removed)",
                     f"synced {root / 'offline-run-1'}: 4 events (removed)"]


def test_sync_of_a_path_without_runs_is_a_usage_error(env, tmp_path):
    _, _, discovery = env
    with pytest.raises(UsageError, match="holds no run directory"):
        sync([tmp_path], Settings(base_url=discovery.base_url, api_key="lsk_x"))


def test_sync_with_an_unknown_key_is_refused(env, tmp_path):
    _, _, discovery = env
    run_dir = tmp_path / "offline-run-9"
    write_wal(run_dir, header("offline", "refused"), _events(3)).close()
    [result] = sync([run_dir], Settings(base_url=discovery.base_url, api_key="lsk_x"))
    assert result.outcome is Outcome.REFUSED
    assert read_status(run_dir).error["code"] == "unauthenticated"
