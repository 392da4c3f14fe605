"""``lodestar import csv``: one run per row of a CSV file.

Each row becomes a run, as the classic pandas loop does by hand: the name
column names it, config columns become its config, summary columns its
summary, and metric columns its history: a cell holding a list (``[0.9,
0.7, 0.5]``) is logged one value per step, a plain value at step 0. Columns
that no option names go to the config.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError
from .target import ImportedRun, parse_value


def read_csv(
    path: Path,
    name_col: str | None = None,
    config_cols: list[str] | None = None,
    summary_cols: list[str] | None = None,
    metric_cols: list[str] | None = None,
) -> Iterator[ImportedRun]:
    """The runs of the CSV file at `path`.

    Raises:
        UsageError: the file cannot be read or a named column is missing.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            _check_columns(path, columns, name_col, config_cols, summary_cols,
                           metric_cols)
            rows = list(reader)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    named = {name_col} | set(summary_cols or []) | set(metric_cols or [])
    config = config_cols if config_cols is not None else [
        c for c in columns if c not in named]
    for index, row in enumerate(rows):
        yield _run(row, index, name_col, config, summary_cols or [],
                   metric_cols or [])


def _check_columns(path: Path, columns: list[str], name_col, *groups) -> None:
    wanted = ([name_col] if name_col else []) + [c for g in groups for c in g or []]
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise UsageError(f"{path} has no column {missing[0]!r}; its columns are "
                         f"{', '.join(columns)}")


def _run(row: dict, index: int, name_col, config, summary, metrics) -> ImportedRun:
    name = (row.get(name_col) or "").strip() if name_col else ""
    run = ImportedRun(name=name or f"row-{index + 1}")
    run.config = _values(row, config)
    run.summary = _values(row, summary)
    for column, value in _values(row, metrics).items():
        series = value if isinstance(value, list) else [value]
        for step, item in enumerate(series):
            run.add(step, column, item)
    return run


def _values(row: dict, columns: list[str]) -> dict:
    return {c: parse_value(row[c]) for c in columns if (row.get(c) or "").strip()}
