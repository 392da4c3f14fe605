"""Apply fetched messages to the store: decode, drop what was applied, insert.

Synchronous on purpose: the storage backends are blocking, so the consumer
runs `Applier.apply` in a worker thread. The steps for one fetch are: decode
every message and build its rows (a message that cannot be decoded or turned
into rows is set aside for the dead-letter subject), insert every table once,
record the new progress marks, and report what to acknowledge. When the bulk
insert fails and the store still answers, messages are retried one by one so
that only the one that cannot be written is set aside.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from lodestar._proto import events_pb2

from .progress import Progress, ProgressKey
from .rows import RowsError, RowSet
from .storage import Storage, StorageError, StorageUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """One JetStream message as the applier needs it."""

    data: bytes
    stream_seq: int
    subject: str = ""


@dataclass
class Outcome:
    """What became of a fetch: rows written, messages set aside, live news."""

    rows: int = 0
    events: int = 0
    dead: dict[int, str] = field(default_factory=dict)  # index -> reason
    live: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Prepared:
    index: int
    rows: RowSet
    marks: dict[ProgressKey, tuple[int, int]]
    events: int


class Applier:
    """Turns messages into rows and writes them, idempotently."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._progress = Progress(storage)

    def apply(self, messages: list[Incoming]) -> Outcome:
        """Write `messages`; raises StorageUnavailable when the store is down."""
        outcome = Outcome()
        prepared = self._prepare_all(messages, outcome)
        try:
            self._write(prepared)
        except StorageError as exc:
            self._check_store(exc)
            logger.warning("bulk insert failed (%s); writing one by one", exc)
            prepared = self._write_each(prepared, outcome)
        _summarise(prepared, outcome)
        return outcome

    def _prepare_all(
        self, messages: list[Incoming], outcome: Outcome
    ) -> list[_Prepared]:
        prepared = []
        pending: dict[ProgressKey, int] = {}
        for index, message in enumerate(messages):
            try:
                item = self._prepare(index, message, pending)
            except (DecodeError, RowsError, ValueError) as exc:
                outcome.dead[index] = f"{type(exc).__name__}: {exc}"
                continue
            if item is not None:
                prepared.append(item)
                pending.update({k: v[0] for k, v in item.marks.items()})
        return prepared

    def _prepare(
        self, index: int, message: Incoming, pending: dict[ProgressKey, int]
    ) -> _Prepared | None:
        batch = events_pb2.PublishedBatch.FromString(message.data)
        _check_identity(batch)
        key = (batch.entity, batch.project, batch.run_id, batch.publisher_id)
        after = pending.get(key) or self._progress.applied(key)
        rows = RowSet()
        added = rows.add_batch(batch, message.stream_seq, after)
        if not added:
            return None
        top = max(event.seq for event in batch.events)
        return _Prepared(index, rows, {key: (top, message.stream_seq)}, added)

    def _write(self, prepared: list[_Prepared]) -> None:
        merged = RowSet()
        marks: dict[ProgressKey, tuple[int, int]] = {}
        for item in prepared:
            merged.extend(item.rows)
            for key, mark in item.marks.items():
                marks[key] = max(marks.get(key, mark), mark)
        for name, table in merged.tables.items():
            self._storage.insert(name, table.columns())
        self._progress.record(marks)

    def _write_each(
        self, prepared: list[_Prepared], outcome: Outcome
    ) -> list[_Prepared]:
        self._progress.forget(k for item in prepared for k in item.marks)
        written = []
        for item in prepared:
            try:
                self._write([item])
            except StorageError as exc:
                self._check_store(exc)
                outcome.dead[item.index] = f"cannot be written: {exc}"
                continue
            written.append(item)
        return written

    def _check_store(self, error: StorageError) -> None:
        try:
            self._storage.query("SELECT 1 AS ok")
        except StorageError as exc:
            raise StorageUnavailable(f"the store does not answer: {exc}") from error


def _check_identity(batch: events_pb2.PublishedBatch) -> None:
    for name in ("entity", "project", "run_id", "publisher_id"):
        if not getattr(batch, name):
            raise ValueError(f"the batch has no {name}")


def _summarise(prepared: list[_Prepared], outcome: Outcome) -> None:
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in prepared:
        outcome.rows += item.rows.rows
        outcome.events += item.events
        for key, mark in item.marks.items():
            run = key[:3]
            news = latest.setdefault(run, _news(run))
            news["stream_seq"] = max(news["stream_seq"], mark[1])
            step = item.rows.max_steps.get(run)
            if step is not None:
                news["max_step"] = max(news["max_step"] or step, step)
    outcome.live = list(latest.values())


def _news(run: tuple[str, str, str]) -> dict[str, Any]:
    return {"entity": run[0], "project": run[1], "run_id": run[2],
            "max_step": None, "stream_seq": 0}
