"""Routes of logged tables: list, describe, page (sorted, filtered), download.

- ``GET …/{run_id}/tables?key=``: ``{"tables": [...]}``, each with
  ``table_id, key, step, columns, column_types, total_rows``;
- ``GET …/{run_id}/tables/{table_id}``: one description, plus ``stored_rows``;
- ``GET …/{run_id}/tables/{table_id}/rows``: ``{"columns", "column_types",
  "rows", "row_numbers", "total", "offset"}``;
- ``GET …/{run_id}/tables/{table_id}/download?format=csv|json``: the whole
  table as a file.

``rows`` takes ``offset``, ``limit`` (at most 10,000), ``order`` (a column
name, ``-name`` for descending) and any number of ``filter`` parameters, each
``["column", "op", value]`` as JSON with op one of ``==, !=, <, <=, >, >=,
contains``; filters are combined with AND and ``total`` counts the matches.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from ..common.accounts import Principal
from .auth import principal, require_entity
from .history import RunRef
from .table_sql import (
    MAX_PAGE,
    TableMeta,
    TableQueryError,
    TableReader,
    parse_filter,
)

router = APIRouter(prefix="/api/v1/runs/{entity}/{project}/{run_id}/tables",
                   tags=["tables"])
Caller = Annotated[Principal, Depends(principal)]
_NONFINITE_TEXT = frozenset({"NaN", "Infinity", "-Infinity"})
_CSV_BATCH = 2000


def _reader(request: Request) -> TableReader:
    return TableReader(request.app.state.storage)


def _ref(who: Principal, entity: str, project: str, run_id: str) -> RunRef:
    require_entity(who, entity)
    return RunRef(entity, project, run_id)


def _meta(reader: TableReader, ref: RunRef, table_id: str) -> TableMeta:
    meta = reader.meta(ref, table_id)
    if meta is None:
        raise HTTPException(
            404, f"run {ref.entity}/{ref.project}/{ref.run_id} has no table "
            f"{table_id!r} (yet); list its tables with GET …/{ref.run_id}/tables",
        )
    return meta


@router.get("")
def list_tables(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    key: str | None = None,
) -> dict[str, Any]:
    """The run's logged tables, by key and step."""
    ref = _ref(who, entity, project, run_id)
    return {"tables": _reader(request).tables(ref, key)}


@router.get("/{table_id}")
def describe(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    table_id: str,
) -> dict[str, Any]:
    ref = _ref(who, entity, project, run_id)
    reader = _reader(request)
    meta = _meta(reader, ref, table_id)
    return {**meta.as_dict(), "stored_rows": reader.stored_rows(ref, table_id)}


@router.get("/{table_id}/rows")
def rows(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    table_id: str,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
    order: str | None = None,
    filter: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """One page of rows; sorting and filtering happen in the store."""
    ref = _ref(who, entity, project, run_id)
    reader = _reader(request)
    meta = _meta(reader, ref, table_id)
    try:
        filters = [parse_filter(text) for text in filter or []]
        return reader.page(ref, meta, offset, limit, order, filters)
    except TableQueryError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/{table_id}/download")
def download(
    request: Request, who: Caller, entity: str, project: str, run_id: str,
    table_id: str,
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "csv",
) -> StreamingResponse:
    """The whole table: CSV (cells as text, JSON for nested values) or JSON."""
    ref = _ref(who, entity, project, run_id)
    reader = _reader(request)
    meta = _meta(reader, ref, table_id)
    body = _csv(reader, ref, meta) if format == "csv" else _json(reader, ref, meta)
    name = f"{meta.key or 'table'}_{meta.step}.{format}".replace("/", "_")
    media = "text/csv" if format == "csv" else "application/json"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _csv(reader: TableReader, ref: RunRef, meta: TableMeta) -> Iterator[str]:
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(meta.columns)
    for index, cells in enumerate(reader.export(ref, meta), start=1):
        out.writerow([_csv_cell(cell) for cell in cells])
        if index % _CSV_BATCH == 0:
            yield _take(buffer)
    yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _csv_cell(cell: Any) -> Any:
    if cell is None:
        return ""
    if isinstance(cell, dict) and len(cell) == 1 and "$text" in cell:
        return cell["$text"]
    if isinstance(cell, (dict, list)):
        return json.dumps(cell, separators=(",", ":"))
    return cell


def _json(reader: TableReader, ref: RunRef, meta: TableMeta) -> Iterator[str]:
    head = {"columns": meta.columns, "column_types": meta.column_types}
    yield json.dumps(head)[:-1] + ', "data": ['
    first = True
    for cells in reader.export(ref, meta):
        yield ("" if first else ",") + json.dumps(cells, separators=(",", ":"))
        first = False
    yield "]}"
