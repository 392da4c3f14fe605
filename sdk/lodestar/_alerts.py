"""`lodestar.alert()`: a notification from training code, sent like any event.

    lodestar.alert(
        title="Loss diverged",
        text=f"loss is {loss:.3g} at step {step}",
        level=lodestar.AlertLevel.WARN,
        wait_duration=300,
    )

The alert is written to the run's WAL and travels through the agent like a
logged value, so the call returns at once and never fails training, even
with the platform down. The alerts service delivers it to the channels that
subscribe to the project; an alert with the same title from the same run is
not delivered again within `wait_duration` seconds (default one minute).
"""

from __future__ import annotations

import datetime
import enum
import math
import warnings
from typing import TYPE_CHECKING, Any

from ._proto import events_pb2
from .errors import LodestarWarning

if TYPE_CHECKING:
    from ._run import Run

MAX_TITLE = 64
DEFAULT_WAIT_S = 60.0


class AlertLevel(str, enum.Enum):
    """How serious an alert is; channels show it as a colour or a prefix."""

    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


_LEVELS = {AlertLevel.INFO: events_pb2.INFO, AlertLevel.WARN: events_pb2.WARN,
           AlertLevel.ERROR: events_pb2.ERROR}


def send_alert(
    run: Run, title: str, text: str, level: Any = AlertLevel.INFO,
    wait_duration: Any = None,
) -> None:
    """Queue an `Alert` event on `run`; problems become one warning each."""
    alert = events_pb2.Alert(
        title=_title(title), text=str(text), level=_level(level),
        wait_duration=_wait_seconds(wait_duration),
    )
    run._record_event("alert", alert)


def _title(title: Any) -> str:
    text = str(title).strip()
    if not text:
        _warn("lodestar.alert() needs a title; the alert is sent as 'Alert'")
        return "Alert"
    if len(text) > MAX_TITLE:
        _warn(f"alert title {text[:20]!r}… has {len(text)} characters; at most "
              f"{MAX_TITLE} are kept (put the details in text=)")
        return text[:MAX_TITLE]
    return text


def _level(level: Any) -> Any:
    if type(level) is int and level in _LEVELS.values():
        return level
    if isinstance(level, str) and not isinstance(level, AlertLevel):
        level = level.upper()
    try:
        return _LEVELS[AlertLevel(level)]
    except ValueError:
        _warn(f"alert level {level!r} is not one of INFO, WARN, ERROR "
              "(lodestar.AlertLevel); sent as INFO")
        return events_pb2.INFO


def _wait_seconds(wait: Any) -> float:
    if wait is None:
        return DEFAULT_WAIT_S
    if isinstance(wait, datetime.timedelta):
        wait = wait.total_seconds()
    try:
        seconds = float(wait)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        _warn(f"wait_duration {wait!r} is not a number of seconds >= 0 or a "
              f"timedelta; {DEFAULT_WAIT_S:g} s is used")
        return DEFAULT_WAIT_S
    return seconds


def _warn(message: str) -> None:
    warnings.warn(message, LodestarWarning, stacklevel=5)
