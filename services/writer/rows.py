"""Turn `PublishedBatch` messages into rows of the ClickHouse tables.

Pure functions and one accumulator, `RowSet`, so that the conversion is tested
without a bus or a store. Numeric columns are numpy arrays built from the
columnar batches in bulk; only string columns are Python lists.

Every row carries its event id (publisher_id, seq), the run's epoch and a
version: the JetStream stream sequence shifted left by `EVENT_BITS`, plus the
event's index inside its message. ReplacingMergeTree keeps the highest version
per sorting key, so the change later in the stream wins.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from google.protobuf.json_format import MessageToDict
from lodestar._proto import events_pb2

from .alert_rows import alert_fired, delivery
from .file_rows import alias_move, artifact_event, file_entry
from .native import Pieces, Repeated
from .state_rows import preempting
from .tables import table_chunk

EVENT_BITS = 20
EDITABLE_FIELDS = frozenset({"name", "notes", "tags", "group", "job_type"})
FLOAT, INT, BOOL, BIGINT, TEXT, JSON = 1, 2, 3, 4, 5, 6
_F64_KINDS = frozenset({FLOAT})
_I64_KINDS = frozenset({INT, BOOL})
_TEXT_KINDS = frozenset({BIGINT, TEXT, JSON})


class RowsError(ValueError):
    """An event whose content cannot become rows; the message is dead-lettered."""

    def __init__(self, publisher_id: str, seq: int, reason: str) -> None:
        self.publisher_id = publisher_id
        self.seq = seq
        self.reason = reason
        super().__init__(f"event {publisher_id}:{seq}: {reason}")


@dataclass
class Table:
    """Columns gathered in chunks, joined once before the insert."""

    chunks: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0

    def add(self, columns: dict[str, Any], count: int) -> None:
        for name, values in columns.items():
            self.chunks.setdefault(name, []).append(values)
        self.rows += count

    def columns(self) -> dict[str, Sequence[Any]]:
        return {name: _join(name, parts) for name, parts in self.chunks.items()}


def _join(name: str, parts: list[Any]) -> Any:
    if all(isinstance(part, np.ndarray) for part in parts):
        return np.concatenate(parts)
    if all(isinstance(p, Repeated) and p.value == parts[0].value for p in parts):
        return Repeated(parts[0].value, sum(len(part) for part in parts))
    return Pieces(parts)


@dataclass
class RowSet:
    """The rows of many messages, one `Table` per ClickHouse table."""

    tables: dict[str, Table] = field(default_factory=dict)
    max_steps: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def table(self, name: str) -> Table:
        return self.tables.setdefault(name, Table())

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables.values())

    def extend(self, other: RowSet) -> None:
        """Take in the rows of `other`."""
        for name, table in other.tables.items():
            mine = self.table(name)
            for column, parts in table.chunks.items():
                mine.chunks.setdefault(column, []).extend(parts)
            mine.rows += table.rows
        for run, step in other.max_steps.items():
            self.max_steps[run] = max(self.max_steps.get(run, step), step)

    def add_batch(
        self, batch: events_pb2.PublishedBatch, stream_seq: int, after_seq: int = 0
    ) -> int:
        """Add the events of `batch` numbered above `after_seq`; returns them."""
        added = 0
        for index, event in enumerate(batch.events):
            if event.seq <= after_seq:
                continue
            version = (stream_seq << EVENT_BITS) + min(index, (1 << EVENT_BITS) - 1)
            _add_event(self, _Context(batch, event, version))
            added += 1
        return added


@dataclass(frozen=True)
class _Context:
    batch: events_pb2.PublishedBatch
    event: events_pb2.Event
    version: int

    @property
    def run(self) -> tuple[str, str, str]:
        return (self.batch.entity, self.batch.project, self.batch.run_id)

    def ids(self, count: int) -> dict[str, Any]:
        """The columns every row of this event shares."""
        return {
            "entity": Repeated(self.batch.entity, count),
            "project": Repeated(self.batch.project, count),
            "run_id": Repeated(self.batch.run_id, count),
            "epoch": np.full(count, self.batch.epoch, dtype=np.uint32),
            "publisher_id": Repeated(self.batch.publisher_id, count),
            "seq": np.full(count, self.event.seq, dtype=np.uint64),
            "version": np.full(count, self.version, dtype=np.uint64),
        }

    def fail(self, reason: str) -> RowsError:
        return RowsError(self.batch.publisher_id, self.event.seq, reason)


def _add_event(rows: RowSet, ctx: _Context) -> None:
    body = ctx.event.WhichOneof("body")
    handler = _HANDLERS.get(body or "")
    if handler is None:
        raise ctx.fail(f"event has no body the writer knows ({body!r})")
    handler(rows, ctx)


# ---- history -----------------------------------------------------------------


def _history(rows: RowSet, ctx: _Context) -> None:
    batch = ctx.event.history
    steps = np.asarray(batch.steps, dtype=np.int64)
    count = len(steps)
    times = _per_row(batch.timestamps, count, ctx.event.timestamp, ctx, "timestamps")
    runtimes = _per_row(batch.runtimes, count, 0.0, ctx, "runtimes")
    table = rows.table("history")
    for column in batch.columns:
        index = _row_index(column, count, ctx)
        table.add(_history_columns(ctx, column, index, steps, times, runtimes),
                  len(index))
    if count:
        key = ctx.run
        rows.max_steps[key] = max(rows.max_steps.get(key, -(2**63)), int(steps.max()))


def _per_row(
    values: Sequence[float], count: int, default: float, ctx: _Context, what: str
) -> np.ndarray:
    if not len(values):
        return np.full(count, default, dtype=np.float64)
    if len(values) != count:
        raise ctx.fail(f"history has {count} steps but {len(values)} {what}")
    return np.asarray(values, dtype=np.float64)


def _row_index(column: events_pb2.Column, count: int, ctx: _Context) -> np.ndarray:
    if not len(column.rows):
        return np.arange(count)
    index = np.asarray(column.rows, dtype=np.int64)
    if index.size and int(index.max()) >= count:
        raise ctx.fail(f"column {column.key!r} points past the batch's {count} rows")
    return index


def _history_columns(
    ctx: _Context,
    column: events_pb2.Column,
    index: np.ndarray,
    steps: np.ndarray,
    times: np.ndarray,
    runtimes: np.ndarray,
) -> dict[str, Any]:
    count = len(index)
    f64, i64, text = _typed_values(ctx, column, count)
    return {
        **ctx.ids(count),
        "key": Repeated(column.key, count),
        "step": steps[index],
        "timestamp": times[index],
        "runtime": runtimes[index],
        "kind": np.full(count, column.kind, dtype=np.uint8),
        "f64": f64,
        "i64": i64,
        "text": text,
    }


def _typed_values(
    ctx: _Context, column: events_pb2.Column, count: int
) -> tuple[np.ndarray, np.ndarray, Sequence[str]]:
    kind = column.kind
    if not column.key:
        raise ctx.fail("a history column has an empty key")
    if kind in _F64_KINDS:
        values = column.f64
    elif kind in _I64_KINDS:
        values = column.i64
    elif kind in _TEXT_KINDS:
        values = column.text
    else:
        raise ctx.fail(f"column {column.key!r} has unknown value kind {kind}")
    if len(values) != count:
        raise ctx.fail(
            f"column {column.key!r} has {len(values)} values for {count} rows"
        )
    zeros = np.zeros(count, dtype=np.int64)
    f64 = np.asarray(values, np.float64) if kind in _F64_KINDS else zeros * 0.0
    i64 = np.asarray(values, np.int64) if kind in _I64_KINDS else zeros
    text = list(values) if kind in _TEXT_KINDS else Repeated("", count)
    return f64, i64, text


# ---- system metrics and console ------------------------------------------------


def _system(rows: RowSet, ctx: _Context) -> None:
    metrics = ctx.event.system
    times = np.asarray(metrics.timestamps, dtype=np.float64)
    table = rows.table("system_metrics")
    for column in metrics.columns:
        index = _row_index(column, len(times), ctx)
        f64, i64, _ = _typed_values(ctx, column, len(index))
        values = f64 if column.kind in _F64_KINDS else i64.astype(np.float64)
        table.add(
            {**ctx.ids(len(index)), "key": [column.key] * len(index),
             "timestamp": times[index], "value": values},
            len(index),
        )


def _console(rows: RowSet, ctx: _Context) -> None:
    lines = ctx.event.console.lines
    count = len(lines)
    rows.table("console").add(
        {
            **ctx.ids(count),
            "line": np.arange(count, dtype=np.uint32),
            "timestamp": np.array([ln.timestamp for ln in lines], dtype=np.float64),
            "stderr": np.array([ln.stderr for ln in lines], dtype=np.uint8),
            "text": [ln.text for ln in lines],
        },
        count,
    )


# ---- run fields ------------------------------------------------------------------


def _fields(
    rows: RowSet, ctx: _Context, items: Iterable[tuple[str, str, Any, bool]]
) -> None:
    """Rows of `run_fields`: (field, name, value, deleted) each."""
    items = list(items)
    count = len(items)
    if not count:
        return
    rows.table("run_fields").add(
        {
            **ctx.ids(count),
            "field": [item[0] for item in items],
            "name": [item[1] for item in items],
            "value": [_dump(item[2]) for item in items],
            "deleted": np.array([item[3] for item in items], dtype=np.uint8),
            "timestamp": np.full(count, ctx.event.timestamp, dtype=np.float64),
        },
        count,
    )


def _dump(value: Any) -> str:
    # NaN and ±Infinity stay as JSON's NaN/Infinity literals, which json.loads
    # reads back exactly; the query service re-encodes them for its clients.
    return "" if value is None else json.dumps(value)


def _load_object(ctx: _Context, text: str, what: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ctx.fail(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ctx.fail(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _merge(
    ctx: _Context, field_name: str, set_json: str, remove: Sequence[str]
) -> list[tuple[str, str, Any, bool]]:
    values = _load_object(ctx, set_json, f"{field_name} update")
    items = [(field_name, key, value, False) for key, value in values.items()]
    items += [(field_name, key, None, True) for key in remove]
    return items


def _run_start(rows: RowSet, ctx: _Context) -> None:
    start = ctx.event.run_start
    items: list[tuple[str, str, Any, bool]] = [
        ("state", "", "running", False),
        # one row per WAL; the run's created_at is the earliest of them
        ("created_at", ctx.batch.publisher_id, ctx.event.timestamp, False),
    ]
    for name in ("name", "group", "job_type", "notes", "resume_from", "fork_from"):
        if getattr(start, name):
            items.append((name, "", getattr(start, name), False))
    if start.tags:
        items.append(("tags", "", list(start.tags), False))
    if start.metadata_json:
        metadata = _load_object(ctx, start.metadata_json, "metadata")
        items.append(("metadata", "", metadata, False))
    if ctx.batch.user:
        items.append(("user", "", ctx.batch.user, False))
    items += _merge(ctx, "config", start.config_json, ())
    _fields(rows, ctx, items)


def _config(rows: RowSet, ctx: _Context) -> None:
    update = ctx.event.config
    _fields(rows, ctx, _merge(ctx, "config", update.set_json, update.remove))


def _summary(rows: RowSet, ctx: _Context) -> None:
    update = ctx.event.summary
    _fields(rows, ctx, _merge(ctx, "summary", update.set_json, update.remove))


def _state_name(state: int) -> str:
    return events_pb2.RunState.Name(state).lower()


def _finish(rows: RowSet, ctx: _Context) -> None:
    finish = ctx.event.finish
    if finish.state:
        state = _state_name(finish.state)
    else:
        state = "finished" if finish.exit_code == 0 else "failed"
    items = [
        ("state", "", state, False),
        ("exit_code", "", finish.exit_code, False),
        ("finished_at", "", ctx.event.timestamp, False),
    ]
    if finish.reason:
        items.append(("finish_reason", "", finish.reason, False))
    _fields(rows, ctx, items)


def _lifecycle(rows: RowSet, ctx: _Context) -> None:
    change = ctx.event.lifecycle
    items: list[tuple[str, str, Any, bool]] = []
    if change.state:
        items.append(("state", "", _state_name(change.state), False))
    if change.reason:
        items.append(("state_reason", "", change.reason, False))
    if change.heartbeat_at:
        items.append(("heartbeat_at", "", change.heartbeat_at, False))
    if change.epoch or change.previous_epoch:
        items.append(("epoch", "", change.epoch, False))
        items.append(("rewind_step", "", change.rewind_step, False))
    if change.reason == "rewind":  # every rewind kept: reads hide rows by them
        rewind = {"step": change.rewind_step, "previous_epoch": change.previous_epoch}
        items.append(("rewind", str(change.epoch), rewind, False))
    _fields(rows, ctx, items)


def _edit(rows: RowSet, ctx: _Context) -> None:
    edit = ctx.event.edit
    if edit.field not in EDITABLE_FIELDS:
        raise ctx.fail(
            f"edit of {edit.field!r}; editable fields are {sorted(EDITABLE_FIELDS)}"
        )
    try:
        value = json.loads(edit.value_json)
    except ValueError as exc:
        raise ctx.fail(f"edit value is not JSON: {exc}") from exc
    _fields(rows, ctx, [(edit.field, "", value, False)])


def _tombstone(rows: RowSet, ctx: _Context) -> None:
    reason = ctx.event.tombstone.reason
    _fields(rows, ctx, [("deleted", "", {"reason": reason}, False)])


def _define_metric(rows: RowSet, ctx: _Context) -> None:
    metric = ctx.event.define_metric
    value = {"step_metric": metric.step_metric, "summary": metric.summary}
    _fields(rows, ctx, [("define_metric", metric.name, value, False)])


# ---- records -----------------------------------------------------------------------


def _record(kind: str) -> Any:
    def add(rows: RowSet, ctx: _Context) -> None:
        payload = MessageToDict(
            getattr(ctx.event, kind), preserving_proto_field_name=True
        )
        rows.table("run_records").add(
            {
                **ctx.ids(1),
                "kind": [kind],
                "timestamp": np.array([ctx.event.timestamp], dtype=np.float64),
                "payload": [json.dumps(payload)],
            },
            1,
        )

    return add


_HANDLERS = {
    "run_start": _run_start,
    "config": _config,
    "history": _history,
    "summary": _summary,
    "system": _system,
    "console": _console,
    "file": file_entry,
    "artifact": artifact_event,
    "alias": alias_move,
    "alert": _record("alert"),
    "alert_fired": alert_fired,
    "delivery": delivery,
    "finish": _finish,
    "lifecycle": _lifecycle,
    "edit": _edit,
    "tombstone": _tombstone,
    "define_metric": _define_metric,
    "preempting": preempting,
    "table_chunk": table_chunk,
}
