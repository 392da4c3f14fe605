"""The local platform's data directory: settings, ports, lock and status.

    <data_dir>/platform.json   the services' settings (mode 0600)
    <data_dir>/launcher.json   the servers' ports, kept stable between starts
    <data_dir>/supervisor.pid  the running supervisor's pid
    <data_dir>/supervisor.lock held (flock) while a supervisor runs
    <data_dir>/status.json     the supervisor's view of its children
    <data_dir>/bootstrap.json  the first user, once created
    <data_dir>/{nats,valkey,s3,chdb}/  the stores
    <data_dir>/logs/<child>.log

The first start creates credentials and picks ports; later starts reuse both,
moving only a port that another program has taken since.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..common.config import PlatformConfig, load_config
from .errors import AlreadyRunning, PortInUse
from .servers import ServerPorts, free_port, new_config, port_is_free, with_ports

DEFAULT_PORT = 8080


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lodestar"


@dataclass(frozen=True)
class DataDir:
    """The paths inside one data directory."""

    root: Path

    @property
    def platform_json(self) -> Path:
        return self.root / "platform.json"

    @property
    def launcher_json(self) -> Path:
        return self.root / "launcher.json"

    @property
    def pid_file(self) -> Path:
        return self.root / "supervisor.pid"

    @property
    def lock_file(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def status_json(self) -> Path:
        return self.root / "status.json"

    @property
    def bootstrap_json(self) -> Path:
        return self.root / "bootstrap.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def create(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.logs.mkdir(exist_ok=True)

    def read_json(self, path: Path) -> dict[str, Any] | None:
        """A JSON file of this directory, or None when absent or half written."""
        try:
            value = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def write_json(self, path: Path, value: dict[str, Any]) -> None:
        """Write atomically, readable by the owner only."""
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(value, out, indent=2)
        os.replace(tmp, path)


def prepare(data: DataDir, port: int | None) -> tuple[PlatformConfig, ServerPorts]:
    """Load or create the settings and ports for a start.

    Args:
        data: The data directory; created when missing.
        port: The public port; None keeps the saved one (8080 at first).

    Raises:
        PortInUse: The public port is taken by another program.
    """
    data.create()
    if data.platform_json.exists():
        config = load_config(data.platform_json)
        ports = ServerPorts.load(data.launcher_json).refreshed()
        config = with_ports(config, ports)
    else:
        ports = ServerPorts.pick()
        config = new_config(data.root, ports, query_port=port or DEFAULT_PORT)
    config = _with_public_port(config, port or config.query_port)
    config = _with_free_service_ports(config)
    config.dump(data.platform_json)
    ports.dump(data.launcher_json)
    return config, ports


def _with_public_port(config: PlatformConfig, port: int) -> PlatformConfig:
    if not port_is_free(port):
        raise PortInUse(port, "the Lodestar web server")
    return dataclasses.replace(
        config, query_port=port, public_url=f"http://127.0.0.1:{port}"
    )


def _with_free_service_ports(config: PlatformConfig) -> PlatformConfig:
    fields = ("ingest_port", "ingest_http_port", "artifacts_port", "alerts_port")
    taken = {config.query_port}
    changes = {}
    for name in fields:
        port = getattr(config, name)
        if not port or port in taken or not port_is_free(port):
            port = free_port()
        taken.add(port)
        changes[name] = port
    return dataclasses.replace(config, **changes)


class Lock:
    """The supervisor's exclusive hold on a data directory."""

    def __init__(self, data: DataDir) -> None:
        self._data = data
        self._file: TextIO | None = None

    def acquire(self) -> None:
        """Take the lock and write the pid file.

        Raises:
            AlreadyRunning: Another supervisor holds it.
        """
        self._data.create()
        handle = open(self._data.lock_file, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise AlreadyRunning(self._data.root, running_pid(self._data)) from exc
        self._file = handle
        self._data.pid_file.write_text(str(os.getpid()))

    def release(self) -> None:
        if self._file is None:
            return
        self._data.pid_file.unlink(missing_ok=True)
        self._file.close()
        self._file = None


def is_locked(data: DataDir) -> bool:
    """Whether a supervisor holds the data directory now."""
    if not data.lock_file.exists():
        return False
    with open(data.lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def running_pid(data: DataDir) -> int | None:
    """The pid of the supervisor holding the data directory, if one does."""
    if not is_locked(data):
        return None
    try:
        return int(data.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
