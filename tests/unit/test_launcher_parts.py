"""The launcher's parts that need no server: children, settings, lock."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest
from lodestar_server.launcher.bootstrap import first_user_name
from lodestar_server.launcher.datadir import DataDir, Lock, prepare, running_pid
from lodestar_server.launcher.errors import AlreadyRunning, ChildFailed, PortInUse
from lodestar_server.launcher.process import Child
from lodestar_server.launcher.servers import ServerPorts, free_port

STUBBORN = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""
POLITE = 'import time; print("ready", flush=True); time.sleep(60)'


def _child(tmp_path: Path, code: str, grace_s: float = 0.5) -> Child:
    log = tmp_path / "child.log"
    return Child(
        "child", [sys.executable, "-c", code], log,
        probe=lambda: log.exists() and "ready" in log.read_text(),
        grace_s=grace_s,
    )


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    child = _child(tmp_path, STUBBORN)
    child.start()
    child.wait_ready(10)
    child.stop()
    assert child.exit_code() == -9


def test_stop_ends_a_polite_child_with_sigterm(tmp_path: Path) -> None:
    child = _child(tmp_path, POLITE, grace_s=10)
    child.start()
    child.wait_ready(10)
    child.stop()
    assert child.exit_code() == -15


def test_wait_ready_fails_when_the_child_exits(tmp_path: Path) -> None:
    child = _child(tmp_path, "raise SystemExit(3)")
    child.start()
    with pytest.raises(ChildFailed) as caught:
        child.wait_ready(10)
    assert caught.value.reason == "exited with code 3"
    assert caught.value.log_path == tmp_path / "child.log"


def test_first_start_creates_private_settings_on_the_asked_port(
    tmp_path: Path,
) -> None:
    port = free_port()
    config, _ = prepare(DataDir(tmp_path), port)
    assert (config.query_port, config.public_url) == (port, f"http://127.0.0.1:{port}")
    assert config.storage_url == f"chdb://{tmp_path.resolve()}/chdb"
    mode = stat.S_IMODE(os.stat(tmp_path / "platform.json").st_mode)
    assert mode == 0o600


def test_later_start_keeps_credentials_and_free_ports(tmp_path: Path) -> None:
    first, first_ports = prepare(DataDir(tmp_path), free_port())
    again, again_ports = prepare(DataDir(tmp_path), None)
    assert again == first
    assert again_ports == first_ports


def test_later_start_moves_a_service_port_taken_since(tmp_path: Path) -> None:
    first, _ = prepare(DataDir(tmp_path), free_port())
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first.ingest_port))
        busy.listen()
        again, _ = prepare(DataDir(tmp_path), None)
    assert again.ingest_port != first.ingest_port
    assert again.nats_password == first.nats_password


def test_taken_public_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse) as caught:
            prepare(DataDir(tmp_path), port)
    assert caught.value.port == port
    assert "already in use" in str(caught.value)


def test_refreshed_ports_replace_only_taken_ones() -> None:
    ports = ServerPorts.pick()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports.valkey))
        busy.listen()
        moved = ports.refreshed()
    assert moved.valkey != ports.valkey
    assert (moved.nats, moved.s3) == (ports.nats, ports.s3)


def test_second_lock_on_a_data_dir_is_refused(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    first = Lock(data)
    first.acquire()
    try:
        with pytest.raises(AlreadyRunning) as caught:
            Lock(data).acquire()
        assert caught.value.pid == os.getpid() == running_pid(data)
    finally:
        first.release()
    assert running_pid(data) is None


@pytest.mark.parametrize(
    ("login", "expected"),
    [("Jane.Doe", "jane-doe"), ("root", "root"), ("...", "admin"), ("", "admin")],
)
def test_first_user_name_is_a_valid_entity_or_admin(login: str, expected: str) -> None:
    assert first_user_name(login) == expected
