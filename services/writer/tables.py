"""Rows of logged tables: `TableChunk` events into `table_rows` and `table_meta`.

A chunk's rows are stored as they came (one JSON array per row, numbered from
the chunk's ``first_row``); the writer does not parse them. Each chunk also
writes the table's description, the same for every chunk of one table.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from .native import Repeated

if TYPE_CHECKING:
    from .rows import RowSet, _Context

TABLE_ID_CHARS = 64


def table_chunk(rows: RowSet, ctx: _Context) -> None:
    """Add the rows and the description carried by one `TableChunk`."""
    chunk = ctx.event.table_chunk
    _check(chunk, ctx)
    count = len(chunk.rows_json)
    first = chunk.first_row
    if count:
        rows.table("table_rows").add(
            {
                **ctx.ids(count),
                "table_id": Repeated(chunk.table_id, count),
                "row": np.arange(first, first + count, dtype=np.uint64),
                "cells": list(chunk.rows_json),
            },
            count,
        )
    rows.table("table_meta").add(_meta(chunk, ctx), 1)


def _check(chunk: Any, ctx: _Context) -> None:
    if not chunk.table_id or len(chunk.table_id) > TABLE_ID_CHARS:
        raise ctx.fail(f"table chunk has a table id of {len(chunk.table_id)} "
                       f"characters; 1 to {TABLE_ID_CHARS} are allowed")
    end = chunk.first_row + len(chunk.rows_json)
    if end > chunk.total_rows:
        raise ctx.fail(f"table chunk rows {chunk.first_row}..{end} go past the "
                       f"table's {chunk.total_rows} rows")


def _meta(chunk: Any, ctx: _Context) -> dict[str, Any]:
    return {
        **ctx.ids(1),
        "table_id": [chunk.table_id],
        "key": [chunk.key],
        "step": np.array([chunk.step], dtype=np.int64),
        "columns": [json.dumps(list(chunk.columns))],
        "column_types": [chunk.column_types_json or "[]"],
        "total_rows": np.array([chunk.total_rows], dtype=np.uint64),
    }
