"""Chart series for the dashboard: per run and key, bucketed in SQL.

A chart is `buckets` pixels-ish wide, so the query cuts the x range into that
many buckets and returns, per bucket, the last value (the line), the finite
minimum and maximum (the band) and how many values were NaN, +Infinity or
-Infinity (the marked gaps: ``bad`` counts them, ``marks`` names them, as
``"NaN"`` or ``"2 NaN, 1 +Inf"``). When the range holds no more points than
buckets, every logged point comes back as it is: zooming in ends at the raw
data.

The x axis is `_step`, `_runtime` or `_timestamp`; plotting one metric
against another uses the history route's real rows instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..writer.storage import Storage
from . import values

X_COLUMNS = {"_step": "toFloat64(step)", "_runtime": "runtime",
             "_timestamp": "timestamp"}
MAX_BUCKETS = 5000
MAX_SERIES = 400

_WHERE = (
    "entity = {e:String} AND project = {p:String} "
    "AND run_id IN {runs:Array(String)} AND key IN {keys:Array(String)} "
    "AND kind IN (1, 2, 3)"
)
_VALUE = "if(kind = 1, f64, toFloat64(i64))"

_RAW = """
SELECT run_id, key, {x} AS x, {v} AS y, y AS lo, y AS hi,
       toUInt32(NOT isFinite(y)) AS bad, toUInt32(isNaN(y)) AS nan,
       toUInt32(y = inf) AS pinf, toUInt32(y = -inf) AS ninf
FROM history FINAL
WHERE {where} AND x >= {{lo:Float64}} AND x <= {{hi:Float64}}
ORDER BY run_id, key, x, step
"""

_BUCKETED = """
SELECT run_id, key, max(x) AS x, argMax(v, step) AS y,
       minOrNullIf(v, isFinite(v)) AS lo, maxOrNullIf(v, isFinite(v)) AS hi,
       countIf(NOT isFinite(v)) AS bad, countIf(isNaN(v)) AS nan,
       countIf(v = inf) AS pinf, countIf(v = -inf) AS ninf
FROM (
    SELECT run_id, key, step, {x} AS x, {v} AS v,
           least({{b:Int64}} - 1,
                 toInt64(floor((x - {{lo:Float64}}) * {{b:Int64}} / {{span:Float64}})))
           AS bucket
    FROM history FINAL
    WHERE {where} AND x >= {{lo:Float64}} AND x <= {{hi:Float64}}
)
GROUP BY run_id, key, bucket
ORDER BY run_id, key, bucket
"""

_STATS = """
SELECT min(x_min) AS lo, max(x_max) AS hi, max(n) AS most FROM (
    SELECT run_id, key, min({x}) AS x_min, max({x}) AS x_max, count() AS n
    FROM history
    WHERE {where} {window}
    GROUP BY run_id, key
)
"""


class SeriesError(ValueError):
    """A series request the store cannot answer as asked."""

    def __init__(self, what: str, rule: str) -> None:
        self.what = what
        self.rule = rule
        super().__init__(f"{what}: {rule}")


@dataclass(frozen=True)
class SeriesRequest:
    """Which runs and keys, on which x axis, over which range."""

    entity: str
    project: str
    runs: list[str]
    keys: list[str]
    x_axis: str = "_step"
    buckets: int = 600
    lo: float | None = None
    hi: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        if self.x_axis not in X_COLUMNS:
            raise SeriesError(
                f"x_axis {self.x_axis!r}", f"use one of {', '.join(X_COLUMNS)}; "
                "for a metric on the x axis read the history route",
            )
        if not 2 <= self.buckets <= MAX_BUCKETS:
            raise SeriesError(f"buckets={self.buckets}", f"use 2-{MAX_BUCKETS}")
        if len(self.runs) * len(self.keys) > MAX_SERIES:
            raise SeriesError(
                f"{len(self.runs)} runs x {len(self.keys)} keys",
                f"ask for at most {MAX_SERIES} series at once",
            )

    def bind(self, **more: Any) -> dict[str, Any]:
        return {"e": self.entity, "p": self.project, "runs": self.runs,
                "keys": self.keys, **more}


def read_series(storage: Storage, request: SeriesRequest) -> dict[str, Any]:
    """The series of every (run, key), and whether buckets were used."""
    request.check()
    if not request.runs or not request.keys:
        return _answer([], request, None, None, False)
    lo, hi, most = _range(storage, request)
    if lo is None or hi is None:
        return _answer([], request, None, None, False)
    sampled = most > request.buckets
    sql = _BUCKETED if sampled else _RAW
    x = X_COLUMNS[request.x_axis]
    span = (hi - lo) or 1.0
    found = storage.query(
        sql.format(x=x, v=_VALUE, where=_WHERE),
        request.bind(lo=lo, hi=hi, b=request.buckets, span=span),
    )
    return _answer(_group(found), request, lo, hi, sampled)


def _range(
    storage: Storage, request: SeriesRequest
) -> tuple[float | None, float | None, int]:
    x = X_COLUMNS[request.x_axis]
    window = ""
    params = request.bind()
    if request.lo is not None and request.hi is not None:
        window = f"AND {x} >= {{lo:Float64}} AND {x} <= {{hi:Float64}}"
        params.update(lo=request.lo, hi=request.hi)
    rows = storage.query(_STATS.format(x=x, where=_WHERE, window=window), params)
    row = rows[0] if rows else {}
    lo, hi = row.get("lo"), row.get("hi")
    if lo is None or hi is None or not math.isfinite(lo) or not row.get("most"):
        return None, None, 0
    return float(lo), float(hi), int(row["most"])


def _group(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    series: list[dict[str, Any]] = []
    for row in found:
        if not series or (series[-1]["run"], series[-1]["key"]) != (
            row["run_id"], row["key"]
        ):
            series.append({"run": row["run_id"], "key": row["key"], "x": [],
                           "y": [], "lo": [], "hi": [], "bad": [], "marks": []})
        current = series[-1]
        current["x"].append(row["x"])
        current["y"].append(values.encode(row["y"]))
        current["lo"].append(_finite(row["lo"]))
        current["hi"].append(_finite(row["hi"]))
        current["bad"].append(int(row["bad"]))
        current["marks"].append(_marks(row))
    return series


_KINDS = (("nan", "NaN"), ("pinf", "+Inf"), ("ninf", "-Inf"))


def _marks(row: dict[str, Any]) -> str:
    """Which non-finite values a point or bucket held: "", "NaN", "2 NaN, 1 +Inf"."""
    found = [(int(row[column]), name) for column, name in _KINDS if row[column]]
    if len(found) == 1 and found[0][0] == 1:
        return found[0][1]
    return ", ".join(f"{count} {name}" for count, name in found)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _answer(
    series: list[dict[str, Any]],
    request: SeriesRequest,
    lo: float | None,
    hi: float | None,
    sampled: bool,
) -> dict[str, Any]:
    return {"series": series, "x_axis": request.x_axis, "range": [lo, hi],
            "sampled": sampled, "buckets": request.buckets}
