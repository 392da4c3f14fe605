"""Exports of a run list: config and summary of every run, flat.

Columns: ``id``, ``name``, ``state``, ``group``, ``job_type``, ``tags`` (joined
with commas), ``created_at``, ``user``, then ``config.<key>`` and
``summary.<key>`` for every key any run has, in sorted order. Nested config
values are flattened with dots.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any

from ..errors import UsageError

FIELDS = ("id", "name", "state", "group", "job_type", "tags", "created_at", "user")


def flat_rows(runs: Iterable[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names and one flat dict per run."""
    rows = [_row(run) for run in runs]
    extra = sorted({key for row in rows for key in row} - set(FIELDS))
    return [*FIELDS, *extra], rows


def runs_frame(runs: Iterable[Any]) -> Any:
    """A pandas DataFrame of `flat_rows`.

    Raises:
        UsageError: pandas is not installed.
    """
    try:
        import pandas
    except ImportError as exc:
        raise UsageError(
            "runs.to_pandas() needs pandas: pip install pandas (or use to_csv)"
        ) from exc
    columns, rows = flat_rows(runs)
    return pandas.DataFrame(rows, columns=columns)


def write_csv(runs: Iterable[Any], path: str) -> int:
    """Write `flat_rows` to `path` as CSV; returns the number of runs."""
    columns, rows = flat_rows(runs)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return len(rows)


def _row(run: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": run.id, "name": run.name, "state": run.state, "group": run.group,
        "job_type": run.job_type, "tags": ",".join(run.tags),
        "created_at": run.created_at, "user": run.user,
    }
    row.update(_flatten("config", run.config))
    row.update({f"summary.{k}": v for k, v in dict(run.summary).items()})
    return row


def _flatten(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(name, value))
        else:
            flat[name] = value
    return flat


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return "" if value is None else value
