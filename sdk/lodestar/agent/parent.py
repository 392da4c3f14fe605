"""Is the training process still there? Its pid plus its start time say so."""

from __future__ import annotations

import time

import psutil

CHECK_EVERY_S = 0.1


class ParentWatch:
    """Watches one process; a reused pid does not count as the same process."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self._created = _create_time(pid) if pid else None
        self._alive = self._created is not None
        self._checked_at = time.monotonic()

    def alive(self) -> bool:
        """Whether the process lives; looked up at most every 100 ms."""
        if not self._alive:
            return False
        now = time.monotonic()
        if now - self._checked_at >= CHECK_EVERY_S:
            self._checked_at = now
            self._alive = self._check()
        return self._alive

    def _check(self) -> bool:
        try:
            process = psutil.Process(self.pid)
            return (
                process.create_time() == self._created
                and process.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False


def _create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None
