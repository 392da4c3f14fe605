"""Waiting on a condition against a deadline, as tests do instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

POLL_S = 0.05


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """The first truthy answer of `predicate`; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")
