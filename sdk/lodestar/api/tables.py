"""Logged tables read back through the query API, a page at a time.

``run.table("predictions")`` finds the table the key holds (the run's
summary gives the latest; ``step=`` looks the key up at that step), then
pages its rows from the server, sorted and filtered there when asked, into a
pandas DataFrame (or a list of rows without pandas).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from ..errors import ApiError, UsageError
from ._http import Transport
from ._values import decode

MAX_PAGE = 10_000
Filter = tuple[str, str, Any]


class TableReader:
    """Reads the tables of one run; `base` is the run's API path."""

    def __init__(self, transport: Transport, base: str) -> None:
        self._transport = transport
        self._base = base

    def tables(self, key: str | None = None) -> list[dict[str, Any]]:
        """The run's tables: table_id, key, step, columns, total_rows each."""
        return self._transport.get(self._base + "/tables", {"key": key})["tables"]

    def describe(self, table_id: str) -> dict[str, Any]:
        return self._transport.get(f"{self._base}/tables/{table_id}")

    def pages(
        self, table_id: str, order: str | None = None,
        filters: Sequence[Filter] = (), page_size: int = MAX_PAGE,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Pages of rows in the server's order, up to `limit` rows in all."""
        if not 1 <= page_size <= MAX_PAGE:
            raise UsageError(f"page_size={page_size}; use 1 to {MAX_PAGE}")
        params: dict[str, Any] = {
            "order": order, "offset": 0,
            "filter": [json.dumps(list(f)) for f in filters] or None,
        }
        wanted = limit if limit is not None else float("inf")
        while params["offset"] < wanted:
            params["limit"] = int(min(page_size, wanted - params["offset"]))
            page = self._transport.get(f"{self._base}/tables/{table_id}/rows", params)
            page["rows"] = [decode(row) for row in page["rows"]]
            yield page
            params["offset"] += len(page["rows"])
            if not page["rows"] or params["offset"] >= page["total"]:
                return

    def frame(
        self, table_id: str, order: str | None = None,
        filters: Sequence[Filter] = (), limit: int | None = None,
        pandas: bool = True,
    ) -> Any:
        """Every matching row as a DataFrame (a list of rows without pandas)."""
        columns: list[str] = []
        rows: list[list[Any]] = []
        for page in self.pages(table_id, order, filters, limit=limit):
            columns = page["columns"]
            rows.extend(page["rows"])
        if not columns:
            columns = self.describe(table_id)["columns"]
        return _frame(columns, rows) if pandas else rows


def table_id_of(value: Any, key: str) -> str:
    """The table id a history or summary value names.

    Raises:
        ApiError: the value is not a table (or a chart built on one).
    """
    if isinstance(value, dict) and value.get("_type") == "chart":
        value = value.get("table")
    if isinstance(value, dict) and value.get("_type") == "table-file":
        return str(value["table_id"])
    raise ApiError(404, f"key {key!r} holds no logged table ({_kind(value)}); log "
                        "a lodestar.Table under it")


def _kind(value: Any) -> str:
    if isinstance(value, dict) and "_type" in value:
        return f"a {value['_type']}"
    return "nothing" if value is None else f"a {type(value).__name__}"


def _frame(columns: list[str], rows: list[list[Any]]) -> Any:
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows, columns=columns)
