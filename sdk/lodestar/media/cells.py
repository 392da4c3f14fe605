"""A table's rows as JSON text, cut into `TableChunk` events.

Each row is a JSON array, one cell per column, written so that the query API
returns exactly what was logged: ints of any size as JSON integers, floats
exactly (NaN and ±Infinity as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"``, and a text cell equal to one of those as ``{"$text": ...}``,
the query API's convention), media as their JSON value, lists and dicts as
JSON, dates as ISO text, anything else as its ``str``.

Chunks hold at most `CHUNK_BYTES` of row text (one larger row goes alone), so
that every event stays far below the gRPC and NATS message limits. The table
id is a digest of the columns and rows: the same table logged twice is the
same table.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

from .._proto import events_pb2
from .base import JsonMedia, Media

CHUNK_BYTES = 512 * 1024
_SENTINELS = frozenset({"NaN", "Infinity", "-Infinity"})
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def _row_encoder() -> Callable[[list[Any]], str]:
    """The C encoder made once, twice as fast as ``dumps`` per small row.

    It raises ValueError on NaN and TypeError on types JSON lacks, exactly as
    `_dumps` does; without the C accelerator `_dumps` is used.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _dumps
    encode = make({}, None, json.encoder.encode_basestring_ascii, None, ":", ",",
                  False, False, False)
    return lambda row: "".join(encode(row, 0))


_dump_row = _row_encoder()

CellEncoder = Callable[[Any], Any]


def row_text(row: list[Any], media: CellEncoder) -> str:
    """One row as a JSON array; `media` turns a media cell into its value."""
    try:
        if _SENTINELS.isdisjoint(row):
            return _dump_row(row)
    except (TypeError, ValueError):
        pass  # numpy values, NaN, media, unhashable cells: the careful way
    return _dumps([cell(value, media) for value in row])


def cell(value: Any, media: CellEncoder) -> Any:
    """The JSON value of one cell."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return {"$text": value} if value in _SENTINELS else value
    if isinstance(value, (Media, JsonMedia)):
        return media(value)
    return _other(value, media)


def _float(value: float) -> Any:
    if math.isfinite(value):
        return float(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _other(value: Any, media: CellEncoder) -> Any:
    if isinstance(value, (list, tuple)):
        return [cell(v, media) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v, media) for k, v in value.items()}
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if hasattr(value, "isoformat") and hasattr(value, "timestamp"):
        return value.isoformat()  # pandas Timestamp
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return cell(value.item(), media)  # numpy scalars
    if hasattr(value, "tolist"):
        return cell(value.tolist(), media)
    if _is_missing(value):
        return None
    return str(value)


def _is_missing(value: Any) -> bool:
    # pandas.NA and NaT compare unlike anything, themselves included
    return type(value).__name__ in ("NAType", "NaTType")


def column_types(columns: int, rows: list[list[Any]]) -> list[str]:
    """A type per column: number, bool, string, media, json or mixed."""
    if not rows:
        return ["json"] * columns
    return [_column_kind(_kinds(values)) for values in zip(*rows, strict=True)]


def _kinds(values: tuple[Any, ...]) -> set[str]:
    # one representative value per Python type decides that type's kind
    kinds = set()
    for kind_type in set(map(type, values)):
        if kind_type is not type(None):
            sample = next(v for v in values if type(v) is kind_type)
            kinds.add(_kind(sample))
    return kinds


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (Media, JsonMedia)):
        return "media"
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(value, "ndim", 1) == 0:
        return {"b": "bool", "i": "number", "u": "number", "f": "number"}.get(
            dtype.kind, "json")
    return "json"


def _column_kind(kinds: set[str]) -> str:
    if not kinds:
        return "json"
    return kinds.pop() if len(kinds) == 1 else "mixed"


def table_id(columns: list[str], texts: list[str]) -> str:
    """A digest of the columns and row texts: 32 hex characters."""
    digest = hashlib.sha256(_dumps(columns).encode())
    for start in range(0, len(texts), 10_000):
        block = "".join("\n" + text for text in texts[start:start + 10_000])
        digest.update(block.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def chunks(
    key: str, step: int, ident: str, columns: list[str], types: list[str],
    texts: list[str],
) -> Iterator[events_pb2.TableChunk]:
    """The `TableChunk` events that carry `texts`, in row order.

    A table without rows still sends one chunk, so its columns are known.
    """
    total = len(texts)
    types_json = _dumps(types)
    start = 0
    while True:
        end, size = start, 0
        while end < total and (end == start or size + len(texts[end]) <= CHUNK_BYTES):
            size += len(texts[end])
            end += 1
        yield events_pb2.TableChunk(
            key=key, step=step, table_id=ident, first_row=start, total_rows=total,
            columns=columns, rows_json=texts[start:end], column_types_json=types_json,
        )
        if end >= total:
            return
        start = end
