"""The local launcher: start, health, first user, restarts, stop, reuse."""

from __future__ import annotations

import io
import json
import netrc
import os
import socket
import stat
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import redis
from lodestar_server.common.config import PlatformConfig, load_config
from lodestar_server.launcher import cli, control
from lodestar_server.launcher.bootstrap import first_user_name
from lodestar_server.launcher.children import NAMES
from lodestar_server.launcher.datadir import DataDir, running_pid
from lodestar_server.launcher.errors import AlreadyRunning, NotRunning, PortInUse
from lodestar_server.launcher.servers import free_port
from minio import Minio
from polling import wait_for

pytestmark = pytest.mark.timeout(600)


@dataclass
class Started:
    data_dir: Path
    home: Path
    config: PlatformConfig

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
        env.update(HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"))
        return env

    def start(self, port: int | None = None) -> PlatformConfig:
        self.config = control.start_detached(
            self.data_dir, port=port, grace_s=5.0, env=self.env,
            stop_with_caller=True,
        )
        return self.config

    def netrc_key(self) -> str:
        host = self.config.public_url.split("://", 1)[1]
        entry = netrc.netrc(str(self.home / ".netrc")).authenticators(host)
        assert entry is not None
        return entry[2] or ""


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    root = tmp_path_factory.mktemp("launcher")
    (root / "home").mkdir()
    platform = Started(
        root / "data", root / "home", config=None  # type: ignore[arg-type]
    )
    platform.start(port=free_port())
    try:
        yield platform
    finally:
        try:
            control.stop(platform.data_dir)
        except NotRunning:
            pass


def _viewer_status(config: PlatformConfig, api_key: str) -> int:
    request = urllib.request.Request(
        config.public_url + "/api/v1/viewer",
        headers={"Authorization": f"Bearer {api_key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status


def test_start_brings_every_child_up_healthy(started: Started) -> None:
    children = control.read_status(started.data_dir)
    assert sorted(c.name for c in children) == sorted(NAMES)
    assert all(c.healthy for c in children), children
    assert all(psutil.pid_exists(c.pid) for c in children if c.pid)


def test_status_command_exits_zero_and_lists_children(
    started: Started, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["status", "--data-dir", str(started.data_dir)]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert f"\n{name} " in out


def test_status_url_prints_only_the_running_platforms_url(
    started: Started, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["status", "--url", "--data-dir", str(started.data_dir)]) == 0
    url = capsys.readouterr().out
    assert cli.main(["status", "--url", "--data-dir", str(tmp_path)]) == 1

    assert url == f"http://127.0.0.1:{started.config.query_port}\n"


def test_first_start_writes_first_user_key_and_private_settings(
    started: Started,
) -> None:
    data = DataDir(started.data_dir)
    assert data.read_json(data.bootstrap_json)["user"] == first_user_name()
    key = started.netrc_key()
    assert key.startswith("lsk_")
    assert stat.S_IMODE(os.stat(started.home / ".netrc").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data.platform_json).st_mode) == 0o600
    assert _viewer_status(started.config, key) == 200


def test_second_supervisor_on_same_data_dir_is_refused(started: Started) -> None:
    with pytest.raises(AlreadyRunning) as caught:
        control.start_detached(started.data_dir, env=started.env)
    assert caught.value.pid == running_pid(DataDir(started.data_dir))


def test_sigkilled_child_is_restarted(started: Started) -> None:
    old = control.child_pid(started.data_dir, "ingest")
    assert old is not None
    psutil.Process(old).kill()

    def restarted() -> bool:
        pid = control.child_pid(started.data_dir, "ingest")
        return pid not in (None, old) and control.probe_children(
            DataDir(started.data_dir)
        )["ingest"]

    wait_for(restarted, 60, "ingest to be restarted and healthy")
    log = (started.data_dir / "logs" / "supervisor.log").read_text()
    assert f"ingest (pid {old}) exited with code -9" in log


def test_port_already_taken_gives_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PortInUse) as caught:
            control.start_detached(tmp_path / "data", port=port)
        code = cli.main(["start", "--detach", "--port", str(port),
                         "--data-dir", str(tmp_path / "data")])
    assert caught.value.port == port
    assert code == 1
    err = capsys.readouterr().err
    assert f"port {port} for the Lodestar web server is already in use" in err


def test_stop_leaves_no_child_and_restart_reuses_data_and_credentials(
    started: Started,
) -> None:
    before = started.config
    key = started.netrc_key()
    redis.Redis.from_url(before.redis_url, socket_timeout=5).set("kept", b"yes")
    s3 = Minio(before.s3_endpoint, before.s3_access_key, before.s3_secret_key,
               secure=False)
    s3.put_object(before.s3_bucket, "kept.txt", io.BytesIO(b"yes"), 3)
    pids = [c.pid for c in control.read_status(started.data_dir) if c.pid]

    control.stop(started.data_dir)
    assert [pid for pid in pids if _running(pid)] == []
    with pytest.raises(NotRunning):
        control.read_status(started.data_dir)

    after = started.start()
    assert after == load_config(started.data_dir / "platform.json")
    assert (after.nats_password, after.s3_secret_key, after.public_url) == (
        before.nats_password, before.s3_secret_key, before.public_url,
    )
    assert started.netrc_key() == key
    assert _viewer_status(after, key) == 200
    assert redis.Redis.from_url(after.redis_url, socket_timeout=5).get("kept") == b"yes"
    s3 = Minio(after.s3_endpoint, after.s3_access_key, after.s3_secret_key,
               secure=False)
    assert s3.get_object(after.s3_bucket, "kept.txt").read() == b"yes"
    bootstrap = json.loads((started.data_dir / "bootstrap.json").read_text())
    assert bootstrap["user"] == first_user_name()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
