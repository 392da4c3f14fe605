"""Fixtures shared by the whole suite: real servers on free loopback ports.

`servers` starts NATS (JetStream), Valkey and SeaweedFS S3 once per session
and yields the `PlatformConfig` that points at them, with free ports picked
for the services (which it does not start). `local_platform` starts the whole
platform through the launcher, as `lodestar server start` does.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from lodestar_server.common.config import PlatformConfig
from lodestar_server.launcher import control
from lodestar_server.launcher.datadir import DataDir
from lodestar_server.launcher.servers import (
    LocalServers,
    ServerPorts,
    free_port,
    new_config,
)
from polling import wait_for


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformConfig]:
    data_dir: Path = tmp_path_factory.mktemp("servers")
    ports = ServerPorts.pick()
    config = new_config(data_dir, ports)
    local = LocalServers(config, ports, grace_s=5.0)
    local.start(timeout_s=60.0)
    try:
        yield config
    finally:
        local.stop()


class LocalPlatform:
    """A running local platform, as the `local_platform` fixture yields it.

    Attributes:
        base_url: The public URL (query service).
        api_key: The first user's key, as written to the temporary ``~/.netrc``.
        config: The platform's settings.
        data_dir: The data directory.
        env: Environment for a training subprocess: this process's, with
            ``LODESTAR_BASE_URL``, ``LODESTAR_API_KEY`` and a temporary HOME.
    """

    def __init__(self, config: PlatformConfig, data_dir: Path, home: Path) -> None:
        self.config = config
        self.data_dir = data_dir
        self.base_url = config.public_url
        self.api_key = _netrc_password(home / ".netrc", config.public_url)
        self.env = _training_env(home, self.base_url, self.api_key)

    def kill(self, name: str) -> int:
        """SIGKILL child `name` ("ingest", "query", ...); returns its pid."""
        pid = control.child_pid(self.data_dir, name)
        if pid is None:
            raise AssertionError(f"{name} has no running process to kill")
        proc = psutil.Process(pid)
        proc.kill()
        wait_for(lambda: _gone(proc), 10.0, f"{name} (pid {pid}) to die")
        return pid

    def wait_healthy(self, timeout: float = 120.0) -> None:
        """Wait until the supervisor has every child up and healthy again."""
        data = DataDir(self.data_dir)

        def all_healthy() -> bool:
            recorded = data.read_json(data.status_json) or {}
            children = recorded.get("children", {})
            if any(info.get("pid") is None for info in children.values()):
                return False
            return all(control.probe_children(data).values())

        wait_for(all_healthy, timeout, "every child to be healthy")


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _netrc_password(path: Path, base_url: str) -> str:
    host = base_url.split("://", 1)[1].rstrip("/")
    entry = netrc.netrc(str(path)).authenticators(host)
    if entry is None or not entry[2]:
        raise AssertionError(f"no key for {host} in {path}")
    return entry[2]


def _training_env(home: Path, base_url: str, api_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    env.pop("NETRC", None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        LODESTAR_BASE_URL=base_url,
        LODESTAR_API_KEY=api_key,
    )
    return env


def _supervisor_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LODESTAR_")}
    env.pop("NETRC", None)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"))
    return env


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPlatform]:
    root = tmp_path_factory.mktemp("platform")
    home = root / "home"
    home.mkdir()
    data_dir = root / "data"
    config = control.start_detached(
        data_dir, port=free_port(), grace_s=5.0, env=_supervisor_env(home),
        stop_with_caller=True,
    )
    try:
        yield LocalPlatform(config, data_dir, home)
    finally:
        control.stop(data_dir)
