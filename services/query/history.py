"""History reads: sampled for charts, or every row in step order.

Sampling happens in SQL. The steps of the chosen keys are cut into buckets;
for every key each bucket keeps the step of its minimum, its maximum and its
last value, and every key keeps its first and last step. The rows returned
are the real rows at the union of those steps. The number of buckets starts
high and shrinks until the union fits in `samples`, so the result depends
only on the data: the same request gives the same rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..writer.storage import Storage
from . import epochs, values

FLOAT, INT, BOOL, BIGINT, TEXT, JSON = 1, 2, 3, 4, 5, 6
MAX_SAMPLES = 100_000
_ATTEMPTS = 4

_RUN = "entity = {e:String} AND project = {p:String} AND run_id = {r:String}"
_KEYS = "key IN {keys:Array(String)}"

# __ROWS__ selects the run's visible history (`epochs.source`): rewound rows hidden,
# a fork's parent rows shared.
_SELECTED_STEPS = f"""
SELECT DISTINCT s FROM (
    SELECT arrayJoin([argMin(step, (rank, step)), argMax(step, (rank, step)),
                      max(step)]) AS s
    FROM (
        SELECT key, step,
               multiIf(kind = 1, if(isNaN(f64), inf, f64),
                       kind IN (2, 3), toFloat64(i64), 0.) AS rank
        FROM history FINAL WHERE __ROWS__ AND {_KEYS}
    )
    GROUP BY key, intDiv(toInt128(step - {{lo:Int64}}) * {{b:Int64}}, {{span:Int64}})
    UNION ALL
    SELECT arrayJoin([min(step), max(step)]) AS s
    FROM history WHERE __ROWS__ AND {_KEYS} GROUP BY key
) ORDER BY s
"""


@dataclass(frozen=True)
class RunRef:
    entity: str
    project: str
    run_id: str

    def params(self, **more: Any) -> dict[str, Any]:
        return {"e": self.entity, "p": self.project, "r": self.run_id, **more}


class HistoryReader:
    """Reads the `history` table of one store."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def keys(self, run: RunRef) -> list[str]:
        rows, params = self._visible(run)
        found = self._storage.query(
            f"SELECT DISTINCT key FROM history WHERE {rows} ORDER BY key", params
        )
        return [row["key"] for row in found]

    def _visible(self, run: RunRef, **more: Any) -> tuple[str, dict[str, Any]]:
        """The condition selecting the run's visible rows, and its parameters."""
        visible = epochs.source(self._storage, run.entity, run.project, run.run_id)
        return visible.sql, {**visible.params, **more}

    def sample(self, run: RunRef, keys: list[str], samples: int) -> dict[str, Any]:
        """At most `samples` real rows, chosen as the module docstring says."""
        stats = self._stats(run, keys)
        if stats["n"] <= samples:
            steps = None
        else:
            steps = self._choose_steps(run, keys, samples, stats)
        rows = self._rows(run, keys, steps=steps)
        return {"rows": rows, "keys": keys, "sampled": steps is not None,
                "total_steps": stats["n"]}

    def scan(
        self, run: RunRef, keys: list[str], min_step: int, max_step: int, size: int
    ) -> dict[str, Any]:
        """One page of every row in step order, and where the next starts."""
        visible, params = self._visible(run, keys=keys, lo=min_step, hi=max_step,
                                        n=size + 1)
        found = self._storage.query(
            f"SELECT DISTINCT step FROM history WHERE {visible} AND {_KEYS} "
            "AND step >= {lo:Int64} AND step <= {hi:Int64} ORDER BY step "
            "LIMIT {n:UInt64}",
            params,
        )
        steps = [row["step"] for row in found]
        if not steps:
            return {"rows": [], "next_min_step": None}
        page = steps[:size]
        rows = self._rows(run, keys, between=(page[0], page[-1]))
        following = steps[size] if len(steps) > size else None
        return {"rows": rows, "next_min_step": following}

    def _stats(self, run: RunRef, keys: list[str]) -> dict[str, int]:
        rows, params = self._visible(run, keys=keys)
        found = self._storage.query(
            f"SELECT uniqExact(step) AS n, min(step) AS lo, max(step) AS hi "
            f"FROM history WHERE {rows} AND {_KEYS}",
            params,
        )
        return found[0]

    def _choose_steps(
        self, run: RunRef, keys: list[str], samples: int, stats: dict[str, int]
    ) -> list[int]:
        safe = max(1, (samples - 2 * len(keys)) // (3 * len(keys)))
        buckets = max(safe, samples // 3)
        steps: list[int] = []
        for attempt in range(_ATTEMPTS + 1):
            if attempt == _ATTEMPTS:
                buckets = safe
            steps = self._bucket_steps(run, keys, buckets, stats)
            if len(steps) <= samples or buckets == safe:
                break
            buckets = max(safe, int(buckets * samples / len(steps) * 0.95))
        return _thin(steps, samples)

    def _bucket_steps(
        self, run: RunRef, keys: list[str], buckets: int, stats: dict[str, int]
    ) -> list[int]:
        span = stats["hi"] - stats["lo"] + 1
        rows, params = self._visible(run, keys=keys, lo=stats["lo"], b=buckets,
                                     span=span)
        found = self._storage.query(_SELECTED_STEPS.replace("__ROWS__", rows), params)
        return [row["s"] for row in found]

    def _rows(
        self,
        run: RunRef,
        keys: list[str],
        steps: list[int] | None = None,
        between: tuple[int, int] | None = None,
    ) -> list[dict[str, Any]]:
        rows, params = self._visible(run, keys=keys)
        where = _KEYS
        if steps is not None:
            where += " AND step IN {steps:Array(Int64)}"
            params["steps"] = steps
        if between is not None:
            where += " AND step >= {lo:Int64} AND step <= {hi:Int64}"
            params.update(lo=between[0], hi=between[1])
        found = self._storage.query(
            "SELECT key, step, kind, f64, i64, text, timestamp, runtime "
            f"FROM history FINAL WHERE {rows} AND {where} ORDER BY step, key, epoch",
            params,
        )
        return pivot(found)


def _thin(steps: list[int], samples: int) -> list[int]:
    """Only when `samples` is below 5 per key: keep first, last, evenly between."""
    if len(steps) <= samples:
        return steps
    if samples < 2:
        return steps[-samples:] if samples else []
    stride = (len(steps) - 1) / (samples - 1)
    return [steps[round(i * stride)] for i in range(samples)]


def pivot(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Long rows (one per key and step) into one JSON-ready row per step."""
    rows: list[dict[str, Any]] = []
    for item in found:
        if not rows or rows[-1]["_step"] != item["step"]:
            rows.append({"_step": item["step"], "_timestamp": item["timestamp"],
                         "_runtime": item["runtime"]})
        row = rows[-1]
        row["_timestamp"] = max(row["_timestamp"], item["timestamp"])
        row["_runtime"] = max(row["_runtime"], item["runtime"])
        row[item["key"]] = values.encode(typed_value(item))
    return rows


def typed_value(item: dict[str, Any]) -> Any:
    """The value exactly as logged, from its kind and typed columns."""
    kind = item["kind"]
    if kind == FLOAT:
        return float(item["f64"])
    if kind == INT:
        return int(item["i64"])
    if kind == BOOL:
        return bool(item["i64"])
    if kind == BIGINT:
        return int(item["text"])
    if kind == JSON:
        return json.loads(item["text"])
    return item["text"]
