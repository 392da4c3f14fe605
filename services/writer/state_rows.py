"""Rows of run-state events the SDK sends besides `Finish`: `Preempting`.

The run's state stays what it is (``running``): a `Preempting` event only
records, in `run_fields` (``field = 'preempting'``), that the process was
told it will be preempted and why. The end itself comes as a `Finish` with
state PREEMPTED, or from ingest when the process dies without one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .rows import RowSet, _Context


def preempting(rows: RowSet, ctx: _Context) -> None:
    """One `run_fields` row: the preemption notice and its reason."""
    reason = ctx.event.preempting.reason or "preempting"
    rows.table("run_fields").add(
        {
            **ctx.ids(1),
            "field": ["preempting"],
            "name": [""],
            "value": [json.dumps(reason)],
            "deleted": np.zeros(1, dtype=np.uint8),
            "timestamp": np.array([ctx.event.timestamp], dtype=np.float64),
        },
        1,
    )
