"""`Chart`: a table plus the description of how to draw it.

What `lodestar.plot` returns. Logged, its table travels like any table and
the history keeps::

    {"_type": "chart", "kind": "line", "title": ..., "fields": {"x": "epoch",
     "y": "loss"}, "table": {"_type": "table-file", ...}}

``fields`` maps the chart's roles (x, y, stroke, label, value, ...) to column
names of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import UsageError
from .base import JsonMedia, Sink
from .table import Table

KINDS = frozenset({"line", "scatter", "bar", "histogram", "line_series",
                   "pr_curve", "roc_curve", "confusion_matrix"})


class Chart(JsonMedia):
    """A chart of `kind` drawn from `table`'s columns named in `fields`.

    Raises:
        UsageError: an unknown kind, a table that is not a `Table`, or a field
            naming a missing column.
    """

    def __init__(
        self, kind: str, table: Table, fields: Mapping[str, str], title: str = "",
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise UsageError(f"chart kind {kind!r}; use one of {sorted(KINDS)}")
        if not isinstance(table, Table):
            raise UsageError(f"a {kind} chart needs a lodestar.Table, not "
                             f"{type(table).__name__}")
        for role, column in fields.items():
            if column not in table.columns:
                raise UsageError(f"{kind} chart: {role}={column!r} is not a column "
                                 f"of the table {table.columns}")
        self.kind = kind
        self.table = table
        self.fields = dict(fields)
        self.title = title or ""
        self.options = dict(options or {})

    def to_json(self, sink: Sink, key: str, step: int) -> dict[str, Any]:
        value: dict[str, Any] = {"_type": "chart", "kind": self.kind,
                                 "title": self.title, "fields": self.fields}
        if self.options:
            value["options"] = self.options
        value["table"] = sink.table(self.table, f"{key}_table", step)
        return value

    def __repr__(self) -> str:
        return f"<Chart {self.kind} of {self.table!r}>"
