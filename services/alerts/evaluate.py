"""From events to alerts: which events of a batch raise which alerts.

A history event is judged by its header first: its `keys` and its
`has_nonfinite` flag. Unless a threshold rule of the project watches one of
its keys, or it holds a non-finite value and the NaN alert is on for the
project, its columns are never read. Most batches of a busy platform end
there, which is what lets alerting keep up with ingest.

Alert ids are made from what raised them (the event's publisher and seq, or
the rule, run and step), so an event delivered twice raises its alert once.
Alerts are raised whatever their age; `pager` decides whether they page.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np
from lodestar._proto import events_pb2

from ..common.names import decode_token
from .model import LEVELS, Rule
from .ruling import Point, RuleState
from .runs import RunBook, RunInfo
from .settings import AlertsSettings
from .store import ConfigStore

logger = logging.getLogger(__name__)

Batch = events_pb2.PublishedBatch
Event = events_pb2.Event
_S = events_pb2.RunState
STATE_ALERTS: dict[int, tuple[str, int, str]] = {  # state: kind, level, verb
    _S.FINISHED: ("finished", 0, "finished"),
    _S.FAILED: ("failed", 2, "failed"),
    _S.KILLED: ("killed", 1, "was killed"),
    _S.PREEMPTED: ("preempted", 1, "was preempted"),
    _S.CRASHED: ("crashed", 2, "crashed"),
}
_NUMERIC = (events_pb2.FLOAT, events_pb2.INT, events_pb2.BOOL)
_RUN_FIELDS = ("name", "group")


@dataclass(frozen=True)
class Fired:
    """An alert raised by an event or a rule, before it is paged or recorded."""

    alert_id: str
    kind: str
    rule: str
    title: str
    text: str
    level: int
    run: RunInfo
    event_time: float
    wait_s: float = 0.0


@dataclass
class EvalStats:
    batches: int = 0
    history_skipped: int = 0   # dismissed by their header flags alone
    history_read: int = 0


def alert_id(*parts: object) -> str:
    joined = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:32]


class Evaluator:
    """Raises the alerts of batches, and of stalled runs."""

    def __init__(
        self, store: ConfigStore, runs: RunBook, state: RuleState,
        settings: AlertsSettings,
    ) -> None:
        self._store = store
        self._runs = runs
        self._state = state
        self._settings = settings
        self.stats = EvalStats()
        self._handlers: dict[str, Callable[[Batch, Event, float],
                                           Awaitable[list[Fired]]]] = {
            "run_start": self._run_start,
            "edit": self._edit,
            "history": self._history,
            "finish": self._finish,
            "lifecycle": self._lifecycle,
            "alert": self._alert,
            "tombstone": self._tombstone,
        }

    async def evaluate(self, batch: Batch, now: float) -> list[Fired]:
        """The alerts raised by the events of `batch`."""
        self.stats.batches += 1
        fired: list[Fired] = []
        for event in batch.events:
            handler = self._handlers.get(event.WhichOneof("body") or "")
            if handler is not None:
                fired.extend(await handler(batch, event, now))
        return fired

    async def stalls(self, now: float) -> list[Fired]:
        """Stall alerts of runs that made no progress for their rule's interval."""
        fired = []
        for rule in self._store.stall_rules():
            for key, since in await self._state.stalled(rule, now):
                run = await self._runs.get(*(decode_token(t) for t in key.split(".")))
                if not run.ended:
                    fired.append(_stalled(rule, run, since, now))
        return fired

    def _live(self, event_time: float, now: float) -> bool:
        return now - event_time <= self._settings.live_age_s

    def _stall_rules(self, run: RunInfo) -> list[Rule]:
        return [r for r in self._store.rules_of(run.entity, run.project)
                if r.kind == "stall" and r.covers(run.entity, run.project,
                                                  run.group, list(run.tags))]

    async def _run_of(self, batch: Batch) -> RunInfo:
        return await self._runs.get(batch.entity, batch.project, batch.run_id)

    # ---- run facts -------------------------------------------------------------

    async def _run_start(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        start = event.run_start
        known = await self._run_of(batch)  # a resume may leave fields empty
        run = await self._runs.update(
            known, name=start.name or known.name, group=start.group or known.group,
            tags=list(start.tags) or list(known.tags),
            user=batch.user or known.user, ended=False,
        )
        if self._live(event.timestamp, now):
            await self._state.progressed(self._stall_rules(run), run.key, now)
        return []

    async def _edit(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        edit = event.edit
        if edit.field in _RUN_FIELDS or edit.field == "tags":
            try:
                value = json.loads(edit.value_json)
            except ValueError:
                return []
            await self._runs.update(await self._run_of(batch), **{edit.field: value})
        return []

    async def _tombstone(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        run = await self._runs.update(await self._run_of(batch), ended=True)
        await self._state.ended(self._store.stall_rules(), run.key)
        return []

    # ---- history -----------------------------------------------------------------

    async def _history(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        history = event.history
        run = await self._run_of(batch)
        last = history.timestamps[-1] if history.timestamps else event.timestamp
        stall = self._stall_rules(run)
        if stall and self._live(last, now):
            await self._state.progressed(stall, run.key, now)
        keys = set(history.keys) or {column.key for column in history.columns}
        watched = self._store.watched_keys(run.entity, run.project) & keys
        nan = history.has_nonfinite and "nan" not in self._store.disabled(
            entity=run.entity, project=run.project)
        if not watched and not nan:
            self.stats.history_skipped += 1
            return []
        self.stats.history_read += 1
        fired = _nonfinite(history, run, batch.epoch) if nan else []
        if watched:
            fired += await self._thresholds(history, run, watched)
        return fired

    async def _thresholds(
        self, history: events_pb2.HistoryBatch, run: RunInfo,
        watched: frozenset[str],
    ) -> list[Fired]:
        fired = []
        for rule in self._store.rules_of(run.entity, run.project):
            if rule.kind != "threshold" or rule.metric not in watched:
                continue
            if not rule.covers(run.entity, run.project, run.group, list(run.tags)):
                continue
            hit = await self._state.streak(rule, run.key, _points(history, rule.metric))
            if hit is not None:
                fired.append(_threshold(rule, run, hit))
        return fired

    # ---- states and user alerts ------------------------------------------------------

    async def _finish(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        finish = event.finish
        state = finish.state or (_S.FINISHED if finish.exit_code == 0 else _S.FAILED)
        detail = f"exit code {finish.exit_code}"
        if finish.reason:
            detail += f", {finish.reason}"
        return await self._state_change(batch, event, state, detail)

    async def _lifecycle(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        change = event.lifecycle
        if change.state not in STATE_ALERTS:
            return []
        return await self._state_change(batch, event, change.state, change.reason)

    async def _state_change(
        self, batch: Batch, event: Event, state: int, detail: str
    ) -> list[Fired]:
        run = await self._runs.update(await self._run_of(batch), ended=True)
        await self._state.ended(self._store.stall_rules(), run.key)
        kind, level, verb = STATE_ALERTS[state]
        text = f"Run {run.label} in {run.entity}/{run.project} {verb}"
        text += f" ({detail})." if detail else "."
        return [Fired(
            alert_id(batch.publisher_id, event.seq, kind), kind, kind,
            _title(f"Run {run.label} {verb}"), text, level, run, event.timestamp,
        )]

    async def _alert(self, batch: Batch, event: Event, now: float) -> list[Fired]:
        alert = event.alert
        run = await self._run_of(batch)
        wait = alert.wait_duration if math.isfinite(alert.wait_duration) else 0.0
        return [Fired(
            alert_id(batch.publisher_id, event.seq, "user"), "user", "user",
            _title(alert.title), alert.text, min(max(alert.level, 0), 2), run,
            event.timestamp, max(0.0, wait),
        )]


def _title(text: str) -> str:
    return text if len(text) <= 64 else text[:63] + "…"


def _nonfinite(
    history: events_pb2.HistoryBatch, run: RunInfo, epoch: int
) -> list[Fired]:
    fired = []
    for column in history.columns:
        if column.kind != events_pb2.FLOAT:
            continue
        values = np.asarray(column.f64, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if not bad.size:
            continue
        index = int(bad[0])
        row = column.rows[index] if len(column.rows) else index
        value = float(values[index])
        fired.append(Fired(
            alert_id(run.key, "nan", column.key, epoch), "nan", "nan",
            _title(f"{column.key} is {value} in run {run.label}"),
            f"{column.key} became {value} at step {history.steps[row]} of run "
            f"{run.label} in {run.entity}/{run.project}.",
            2, run, _row_time(history, row),
        ))
    return fired


def _points(history: events_pb2.HistoryBatch, key: str) -> list[Point]:
    points = []
    for column in history.columns:
        if column.key != key or column.kind not in _NUMERIC:
            continue
        values = column.f64 if column.kind == events_pb2.FLOAT else column.i64
        for index, value in enumerate(values):
            row = column.rows[index] if len(column.rows) else index
            points.append(
                Point(history.steps[row], float(value), _row_time(history, row))
            )
    return points


def _row_time(history: events_pb2.HistoryBatch, row: int) -> float:
    return history.timestamps[row] if row < len(history.timestamps) else 0.0


def _threshold(rule: Rule, run: RunInfo, hit: Point) -> Fired:
    return Fired(
        alert_id(rule.id, run.key, hit.step), "threshold", f"threshold:{rule.id}",
        _title(f"{rule.metric} {rule.op} {rule.value:g} in run {run.label}"),
        f"{rule.metric} was {rule.op} {rule.value:g} for {rule.steps} consecutive "
        f"logged steps in run {run.label} ({run.entity}/{run.project}); at step "
        f"{hit.step} it was {hit.value:g}.",
        _level(rule), run, hit.time,
    )


def _stalled(rule: Rule, run: RunInfo, since: float, now: float) -> Fired:
    return Fired(
        alert_id(rule.id, run.key, "stall", repr(since)), "stalled",
        f"stalled:{rule.id}", _title(f"Run {run.label} stalled"),
        f"Run {run.label} in {run.entity}/{run.project} logged no new step for "
        f"{now - since:.0f} s (rule: {rule.describe()}).",
        _level(rule), run, now,
    )


def _level(rule: Rule) -> int:
    return LEVELS.index(rule.level)
