"""History rows: flattening, copying, classifying and columnar batches.

Two halves with different budgets. `copy_row` runs in the caller's thread on
every ``log()`` and does as little as it can: flatten nested mappings into
dotted keys and copy whatever could still change after the call returns.
`classify` and `BatchBuilder` run in the writer thread: they turn each value
into one of the protocol's value kinds, exactly (NaN, ±Infinity, bools and
integers of any size survive the trip), and pack rows into a `HistoryBatch`.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, cast

from ._proto import events_pb2
from .errors import UsageError

FLOAT = events_pb2.FLOAT
INT = events_pb2.INT
BOOL = events_pb2.BOOL
BIGINT = events_pb2.BIGINT
TEXT = events_pb2.TEXT
JSON = events_pb2.JSON

NUMERIC_KINDS = frozenset({FLOAT, INT, BOOL, BIGINT})
_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
_PLAIN = frozenset({float, int, str, bool, type(None)})
_MAX_DEPTH = 32

Classified = tuple[int, Any]


class Unserializable(TypeError):
    """A value of a type the history cannot store."""

    def __init__(self, value: object) -> None:
        self.type_name = type(value).__qualname__
        inner = _first_unstorable(value, 0)
        if inner is None or inner is value:
            message = (f"a value of type {self.type_name} cannot be stored; log a "
                       "number, a bool, a string, or a list of those")
        else:
            name = type(inner).__qualname__
            message = (f"a {self.type_name} holding a {name} cannot be stored: a "
                       "list may hold only numbers, bools, strings and lists of "
                       f"those; log each {name} under a key of its own (a list is "
                       "kept whole only when every item is an Image)")
        super().__init__(message)


def _first_unstorable(value: Any, depth: int) -> Any:
    """The first item of `value` (itself included) that JSON cannot hold."""
    if type(value) in _PLAIN or depth > _MAX_DEPTH:
        return None
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_unstorable(item, depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(value, dict) or hasattr(value, "tolist") or hasattr(value, "item"):
        return None
    return value


# ---- caller's thread -------------------------------------------------------


def copy_row(
    data: Mapping[Any, Any], replaced: Callable[[str], None] | None = None
) -> dict[Any, Any]:
    """A flat, private copy of one ``log()`` call's data.

    Plain scalars are immutable and are copied by reference; nested mappings
    become dotted keys; arrays, tensors and lists are copied so that the
    caller may change them as soon as ``log()`` returns. When two entries
    flatten to the same key (``{"a.b": 1, "a": {"b": 2}}``) the later one is
    kept and `replaced` is called with the key.

    Raises:
        UsageError: `data` is not a mapping.
    """
    if type(data) is dict and _PLAIN.issuperset(map(type, data.values())):
        return data.copy()
    if not isinstance(data, Mapping):
        raise UsageError(
            f"log() takes a dict of key → value, got {type(data).__name__}"
        )
    row: dict[Any, Any] = {}
    clashes: list[str] = []
    _flatten_into(row, "", data, 0, clashes)
    if replaced is not None:
        for key in clashes:
            replaced(key)
    return row


def _flatten_into(
    row: dict, prefix: str, data: Mapping, depth: int, clashes: list[str]
) -> None:
    if depth > _MAX_DEPTH:
        raise UsageError(
            f"data nested deeper than {_MAX_DEPTH} levels at {prefix!r}"
        )
    for key, value in data.items():
        name = f"{prefix}{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten_into(row, f"{name}.", value, depth + 1, clashes)
            continue
        if name in row:
            clashes.append(str(name))
        row[name] = value if type(value) in _PLAIN else snapshot(value)


def snapshot(value: Any) -> Any:
    """An immutable or private copy of a value that is not a plain scalar."""
    if _is_numpy(value):
        return _snapshot_numpy(value)
    if _is_tensor(value):
        return _snapshot_tensor(value)
    if isinstance(value, (list, tuple)):
        try:
            return copy.deepcopy(value)
        except Exception:  # noqa: BLE001 - classify() reports it by key and step
            return value
    return value


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _snapshot_numpy(value: Any) -> Any:
    if getattr(value, "ndim", None) == 0 and hasattr(value, "copy"):
        # a 0-d array is mutable; indexing with () gives an immutable scalar
        return value[()] if type(value).__name__ == "ndarray" else value
    return value.copy() if hasattr(value, "copy") else value


def _is_tensor(value: Any) -> bool:
    # torch is never imported: tensors are recognised by their methods
    return hasattr(value, "detach") and hasattr(value, "numel") and hasattr(
        value, "item"
    )


def _snapshot_tensor(value: Any) -> Any:
    if value.numel() == 1 and getattr(value, "ndim", 1) == 0:
        return value.item()
    return value.detach().cpu().tolist()


# ---- writer thread ---------------------------------------------------------


def classify(value: Any) -> Classified:
    """The value kind and the payload stored for `value`.

    Raises:
        Unserializable: the value is of no storable type.
    """
    kind = type(value)
    if kind is float:
        return FLOAT, value
    if kind is bool:
        return BOOL, int(value)
    if kind is int:
        return _classify_int(value)
    if kind is str:
        return TEXT, value
    return _classify_other(value)


def _classify_int(value: int) -> Classified:
    if _I64_MIN <= value <= _I64_MAX:
        return INT, value
    return BIGINT, str(value)


def _classify_other(value: Any) -> Classified:
    if value is None:
        return JSON, "null"
    if _is_numpy(value) and getattr(value, "ndim", None) == 0:
        return _classify_numpy_scalar(value)
    if isinstance(value, numbers.Integral):
        return _classify_int(int(value))
    if isinstance(value, numbers.Real):
        return FLOAT, float(value)
    if isinstance(value, str):
        return TEXT, str(value)
    if isinstance(value, (list, tuple, dict)) or hasattr(value, "tolist"):
        return JSON, _to_json(value)  # a dict here is an encoded media value
    raise Unserializable(value)


def _classify_numpy_scalar(value: Any) -> Classified:
    letter = value.dtype.kind
    if letter == "b":
        return BOOL, int(bool(value))
    if letter in "iu":
        return _classify_int(int(value))
    if letter == "f":
        return FLOAT, float(value)
    if letter in "US":
        return TEXT, str(value)
    raise Unserializable(value)


def _to_json(value: Any) -> str:
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):
        value = value.tolist()
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise Unserializable(value) from exc


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(type(value).__qualname__)


def payload_size(kind: int, payload: Any) -> int:
    """Bytes a classified value takes on the wire, near enough for limits."""
    if kind in (FLOAT, INT, BOOL):
        return 8
    if payload.isascii():
        return len(payload)
    return len(payload.encode("utf-8", "surrogatepass"))


class BatchBuilder:
    """Collects rows and packs them into one columnar `HistoryBatch`.

    A key whose kind changes inside the batch travels as one column per kind,
    each listing the rows it covers; a column that covers every row lists none.
    """

    def __init__(self) -> None:
        self._steps: list[int] = []
        self._timestamps: list[float] = []
        self._runtimes: list[float] = []
        # key -> [kind, rows, payloads] for the key's first kind; other kinds
        # of the same key go to _extra, keyed by (key, kind)
        self._columns: dict[str, list[Any]] = {}
        self._extra: dict[tuple[str, int], list[Any]] = {}
        self._step_set: set[int] = set()

    def __len__(self) -> int:
        return len(self._steps)

    def has_step(self, step: int) -> bool:
        return step in self._step_set

    def add(self, step: int, timestamp: float, runtime: float, values: dict) -> None:
        """Add one row; `values` maps keys to `classify` results."""
        index = len(self._steps)
        self._steps.append(step)
        self._timestamps.append(timestamp)
        self._runtimes.append(runtime)
        self._step_set.add(step)
        columns = self._columns
        for key, (kind, payload) in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [kind, [], []]
            elif column[0] != kind:
                column = self._extra_column(key, kind)
            column[1].append(index)
            column[2].append(payload)

    def _extra_column(self, key: str, kind: int) -> list[Any]:
        column = self._extra.get((key, kind))
        if column is None:
            column = self._extra[(key, kind)] = [kind, [], []]
        return column

    def rows(self) -> list[tuple[int, float, float, dict[str, Classified]]]:
        """The rows added so far: ``(step, timestamp, runtime, values)``."""
        found: list[tuple[int, float, float, dict[str, Classified]]] = [
            (step, self._timestamps[i], self._runtimes[i], {})
            for i, step in enumerate(self._steps)
        ]
        named = [(key, column) for key, column in self._columns.items()]
        named += [(key, column) for (key, _), column in self._extra.items()]
        for key, (kind, indices, payloads) in named:
            for index, payload in zip(indices, payloads, strict=True):
                found[index][3][key] = (kind, payload)
        return found

    def build(self) -> events_pb2.HistoryBatch:
        """The batch of every row added so far."""
        batch = events_pb2.HistoryBatch(
            steps=self._steps,
            timestamps=self._timestamps,
            runtimes=self._runtimes,
            max_step=max(self._steps),
            keys=list(self._columns),
        )
        nonfinite = False
        named = [(key, column) for key, column in self._columns.items()]
        named += [(key, column) for (key, _), column in self._extra.items()]
        for key, (kind, rows, payloads) in named:
            batch.columns.append(self._column(key, kind, rows, payloads))
            if kind == FLOAT and not nonfinite:
                nonfinite = _any_nonfinite(payloads)
        batch.has_nonfinite = nonfinite
        return batch

    def _column(
        self, key: str, kind: int, rows: list[int], payloads: list[Any]
    ) -> events_pb2.Column:
        column = events_pb2.Column(key=key, kind=cast(Any, kind))
        if len(rows) != len(self._steps):
            column.rows.extend(rows)
        if kind == FLOAT:
            column.f64.extend(payloads)
        elif kind in (INT, BOOL):
            column.i64.extend(payloads)
        else:
            column.text.extend(payloads)
        return column


def _any_nonfinite(values: list[float]) -> bool:
    # the sum is finite whenever every value is (barring overflow), and is
    # computed in C: the per-value check runs only when it is not
    if math.isfinite(sum(values)):
        return False
    return not all(map(math.isfinite, values))


def decode_batch(
    batch: events_pb2.HistoryBatch,
) -> list[tuple[int, float, float, dict[str, Any]]]:
    """The rows of a batch: ``(step, timestamp, runtime, {key: value})``.

    Values come back as Python values: floats (NaN and ±Infinity included),
    ints of any size, bools, strings, and parsed JSON.
    """
    rows: list[tuple[int, float, float, dict[str, Any]]] = [
        (step, batch.timestamps[i], batch.runtimes[i], {})
        for i, step in enumerate(batch.steps)
    ]
    for column in batch.columns:
        indices = list(column.rows) or range(len(rows))
        for index, value in zip(indices, _column_values(column), strict=True):
            rows[index][3][column.key] = value
    return rows


def _column_values(column: events_pb2.Column) -> list[Any]:
    kind = column.kind
    if kind == FLOAT:
        return list(column.f64)
    if kind == INT:
        return list(column.i64)
    if kind == BOOL:
        return [bool(v) for v in column.i64]
    if kind == BIGINT:
        return [int(v) for v in column.text]
    if kind == JSON:
        return [json.loads(v) for v in column.text]
    return list(column.text)
