"""Starting the agent, watching it through ``agent.json``, and restarting it.

The agent is ``python -m lodestar.agent RUN_DIR --parent-pid PID`` in a new
session (a Ctrl-C in the terminal must not reach it), with stdin from
/dev/null and its output appended to ``logs/agent.log``. The writer thread
calls `AgentSupervisor.poll` often; twice a second it reads the agent's report,
shows new rejections as warnings and restarts an agent that died before
reporting ``done``, backing off when it keeps dying.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable

from .agent_status import AgentStatus, read_status
from .run_dir import RunPaths

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 0.5
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0
GIVE_UP_WARNING_AFTER = 5


class AgentSupervisor:
    """The agent process of one run, as seen from the training process."""

    def __init__(
        self, paths: RunPaths, env: dict[str, str], warn: Callable[[str, str], None]
    ) -> None:
        self._paths = paths
        self._env = env
        self._warn = warn
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._next_check = 0.0
        self._restart_at = 0.0
        self._failures = 0
        self._warnings_shown = 0
        self.status = AgentStatus()

    def start(self) -> None:
        """Start a new agent process."""
        command = [
            sys.executable, "-m", "lodestar.agent", str(self._paths.path),
            "--parent-pid", str(os.getpid()),
        ]
        with open(self._paths.agent_log, "ab") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self._env,
                start_new_session=True,
                close_fds=True,
            )
        self._started_at = time.monotonic()
        logger.debug("started agent pid %s for %s", self._proc.pid, self._paths.path)

    def wait_exit(self, timeout: float) -> None:
        """Wait for the agent to exit (it does after a refusal); kill it after."""
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def poll(self, now: float) -> None:
        """Read the agent's report and restart it if needed (rate limited)."""
        if now < self._next_check:
            return
        self._next_check = now + CHECK_INTERVAL
        self.read_report()
        if self._proc is not None and self._proc.poll() is not None:
            self._on_exit(now)

    def read_report(self) -> None:
        """Read the agent's report now and show its new warnings."""
        self.status = read_status(self._paths.path)
        self._show_warnings()

    def _show_warnings(self) -> None:
        fresh = self.status.warnings[self._warnings_shown :]
        self._warnings_shown = len(self.status.warnings)
        for text in fresh:
            self._warn(f"agent:{text}", _shown(text))
        error = self.status.error
        if error:
            self._warn(
                "agent-error",
                f"the platform refused run {self._paths.run_id}: "
                f"{error.get('message') or error.get('code')}; the values stay in "
                f"{self._paths.wal}",
            )

    def _on_exit(self, now: float) -> None:
        if self.status.done or self.status.error:
            return
        if self._restart_at == 0.0:
            self._schedule_restart(now)
        if now >= self._restart_at:
            self._restart_at = 0.0
            self.start()

    def _schedule_restart(self, now: float) -> None:
        code = self._proc.returncode if self._proc else None
        lived = now - self._started_at
        self._failures = 1 if lived > STABLE_AFTER else self._failures + 1
        delay = min(MAX_BACKOFF, 0.5 * 2 ** (self._failures - 1)) - CHECK_INTERVAL
        self._restart_at = now + max(0.0, delay)
        self._warn(
            "agent-exit",
            f"the agent sending run {self._paths.run_id} exited with code {code}; "
            f"starting a new one (details in {self._paths.agent_log})",
        )
        if self._failures == GIVE_UP_WARNING_AFTER:
            self._warn(
                "agent-failing",
                f"the agent keeps exiting; the values stay in {self._paths.wal} "
                f"and `lodestar sync {self._paths.path}` uploads them later",
            )
        logger.debug("agent exited with %s; restart in %.1fs", code, delay)


def _shown(text: str) -> str:
    """An agent warning as the script sees it."""
    if text.startswith("artifact "):
        return text  # names the artifact and says why it was not logged
    return f"the platform rejected a value: {text}"
