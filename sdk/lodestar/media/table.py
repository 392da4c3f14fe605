"""`Table`: rows and named columns, of any length, with media in cells.

A logged table is not one value: its rows travel as `TableChunk` events
(see `lodestar.media.cells` for how cells are written) and the history keeps
a small JSON value that names it::

    {"_type": "table-file", "table_id": ..., "nrows": ..., "ncols": ...,
     "columns": [...], "column_types": [...]}

Read it back with ``Api().run(path).table(key)`` as a pandas DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import UsageError
from .optional import numpy, require


class Table:
    """A table to log.

    Args:
        columns: column names; defaults to ``col_0 .. col_n`` from the data.
        data: rows (a list of lists, or a 2-D array).
        dataframe: a pandas DataFrame (instead of `columns` and `data`).
        rows: the same as `data` (a name other trackers also accept).

    Raises:
        UsageError: a row's length differs from the number of columns.
    """

    def __init__(
        self,
        columns: Sequence[Any] | None = None,
        data: Any = None,
        dataframe: Any = None,
        rows: Any = None,
    ) -> None:
        if dataframe is not None:
            columns, data = _from_dataframe(dataframe)
        data = _rows(data if data is not None else rows)
        if columns is None:
            width = len(data[0]) if data else 0
            columns = [f"col_{i}" for i in range(width)]
        self.columns: list[str] = [str(c) for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise UsageError(f"column names repeat: {self.columns}")
        self.data: list[list[Any]] = []
        for row in data:
            self.add_data(*row)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"<Table {len(self.data)} rows × {len(self.columns)} columns>"

    def add_data(self, *values: Any) -> None:
        """Append one row, a value per column."""
        if len(values) != len(self.columns):
            raise UsageError(f"a row has {len(values)} values; the table has "
                             f"{len(self.columns)} columns {self.columns}")
        self.data.append(list(values))

    add_row = add_data

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Append a column; `data` has one value per row."""
        name = str(name)
        if name in self.columns:
            raise UsageError(f"the table already has a column {name!r}")
        values = list(data)
        if self.data and len(values) != len(self.data):
            raise UsageError(f"column {name!r} has {len(values)} values; the "
                             f"table has {len(self.data)} rows")
        if not self.data:
            self.data = [[] for _ in values]
        for row, value in zip(self.data, values, strict=True):
            row.append(value)
        self.columns.append(name)

    def get_column(self, name: str, convert_to: str | None = None) -> Any:
        """The values of column `name`; ``convert_to="numpy"`` gives an array."""
        if name not in self.columns:
            raise UsageError(f"no column {name!r}; columns are {self.columns}")
        index = self.columns.index(name)
        values = [row[index] for row in self.data]
        if convert_to == "numpy":
            return numpy("Table.get_column").asarray(values)
        if convert_to is not None:
            raise UsageError(f"convert_to={convert_to!r}; use None or 'numpy'")
        return values

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame."""
        pandas = require("pandas", "Table.get_dataframe")
        return pandas.DataFrame(self.data, columns=self.columns)


def _rows(data: Any) -> list[list[Any]]:
    if data is None:
        return []
    if hasattr(data, "tolist") and getattr(data, "ndim", 2) == 2:
        return data.tolist()
    if not isinstance(data, Iterable):
        raise UsageError(f"table data must be rows, not {type(data).__name__}")
    return [list(row) for row in data]


def _from_dataframe(frame: Any) -> tuple[list[str], list[list[Any]]]:
    columns = [str(c) for c in frame.columns]
    values = [_python_column(frame.iloc[:, i]) for i in range(len(columns))]
    return columns, [list(row) for row in zip(*values, strict=True)]


def _python_column(series: Any) -> list[Any]:
    # tolist() turns numpy scalars into Python ones; missing values become None
    values = series.tolist()
    if series.dtype.kind in "fc":
        return values
    mask = series.isna().tolist()
    return [None if missing else v for v, missing in zip(values, mask, strict=True)]
