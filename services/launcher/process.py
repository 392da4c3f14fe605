"""One managed child process: start, readiness, stop.

Each child gets a session of its own, so a Ctrl-C in the terminal reaches the
supervisor only and the supervisor stops the children in order. On Linux the
child also asks the kernel to kill it when its parent dies, so a supervisor
killed with SIGKILL leaves no server behind.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import ChildFailed

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
DEFAULT_GRACE_S = 10.0


def signal_on_parent_death(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send `sig` when the parent dies.

    None elsewhere: other systems have no such request.
    """
    if not sys.platform.startswith("linux"):
        return None

    def request() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)

    return request


class Child:
    """A server or service process with a log file and a readiness probe.

    Args:
        name: Short name used in logs and status ("nats", "query").
        argv: The command line.
        log_path: stdout and stderr are appended here.
        probe: Returns True when the child answers; must not raise.
        env: The environment; the parent's when None.
        grace_s: Seconds between SIGTERM and SIGKILL on stop.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        probe: Callable[[], bool],
        env: dict[str, str] | None = None,
        grace_s: float = DEFAULT_GRACE_S,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.probe = probe
        self.env = env
        self.grace_s = grace_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def exit_code(self) -> int | None:
        return self._proc.poll() if self._proc else None

    def start(self) -> None:
        """Start the process; its output is appended to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        preexec = signal_on_parent_death(signal.SIGKILL)
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=preexec,
            )
        logger.info("started %s (pid %s)", self.name, self._proc.pid)

    def healthy(self) -> bool:
        return self.alive() and self.probe()

    def wait_ready(
        self, timeout_s: float, cancel: threading.Event | None = None
    ) -> None:
        """Poll the probe until it answers, or until `cancel` is set.

        Raises:
            ChildFailed: The child exited, or did not answer in time.
        """
        cancel = cancel or threading.Event()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not cancel.is_set():
            if not self.alive():
                raise ChildFailed(self.name, self._reason("exited"), self.log_path)
            if self.probe():
                return
            cancel.wait(0.1)
        if cancel.is_set():
            return
        reason = f"not ready after {timeout_s:.0f} s"
        raise ChildFailed(self.name, reason, self.log_path)

    def stop(self, grace_s: float | None = None) -> None:
        """SIGTERM the child's process group, then SIGKILL after the grace."""
        if self._proc is None or self._proc.poll() is not None:
            return
        grace = self.grace_s if grace_s is None else grace_s
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            logger.warning("%s ignored SIGTERM for %.0f s; killing", self.name, grace)
            self._signal(signal.SIGKILL)
            self._proc.wait(timeout=10)
        logger.info("stopped %s (exit %s)", self.name, self._proc.returncode)

    def _signal(self, sig: int) -> None:
        # The child leads its own session, so its group id is its pid and
        # anything it started goes with it. Unreaped, the pid cannot be reused.
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            pass

    def _reason(self, what: str) -> str:
        return f"{what} with code {self.exit_code()}"
