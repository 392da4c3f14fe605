"""Start, stop and inspect a local platform from another process.

The CLI and the test fixtures use these functions; the supervisor itself runs
in its own process (`start_detached`) or in the caller's (`run_supervisor`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

from ..common.config import PlatformConfig, load_config
from .children import NAMES, probes
from .datadir import DataDir, prepare, running_pid
from .errors import AlreadyRunning, ChildFailed, LauncherError, NotRunning
from .process import DEFAULT_GRACE_S, signal_on_parent_death
from .servers import ServerPorts

START_TIMEOUT_S = 240.0
POLL_S = 0.2


@dataclass(frozen=True)
class ChildStatus:
    """One child as `lodestar server status` shows it."""

    name: str
    pid: int | None
    port: int
    healthy: bool
    restarts: int
    log: str


def start_detached(
    data_dir: Path,
    port: int | None = None,
    grace_s: float = DEFAULT_GRACE_S,
    timeout_s: float = START_TIMEOUT_S,
    env: Mapping[str, str] | None = None,
    stop_with_caller: bool = False,
) -> PlatformConfig:
    """Start a supervisor in the background; return once all are healthy.

    Args:
        data_dir: The data directory.
        port: The public port; None keeps the saved one (8080 at first).
        grace_s: Seconds between SIGTERM and SIGKILL for each child.
        timeout_s: How long to wait for every child to be healthy.
        env: The supervisor's environment (HOME decides which ``~/.netrc``
            gets the first key); this process's when None.
        stop_with_caller: Stop the platform when the calling process dies
            (Linux), as a test session wants; the CLI leaves it running.

    Raises:
        AlreadyRunning: A supervisor owns the data directory.
        PortInUse: The public port is taken by another program.
        ChildFailed: The supervisor exited, or a child stayed unhealthy.
    """
    data = DataDir(data_dir.resolve())
    pid = running_pid(data)
    if pid is not None:
        raise AlreadyRunning(data.root, pid)
    prepare(data, port)  # fails here, in the caller, when the port is taken
    data.status_json.unlink(missing_ok=True)
    proc = _spawn(data, port, grace_s, env, stop_with_caller)
    _wait_started(data, proc, timeout_s)
    return load_config(data.platform_json)


def _spawn(
    data: DataDir, port: int | None, grace_s: float,
    env: Mapping[str, str] | None, stop_with_caller: bool,
) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "lodestar_server.launcher.supervisor",
            "--data-dir", str(data.root), "--grace", str(grace_s)]
    if port is not None:
        argv += ["--port", str(port)]
    with open(data.log("supervisor"), "ab") as log:
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None, start_new_session=True,
            preexec_fn=(
                signal_on_parent_death(signal.SIGTERM) if stop_with_caller else None
            ),
        )


def _wait_started(
    data: DataDir, proc: subprocess.Popen[bytes], timeout_s: float
) -> None:
    log = data.log("supervisor")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChildFailed("the supervisor", _last_error(log), log)
        unhealthy = _unhealthy(data)
        if unhealthy == []:
            return
        time.sleep(POLL_S)
    waiting = ", ".join(_unhealthy(data) or ["the supervisor"])
    raise ChildFailed(
        waiting, f"not healthy after {timeout_s:.0f} s (the platform keeps "
        "running; `lodestar server logs NAME` shows why)", data.logs,
    )


def _unhealthy(data: DataDir) -> list[str] | None:
    """Children not healthy yet; None while the supervisor is still starting."""
    status = data.read_json(data.status_json)
    if not status or not status.get("started"):
        return None
    live = probe_children(data)
    return [name for name in NAMES if not live.get(name)]


def _last_error(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    return f"exited: {lines[-1]}" if lines else "exited"


def probe_children(data: DataDir) -> dict[str, bool]:
    """Ask every child of the data directory whether it is healthy, now."""
    config = load_config(data.platform_json)
    ports = ServerPorts.load(data.launcher_json)
    return {name: probe() for name, probe in probes(config, ports).items()}


def read_status(data_dir: Path) -> list[ChildStatus]:
    """Every child with its pid and port and a fresh health answer.

    Raises:
        NotRunning: No supervisor runs on the data directory.
    """
    data = DataDir(data_dir.resolve())
    status = data.read_json(data.status_json)
    if running_pid(data) is None or status is None:
        raise NotRunning(data.root)
    live = probe_children(data)
    children = status.get("children", {})
    return [
        ChildStatus(name, info.get("pid"), info.get("port", 0),
                    live.get(name, False), info.get("restarts", 0), info["log"])
        for name, info in children.items()
    ]


def child_pid(data_dir: Path, name: str) -> int | None:
    """The pid the supervisor last recorded for child `name`."""
    data = DataDir(data_dir.resolve())
    info = (data.read_json(data.status_json) or {}).get("children", {}).get(name)
    if info is None:
        raise LauncherError(f"no child named {name!r}; the children are {NAMES}")
    return info.get("pid")


def stop(data_dir: Path, timeout_s: float = 120.0) -> int:
    """Stop the supervisor of `data_dir` and wait until it has exited.

    Returns:
        The pid of the stopped supervisor.

    Raises:
        NotRunning: No supervisor runs on the data directory.
        LauncherError: The supervisor did not exit within `timeout_s`.
    """
    data = DataDir(data_dir.resolve())
    pid = running_pid(data)
    if pid is None:
        raise NotRunning(data.root)
    leftovers = _recorded_children(data)
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, timeout_s):
        raise LauncherError(
            f"the supervisor (pid {pid}) did not stop within {timeout_s:.0f} s"
        )
    _kill_leftovers(leftovers)
    return pid


def _wait_gone(pid: int, timeout_s: float) -> bool:
    try:
        psutil.Process(pid).wait(timeout=timeout_s)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def _recorded_children(data: DataDir) -> list[psutil.Process]:
    found = []
    children = (data.read_json(data.status_json) or {}).get("children", {})
    for info in children.values():
        try:
            proc = psutil.Process(info["pid"])
        except (psutil.Error, TypeError, KeyError):
            continue
        if info.get("create_time") == proc.create_time():
            found.append(proc)
    return found


def _kill_leftovers(processes: list[psutil.Process]) -> None:
    # Children die with the supervisor on Linux; elsewhere, or after a crash
    # of the supervisor, one may survive it. The create time proves identity.
    for proc in processes:
        try:
            if proc.is_running():
                proc.kill()
        except psutil.NoSuchProcess:
            continue
