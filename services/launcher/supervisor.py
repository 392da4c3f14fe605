"""The supervisor: starts the local platform's children and keeps them up.

It holds the data directory's lock, starts NATS, Valkey and S3, makes the
first user, starts the four services, and then restarts any child that dies
(with a growing pause between restarts of the same child) until it receives
SIGTERM or SIGINT; then it stops the services and the servers, each with
SIGTERM and, after a grace period, SIGKILL. It writes ``status.json`` so that
other processes can see its children.

Run in the foreground by ``lodestar server start`` or in the background as
``python -m lodestar_server.launcher.supervisor --data-dir DIR``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psutil

from ..common.config import PlatformConfig
from .bootstrap import ensure_first_user
from .children import SERVER_NAMES, build_children, ports_of
from .datadir import DataDir, Lock, default_data_dir, prepare
from .errors import ChildFailed, LauncherError
from .process import DEFAULT_GRACE_S, Child
from .servers import ensure_bucket

logger = logging.getLogger(__name__)

SERVER_READY_S = 60.0
SERVICE_READY_S = 180.0
POLL_S = 0.2
PROBE_EVERY_S = 2.0
STABLE_AFTER_S = 30.0
MAX_BACKOFF_S = 30.0


@dataclass
class _Watch:
    """What the supervisor knows of one child between checks."""

    child: Child
    started_at: float = 0.0
    failures: int = 0
    restarts: int = 0
    restart_at: float | None = None
    healthy: bool = False


class Supervisor:
    """Starts and watches every child of one data directory.

    Args:
        data_dir: The data directory.
        port: The public port; None keeps the saved one.
        grace_s: Seconds between SIGTERM and SIGKILL for each child.
        on_started: Called with the config once the start sequence is done.
    """

    def __init__(
        self, data_dir: Path, port: int | None = None,
        grace_s: float = DEFAULT_GRACE_S,
        on_started: Callable[[PlatformConfig], None] | None = None,
    ) -> None:
        self.data = DataDir(data_dir)
        self.port = port
        self.grace_s = grace_s
        self._on_started = on_started
        self._lock = Lock(self.data)
        self._stopping = threading.Event()
        self._watches: list[_Watch] = []
        self._started = False

    def run(self) -> None:
        """Start everything, supervise until asked to stop, then stop all.

        Raises:
            AlreadyRunning: Another supervisor owns the data directory.
            PortInUse: The public port is taken.
            ChildFailed: A server did not start.
        """
        self._lock.acquire()
        try:
            self._start()
            self._supervise()
        finally:
            self._stop_all()
            self._lock.release()

    def request_stop(self, signum: int = 0, frame: FrameType | None = None) -> None:
        """Ask the loop to stop; safe to call from a signal handler."""
        self._stopping.set()

    def _start(self) -> None:
        config, ports = prepare(self.data, self.port)
        self.config, self.ports = config, ports
        children = build_children(config, ports, self.data.platform_json, self.grace_s)
        self._watches = [_Watch(child) for child in children]
        servers = [w for w in self._watches if w.child.name in SERVER_NAMES]
        services = [w for w in self._watches if w.child.name not in SERVER_NAMES]
        self._start_group(servers, SERVER_READY_S, fatal=True)
        ensure_bucket(config)
        user = ensure_first_user(self.data, config)
        logger.info("first user: %s", user)
        self._start_group(services, SERVICE_READY_S, fatal=False)
        self._started = True
        self._write_status()
        logger.info("Lodestar is up at %s", config.public_url)
        if self._on_started is not None:
            self._on_started(config)

    def _start_group(
        self, watches: list[_Watch], timeout_s: float, fatal: bool
    ) -> None:
        for watch in watches:
            watch.child.start()
            watch.started_at = time.monotonic()
        self._write_status()
        for watch in watches:
            try:
                watch.child.wait_ready(timeout_s, cancel=self._stopping)
                watch.healthy = watch.child.alive()
            except ChildFailed as exc:
                if fatal:
                    raise
                # A service that fails to start is restarted by the loop.
                logger.error("%s", exc)

    def _supervise(self) -> None:
        next_probe = 0.0
        while not self._stopping.is_set():
            now = time.monotonic()
            for watch in self._watches:
                self._check(watch, now)
            if now >= next_probe:
                self._probe_all()
                next_probe = now + PROBE_EVERY_S
            self._stopping.wait(POLL_S)

    def _check(self, watch: _Watch, now: float) -> None:
        child = watch.child
        if child.alive():
            if watch.failures and now - watch.started_at > STABLE_AFTER_S:
                watch.failures = 0
            return
        if watch.restart_at is None:
            watch.healthy = False
            delay = min(MAX_BACKOFF_S, 0.5 * 2**watch.failures)
            watch.restart_at = now + delay
            watch.failures += 1
            logger.warning(
                "%s (pid %s) exited with code %s; restarting in %.1f s",
                child.name, child.pid, child.exit_code(), delay,
            )
        elif now >= watch.restart_at:
            self._restart(watch, now)

    def _restart(self, watch: _Watch, now: float) -> None:
        watch.restart_at = None
        watch.restarts += 1
        watch.started_at = now
        try:
            watch.child.start()
        except OSError:
            logger.exception("could not restart %s", watch.child.name)
            return
        logger.warning("restarted %s (pid %s, restart %d)",
                       watch.child.name, watch.child.pid, watch.restarts)
        self._write_status()

    def _probe_all(self) -> None:
        for watch in self._watches:
            watch.healthy = watch.child.healthy()
        self._write_status()

    def _stop_all(self) -> None:
        # Services first, so they can flush to the servers; then the servers.
        for watch in reversed(self._watches):
            try:
                watch.child.stop()
            except OSError:
                logger.exception("could not stop %s", watch.child.name)
        self.data.status_json.unlink(missing_ok=True)

    def _write_status(self) -> None:
        ports = ports_of(self.config, self.ports)
        children = {w.child.name: self._child_status(w, ports) for w in self._watches}
        self.data.write_json(self.data.status_json, {
            "pid": psutil.Process().pid,
            "public_url": self.config.public_url,
            "started": self._started,
            "updated_at": time.time(),
            "children": children,
        })

    def _child_status(self, watch: _Watch, ports: dict[str, int]) -> dict:
        pid = watch.child.pid if watch.child.alive() else None
        return {
            "pid": pid,
            "create_time": _create_time(pid),
            "port": ports[watch.child.name],
            "healthy": watch.healthy,
            "restarts": watch.restarts,
            "log": str(watch.child.log_path),
        }


def _create_time(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def configure_logging(log_file: Path | None) -> None:
    """The supervisor's log: stderr, and a file when running in the foreground."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
    )


def run_supervisor(
    data_dir: Path, port: int | None, grace_s: float,
    on_started: Callable[[PlatformConfig], None] | None = None,
) -> None:
    """Run a supervisor in this process until SIGTERM or SIGINT."""
    supervisor = Supervisor(data_dir, port, grace_s, on_started)
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    supervisor.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Supervise a local Lodestar.")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--grace", type=float, default=DEFAULT_GRACE_S)
    parser.add_argument("--log-file", type=Path, default=None)
    args = parser.parse_args(argv)
    configure_logging(args.log_file)
    try:
        run_supervisor(args.data_dir.resolve(), args.port, args.grace)
    except LauncherError as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
