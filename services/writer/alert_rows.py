"""Rows of the alert log: `AlertFired` into `alert_log`, `Delivery` into
`alert_deliveries`, both published by the alerts service.

`AlertFired.rule` is ``user``, a state kind (``finished``, ``crashed``, ...),
``nan``, or ``<kind>:<rule id>`` for a user rule; the row's `kind` is the
part before the colon.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .rows import RowSet, _Context


def alert_fired(rows: RowSet, ctx: _Context) -> None:
    """One `alert_log` row: an alert raised, paged or only recorded."""
    fired = ctx.event.alert_fired
    if not fired.alert_id:
        raise ctx.fail("alert_fired event without an alert_id")
    rows.table("alert_log").add(
        {
            **ctx.ids(1),
            "alert_id": [fired.alert_id],
            "kind": [fired.rule.partition(":")[0]],
            "rule": [fired.rule],
            "title": [fired.title],
            "text": [fired.text],
            "level": np.array([fired.level], dtype=np.uint8),
            "paged": np.array([1 if fired.paged else 0], dtype=np.uint8),
            "reason": [fired.reason],
            "event_time": np.array([fired.event_time], dtype=np.float64),
            "fired_at": np.array([ctx.event.timestamp], dtype=np.float64),
        },
        1,
    )


def delivery(rows: RowSet, ctx: _Context) -> None:
    """One `alert_deliveries` row: the outcome of one attempt."""
    attempt = ctx.event.delivery
    if not attempt.alert_id or not attempt.channel_id:
        raise ctx.fail("delivery event without an alert_id and channel_id")
    rows.table("alert_deliveries").add(
        {
            **ctx.ids(1),
            "alert_id": [attempt.alert_id],
            "channel_id": [attempt.channel_id],
            "attempt": np.array([attempt.attempt], dtype=np.uint32),
            "status": [attempt.status],
            "error": [attempt.error],
            "timestamp": np.array([ctx.event.timestamp], dtype=np.float64),
        },
        1,
    )
