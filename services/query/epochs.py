"""Which history rows a read sees: rewinds hide rows, forks share them.

A rewind (``init(resume_from="<run>?_step=N")``) starts epoch k of the run;
ingest publishes ``Lifecycle{epoch=k, rewind_step=N, reason="rewind"}`` and
the writer records it as a `run_fields` row (``field = 'rewind'``, ``name =
k``). A row of epoch e at step s stays visible only if no rewind to a later
epoch k > e cut below it (s <= N for every such rewind). Hidden rows are
kept: nothing is deleted, and reading them back is a matter of this
condition.

A fork (``init(fork_from="<run>?_step=N")``) is a new run whose `fork_from`
field names its parent: it sees the parent's visible rows up to step N, then
its own, recursively for a fork of a fork.

Summaries written before a rewind are recomputed from what stays visible:
the last visible value of each such key (and ``_step``, the highest visible
step). Summary keys set in the current epoch, or by edits, are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..writer.storage import Storage
from . import values

MAX_FORK_DEPTH = 16
_FORK = re.compile(r"^(?P<run>.+)\?_step=(?P<step>-?[0-9]+)$")


@dataclass
class Segment:
    """Rows of one run that a read sees: up to `limit`, minus the rewound."""

    run_id: str
    limit: int | None = None
    rewinds: list[tuple[int, int]] = field(default_factory=list)  # (epoch, step)


@dataclass
class Source:
    """A condition on `history` selecting the visible rows, and its parameters."""

    sql: str
    params: dict[str, Any]
    rewound: bool


def lineage(storage: Storage, entity: str, project: str, run_id: str) -> list[Segment]:
    """The run's own segment, then its fork ancestors' segments."""
    segments: list[Segment] = []
    limit: int | None = None
    current: str | None = run_id
    while current is not None and len(segments) < MAX_FORK_DEPTH:
        rows = storage.query(
            "SELECT field, name, argMax(value, version) AS value FROM run_fields "
            "WHERE entity = {e:String} AND project = {p:String} "
            "AND run_id = {r:String} AND field IN ('rewind', 'fork_from') "
            "GROUP BY field, name",
            {"e": entity, "p": project, "r": current},
        )
        segment = Segment(current, limit, _rewinds(rows))
        segments.append(segment)
        current, limit = _parent(rows, limit)
    return segments


def source(storage: Storage, entity: str, project: str, run_id: str) -> Source:
    """The condition on ``history FINAL`` that selects the run's visible rows."""
    segments = lineage(storage, entity, project, run_id)
    params: dict[str, Any] = {"e": entity, "p": project}
    conditions = [_condition(i, seg, params) for i, seg in enumerate(segments)]
    params["v_ids"] = [seg.run_id for seg in segments]
    if len(conditions) == 1:
        sql = "entity = {e:String} AND project = {p:String} AND " + conditions[0]
    else:
        sql = ("entity = {e:String} AND project = {p:String} AND run_id IN "
               "{v_ids:Array(String)} AND (" + " OR ".join(conditions) + ")")
    rewound = len(segments) > 1 or any(seg.rewinds for seg in segments)
    return Source(sql, params, rewound)


def _condition(index: int, segment: Segment, params: dict[str, Any]) -> str:
    params[f"v_r{index}"] = segment.run_id
    parts = [f"run_id = {{v_r{index}:String}}"]
    if segment.limit is not None:
        params[f"v_l{index}"] = segment.limit
        parts.append(f"step <= {{v_l{index}:Int64}}")
    for number, (epoch, step) in enumerate(segment.rewinds):
        name = f"v_{index}_{number}"
        params[name + "e"], params[name + "s"] = epoch, step
        parts.append(f"NOT (epoch < {{{name}e:UInt32}} AND step > {{{name}s:Int64}})")
    return "(" + " AND ".join(parts) + ")"


def _rewinds(rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    found = []
    for row in rows:
        if row["field"] == "rewind" and row["value"]:
            found.append((int(row["name"]), int(json.loads(row["value"])["step"])))
    return sorted(found)


def _parent(
    rows: list[dict[str, Any]], limit: int | None
) -> tuple[str | None, int | None]:
    for row in rows:
        if row["field"] == "fork_from" and row["value"]:
            match = _FORK.match(json.loads(row["value"]))
            if match:
                step = int(match["step"])
                return match["run"], step if limit is None else min(limit, step)
    return None, limit


def recompute_summaries(
    storage: Storage, entity: str, project: str, runs: dict[str, dict[str, Any]]
) -> None:
    """Replace, in place, summary keys written before each run's last rewind."""
    for run_id, run in runs.items():
        if int(run.get("epoch") or 0) > 0:
            _recompute(storage, entity, project, run_id, run)


def _recompute(
    storage: Storage, entity: str, project: str, run_id: str, run: dict[str, Any]
) -> None:
    stale = [row["name"] for row in storage.query(
        "SELECT name, argMax(epoch, version) AS epoch, argMax(deleted, version) "
        "AS gone FROM run_fields WHERE entity = {e:String} AND project = "
        "{p:String} AND run_id = {r:String} AND field = 'summary' GROUP BY name "
        "HAVING epoch < {k:UInt32} AND gone = 0",
        {"e": entity, "p": project, "r": run_id, "k": int(run["epoch"])},
    )]
    if not stale:
        return
    visible = source(storage, entity, project, run_id)
    found = storage.query(
        "SELECT key, argMax(kind, (step, epoch)) AS kind, "
        "argMax(f64, (step, epoch)) AS f64, argMax(i64, (step, epoch)) AS i64, "
        "argMax(text, (step, epoch)) AS text "
        f"FROM history FINAL WHERE {visible.sql} "
        "AND key IN {v_keys:Array(String)} GROUP BY key",
        {**visible.params, "v_keys": stale},
    )
    from .history import typed_value  # history imports this module

    latest = {row["key"]: row for row in found}
    summary = run["summary"]
    for key in stale:
        if key == "_step":
            continue
        if key in latest:
            summary[key] = values.encode(typed_value(latest[key]))
        else:
            summary.pop(key, None)
    if "_step" in stale:
        _recompute_step(storage, visible, summary)


def _recompute_step(storage: Storage, visible: Source, summary: dict) -> None:
    rows = storage.query(
        "SELECT count() AS n, max(step) AS top "
        f"FROM history FINAL WHERE {visible.sql}",
        visible.params,
    )
    if rows and rows[0]["n"]:
        summary["_step"] = int(rows[0]["top"])
