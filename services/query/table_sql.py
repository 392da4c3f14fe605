"""Reading logged tables: pages sorted and filtered in SQL, and whole exports.

Cells are JSON arrays in column order. A sort or a filter on a column reads
that cell with ClickHouse's JSON functions: ``number`` and ``bool`` columns
as Nullable(Float64) (the strings "NaN"/"Infinity" read as those floats),
every other column as text. Every value from a request is a bound parameter;
the SQL text is built only from fixed fragments chosen by the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..writer.storage import Storage
from .history import RunRef

MAX_PAGE = 10_000
EXPORT_PAGE = 50_000
NUMERIC = frozenset({"number", "bool"})
OPERATORS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
             "contains": "contains"}
_NUMBER = "JSONExtract(cells, {%s:Int32}, 'Nullable(Float64)')"
_TEXT = "JSONExtractString(cells, {%s:Int32})"
_WHERE = ("entity = {e:String} AND project = {p:String} AND run_id = {r:String} "
          "AND table_id = {t:String}")


class TableQueryError(ValueError):
    """A sort or filter that does not fit the table; the message says why."""


@dataclass(frozen=True)
class TableMeta:
    table_id: str
    key: str
    step: int
    columns: list[str]
    column_types: list[str]
    total_rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"table_id": self.table_id, "key": self.key, "step": self.step,
                "columns": self.columns, "column_types": self.column_types,
                "total_rows": self.total_rows}

    def column(self, name: str) -> tuple[int, str]:
        """The 1-based position and type of column `name`."""
        if name not in self.columns:
            raise TableQueryError(f"the table has no column {name!r}; its columns "
                                  f"are {self.columns}")
        index = self.columns.index(name)
        kind = self.column_types[index] if index < len(self.column_types) else ""
        return index + 1, kind


@dataclass
class _Sql:
    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"v{len(self.params)}"
        self.params[name] = value
        return name


def parse_filter(text: str) -> tuple[str, str, Any]:
    """``["column", "op", value]`` as JSON text, checked."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise TableQueryError(f"filter {text!r} is not JSON: {exc}") from exc
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and value[1] in OPERATORS):
        raise TableQueryError(
            f"filter {text!r} must be [column, op, value] with op one of "
            f"{sorted(OPERATORS)}"
        )
    return value[0], value[1], value[2]


class TableReader:
    """Reads `table_meta` and `table_rows` of one store."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def tables(self, run: RunRef, key: str | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT table_id, key, step, columns, column_types, total_rows "
               "FROM table_meta FINAL WHERE entity = {e:String} AND "
               "project = {p:String} AND run_id = {r:String}")
        params = run.params()
        if key is not None:
            sql += " AND key = {k:String}"
            params["k"] = key
        found = self._storage.query(sql + " ORDER BY key, step", params)
        return [_meta(row).as_dict() for row in found]

    def meta(self, run: RunRef, table_id: str) -> TableMeta | None:
        found = self._storage.query(
            "SELECT table_id, key, step, columns, column_types, total_rows "
            f"FROM table_meta FINAL WHERE {_WHERE} LIMIT 1",
            run.params(t=table_id),
        )
        return _meta(found[0]) if found else None

    def stored_rows(self, run: RunRef, table_id: str) -> int:
        found = self._storage.query(
            f"SELECT count() AS n FROM table_rows FINAL WHERE {_WHERE}",
            run.params(t=table_id),
        )
        return int(found[0]["n"])

    def page(
        self, run: RunRef, meta: TableMeta, offset: int, limit: int,
        order: str | None = None, filters: Sequence[tuple[str, str, Any]] = (),
    ) -> dict[str, Any]:
        """One page of rows, sorted and filtered; ``total`` counts the matches."""
        sql = _Sql(params=run.params(t=meta.table_id))
        for name, op, value in filters:
            sql.conditions.append(_condition(sql, meta, name, op, value))
        where = " AND ".join([_WHERE, *sql.conditions])
        ordering = _ordering(sql, meta, order)
        limit_name, offset_name = sql.bind(limit), sql.bind(offset)
        found = self._storage.query(
            f"SELECT row, cells FROM table_rows FINAL WHERE {where} "
            f"ORDER BY {ordering} LIMIT {{{limit_name}:UInt64}} "
            f"OFFSET {{{offset_name}:UInt64}}",
            sql.params,
        )
        total = self._storage.query(
            f"SELECT count() AS n FROM table_rows FINAL WHERE {where}", sql.params
        )
        return {"columns": meta.columns, "column_types": meta.column_types,
                "rows": [_cells(r["cells"], len(meta.columns)) for r in found],
                "row_numbers": [int(r["row"]) for r in found],
                "total": int(total[0]["n"]), "offset": offset}

    def export(self, run: RunRef, meta: TableMeta) -> Iterator[list[Any]]:
        """Every row in logged order, read `EXPORT_PAGE` rows at a time."""
        start = 0
        while True:
            found = self._storage.query(
                f"SELECT row, cells FROM table_rows FINAL WHERE {_WHERE} "
                "AND row >= {a:UInt64} ORDER BY row LIMIT {n:UInt64}",
                run.params(t=meta.table_id, a=start, n=EXPORT_PAGE),
            )
            for row in found:
                yield _cells(row["cells"], len(meta.columns))
            if len(found) < EXPORT_PAGE:
                return
            start = int(found[-1]["row"]) + 1


def _meta(row: dict[str, Any]) -> TableMeta:
    return TableMeta(row["table_id"], row["key"], int(row["step"]),
                     json.loads(row["columns"]), json.loads(row["column_types"]),
                     int(row["total_rows"]))


def _cells(text: str, width: int) -> list[Any]:
    try:
        cells = json.loads(text)
    except ValueError:
        return [None] * width
    return cells if isinstance(cells, list) else [None] * width


def _condition(sql: _Sql, meta: TableMeta, name: str, op: str, value: Any) -> str:
    index, kind = meta.column(name)
    column = sql.bind(index)
    if op == "contains":
        if not isinstance(value, str):
            raise TableQueryError(f"'contains' on {name!r} needs text, not {value!r}")
        needle = sql.bind(value)
        return f"positionCaseInsensitiveUTF8({_TEXT % column}, {{{needle}:String}}) > 0"
    if kind in NUMERIC:
        number = _number(name, value)
        return f"{_NUMBER % column} {OPERATORS[op]} {{{sql.bind(number)}:Float64}}"
    return f"{_TEXT % column} {OPERATORS[op]} {{{sql.bind(str(value))}:String}}"


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TableQueryError(f"column {name!r} holds numbers; {value!r} is not "
                              "one") from exc


def _ordering(sql: _Sql, meta: TableMeta, order: str | None) -> str:
    if not order:
        return "row"
    descending = order.startswith("-")
    index, kind = meta.column(order[1:] if descending else order)
    column = sql.bind(index)
    expression = (_NUMBER if kind in NUMERIC else _TEXT) % column
    return f"{expression} {'DESC' if descending else 'ASC'}, row"
