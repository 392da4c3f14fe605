"""The launcher's errors.

    LauncherError
    ├── PortInUse          a port the platform needs is taken by another program
    ├── AlreadyRunning     a supervisor already owns this data directory
    ├── NotRunning         no supervisor runs on this data directory
    ├── ChildFailed        a server or service exited or did not become ready
    └── AdminRequestFailed the admin API refused a command; carries the status
"""

from __future__ import annotations

from pathlib import Path


class LauncherError(Exception):
    """Base of the launcher's errors; the CLI prints the message and exits 1."""


class PortInUse(LauncherError):
    def __init__(self, port: int, what: str) -> None:
        self.port = port
        self.what = what
        super().__init__(
            f"port {port} for {what} is already in use by another program; "
            f"stop that program or choose another port with --port"
        )


class AlreadyRunning(LauncherError):
    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        owner = f" (pid {pid})" if pid and pid > 0 else ""
        super().__init__(
            f"a Lodestar server already runs on {data_dir}{owner}; stop it with "
            f"`lodestar server stop --data-dir {data_dir}` or use another --data-dir"
        )


class NotRunning(LauncherError):
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        super().__init__(
            f"no Lodestar server runs on {data_dir}; start one with "
            f"`lodestar server start --data-dir {data_dir}`"
        )


class ChildFailed(LauncherError):
    def __init__(self, name: str, reason: str, log_path: Path) -> None:
        self.name = name
        self.reason = reason
        self.log_path = log_path
        super().__init__(f"{name} {reason}; see its log {log_path}")


class AdminRequestFailed(LauncherError):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"the server refused: {detail} (HTTP {status})")
