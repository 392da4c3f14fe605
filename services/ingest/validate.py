"""Validation of the events an agent sends, value by value.

A bad value is dropped with a `Rejected` that names its key and says why; the
rest of its event goes on. An event whose shape is broken (columns that do not
match the rows, an unknown body, a body only the platform may publish) is
dropped whole, with an empty key.

Limits: a key is 1 to 256 characters without control characters; one string
or JSON value is at most 1 MB; the values of one history batch at most 25 MB.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lodestar._proto import events_pb2
from lodestar.errors import BadPath
from lodestar.files import normalize_name

MAX_KEY_CHARS = 256
MAX_VALUE_BYTES = 1024 * 1024
MAX_BATCH_BYTES = 25 * 1024 * 1024
PLATFORM_ONLY = ("lifecycle", "edit", "tombstone", "alias")

_K = events_pb2.ValueKind
_SCALAR_KINDS = (_K.FLOAT, _K.INT, _K.BOOL)
_TEXT_KINDS = (_K.BIGINT, _K.TEXT, _K.JSON)
_BIGINT = re.compile(r"-?[0-9]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Rejected:
    """One value (or, with an empty key, one whole event) that was dropped."""

    seq: int
    key: str
    reason: str


class _Whole(Exception):
    """The whole event is dropped."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def key_problem(key: str) -> str | None:
    """Why `key` cannot name a value, or None when it can."""
    if not key:
        return "a key must not be empty"
    if len(key) > MAX_KEY_CHARS:
        return f"the key has {len(key)} characters; at most {MAX_KEY_CHARS} are allowed"
    if _CONTROL.search(key):
        return "the key holds a control character; use printable characters"
    return None


def validate(event: events_pb2.Event) -> tuple[bool, list[Rejected]]:
    """Check `event` in place, dropping bad values from it.

    Returns:
        Whether the event (what is left of it) should be published, and the
        values dropped from it.
    """
    rejected: list[Rejected] = []
    try:
        _check_body(event, rejected)
    except _Whole as whole:
        rejected.append(Rejected(event.seq, "", whole.reason))
        return False, rejected
    return True, rejected


def _check_body(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    kind = event.WhichOneof("body")
    if kind is None:
        raise _Whole("the event has no body")
    if kind in PLATFORM_ONLY:
        raise _Whole(f"{kind} events are published by the platform, not by clients")
    if not math.isfinite(event.timestamp):
        raise _Whole(f"the event's timestamp {event.timestamp!r} is not a finite time")
    check = _CHECKS.get(kind)
    if check is not None:
        check(event, rejected)


def _check_history(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    batch = event.history
    rows = len(batch.steps)
    if len(batch.timestamps) != rows or len(batch.runtimes) != rows:
        raise _Whole(
            f"the history batch has {rows} steps, {len(batch.timestamps)} timestamps "
            f"and {len(batch.runtimes)} runtimes; they must match"
        )
    size = _check_columns(event.seq, batch.columns, batch.steps, rejected)
    if size > MAX_BATCH_BYTES:
        raise _Whole(
            f"the history batch holds {size} bytes of values; at most "
            f"{MAX_BATCH_BYTES} bytes (25 MB) are allowed per log() call"
        )
    present = {column.key for column in batch.columns}
    if any(key not in present for key in batch.keys):
        kept = [key for key in batch.keys if key in present]
        del batch.keys[:]
        batch.keys.extend(kept)


def _check_system(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    metrics = event.system
    _check_columns(event.seq, metrics.columns, None, rejected, len(metrics.timestamps))


def _check_columns(
    seq: int,
    columns,
    steps: Sequence[int] | None,
    rejected: list[Rejected],
    rows: int | None = None,
) -> int:
    """Drop bad columns and values; returns the bytes of what is kept."""
    rows = len(steps) if steps is not None else (rows or 0)
    kept: list[events_pb2.Column] = []
    size = 0
    changed = False
    for column in columns:
        good = _check_column(seq, column, rows, steps, rejected)
        changed = changed or good is not column
        if good is not None:
            kept.append(good)
            size += _column_bytes(good)
    if changed:
        fresh = [events_pb2.Column.FromString(c.SerializeToString()) for c in kept]
        del columns[:]
        columns.extend(fresh)
    return size


def _check_column(
    seq: int,
    column: events_pb2.Column,
    rows: int,
    steps: Sequence[int] | None,
    rejected: list[Rejected],
) -> events_pb2.Column | None:
    """The column as is, a copy without its bad values, or None."""
    try:
        _check_column_shape(column, rows)
    except _Whole as whole:
        rejected.append(Rejected(seq, column.key, whole.reason + _steps_of(steps)))
        return None
    bad = _bad_values(column)
    if not bad:
        return column
    indices = list(column.rows) or list(range(rows))
    for position, reason in bad.items():
        where = f" at step {steps[indices[position]]}" if steps is not None else ""
        rejected.append(Rejected(seq, column.key, reason + where))
    return _without(column, indices, set(bad))


def _steps_of(steps: Sequence[int] | None) -> str:
    if not steps:
        return ""
    low, high = min(steps), max(steps)
    return f" at step {low}" if low == high else f" at steps {low} to {high}"


def _check_column_shape(column: events_pb2.Column, rows: int) -> None:
    problem = key_problem(column.key)
    if problem is not None:
        raise _Whole(problem)
    if column.kind not in _SCALAR_KINDS and column.kind not in _TEXT_KINDS:
        raise _Whole(f"value kind {column.kind} is unknown; the SDK may be too new")
    count = len(_values(column))
    expected = len(column.rows) if column.rows else rows
    if count != expected:
        raise _Whole(f"the column has {count} values for {expected} rows")
    if column.rows and max(column.rows) >= rows:
        raise _Whole(f"a row index is beyond the batch's {rows} rows")


def _values(column: events_pb2.Column) -> Sequence:
    if column.kind == _K.FLOAT:
        return column.f64
    if column.kind in (_K.INT, _K.BOOL):
        return column.i64
    return column.text


def _bad_values(column: events_pb2.Column) -> dict[int, str]:
    """Positions of values that break a rule, with the reason."""
    if column.kind == _K.BOOL:
        if set(column.i64) <= {0, 1}:
            return {}
        return {i: f"bool value {v} is not 0 or 1" for i, v in enumerate(column.i64)
                if v not in (0, 1)}
    if column.kind in _SCALAR_KINDS:
        return {}
    bad = {}
    for position, text in enumerate(column.text):
        reason = _text_problem(column.kind, text)
        if reason is not None:
            bad[position] = reason
    return bad


def _text_problem(kind: int, text: str) -> str | None:
    size = _utf8_size(text)
    if size > MAX_VALUE_BYTES:
        return (f"the value is {size} bytes; one value may be at most "
                f"{MAX_VALUE_BYTES} bytes (1 MB)")
    if kind == _K.BIGINT and not _BIGINT.fullmatch(text):
        return f"integer value {text[:40]!r} is not decimal digits"
    if kind == _K.JSON:
        try:
            json.loads(text)
        except ValueError as exc:
            return f"the JSON value does not parse: {exc}"
    return None


def _utf8_size(text: str) -> int:
    if len(text) * 4 <= MAX_VALUE_BYTES:
        return len(text)  # cannot exceed the limit, whatever the encoding
    return len(text.encode("utf-8", "surrogatepass"))


def _without(
    column: events_pb2.Column, indices: list[int], drop: set[int]
) -> events_pb2.Column | None:
    keep = [i for i in range(len(indices)) if i not in drop]
    if not keep:
        return None
    values = _values(column)
    copy = events_pb2.Column(key=column.key, kind=column.kind)
    copy.rows.extend(indices[i] for i in keep)
    field = {_K.FLOAT: copy.f64, _K.INT: copy.i64, _K.BOOL: copy.i64}.get(
        column.kind, copy.text
    )
    field.extend(values[i] for i in keep)
    return copy


def _column_bytes(column: events_pb2.Column) -> int:
    if column.kind in _SCALAR_KINDS:
        return 8 * len(_values(column))
    return sum(len(text) for text in column.text)


def _check_summary(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    update = event.summary
    values = _json_object(update.set_json, "summary")
    kept = {}
    for key, value in values.items():
        reason = key_problem(key) or _summary_value_problem(value)
        if reason is None:
            kept[key] = value
        else:
            rejected.append(Rejected(event.seq, key, reason))
    if len(kept) != len(values):
        update.set_json = json.dumps(kept)
    for key in update.remove:
        problem = key_problem(key)
        if problem is not None:
            raise _Whole(f"summary key to remove {key[:60]!r}: {problem}")


def _summary_value_problem(value: object) -> str | None:
    size = len(json.dumps(value))
    if size > MAX_VALUE_BYTES:
        return f"the value is {size} bytes; at most {MAX_VALUE_BYTES} bytes (1 MB)"
    return None


def _check_config(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    _json_object(event.config.set_json, "config")


def _check_run_start(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    _json_object(event.run_start.config_json, "config")
    _json_object(event.run_start.metadata_json, "metadata")


def _check_console(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    lines = event.console.lines
    kept = [line for line in lines if _utf8_size(line.text) <= MAX_VALUE_BYTES]
    if len(kept) == len(lines):
        return
    rejected.append(Rejected(
        event.seq, "",
        f"{len(lines) - len(kept)} console lines over {MAX_VALUE_BYTES} bytes dropped",
    ))
    copies = [events_pb2.ConsoleLine.FromString(line.SerializeToString())
              for line in kept]
    del lines[:]
    lines.extend(copies)


def _check_define_metric(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    problem = key_problem(event.define_metric.name)
    if problem is not None:
        raise _Whole(f"define_metric name: {problem}")


def _check_file(event: events_pb2.Event, rejected: list[Rejected]) -> None:
    # a name that could climb out of a directory is refused, not repaired
    try:
        name = normalize_name(event.file.path)
    except BadPath as exc:
        raise _Whole(str(exc)) from exc
    if name != event.file.path:
        raise _Whole(f"file name {event.file.path!r} is not normalised; use {name!r}")


def _json_object(text: str, what: str) -> dict:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise _Whole(f"the {what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise _Whole(f"the {what} must be a JSON object, not {type(value).__name__}")
    return value


_CHECKS = {
    "history": _check_history,
    "system": _check_system,
    "summary": _check_summary,
    "config": _check_config,
    "run_start": _check_run_start,
    "console": _check_console,
    "define_metric": _check_define_metric,
    "file": _check_file,
}
