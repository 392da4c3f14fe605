"""Server time of the dashboard's two heaviest reads, on chDB.

1. The run page's chart data for a run with POINTS steps of KEYS metrics
   (1,000,000 each by default): the keys, the run's fold, and one bucketed
   series request for every metric, as the page makes them.
   Then one zoomed chart, as a drag asks for it: a tenth of the range
   (still bucketed) and 500 steps of it (the raw points).
2. One page of a filtered, sorted runs table in a project of RUNS runs
   (10,000 by default), as the runs table asks for it.

Rows go straight into a temporary chDB store with the writer's schema, so
only the query service's own work is timed (no HTTP, no browser). Each read
runs REPEAT times; the best and the median are printed.

    python benchmarks/dashboard.py [--points 1000000] [--keys 4] [--runs 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np
from lodestar_server.query.dashboard_series import SeriesRequest, read_series
from lodestar_server.query.dashboard_table import parse_filter
from lodestar_server.query.history import HistoryReader, RunRef
from lodestar_server.query.runs import RunReader
from lodestar_server.query.search import RunSearch
from lodestar_server.writer.migrations import migrate
from lodestar_server.writer.storage import Storage, make_storage

ENTITY, PROJECT = "bench", "dashboard"
FILTER = "config.lr > 0.005 and summary.acc >= 0.5 and state = finished"


def history_rows(run_id: str, key: str, points: int) -> dict:
    steps = np.arange(points, dtype=np.int64)
    values = np.exp(-steps / (points / 5)) + 0.01 * np.sin(steps / 50.0)
    return {
        "entity": [ENTITY] * points, "project": [PROJECT] * points,
        "run_id": [run_id] * points, "key": [key] * points, "step": steps,
        "epoch": np.zeros(points, dtype=np.uint32),
        "timestamp": 1.7e9 + steps * 0.01, "runtime": steps * 0.01,
        "kind": np.ones(points, dtype=np.uint8), "f64": values,
        "i64": np.zeros(points, dtype=np.int64), "text": [""] * points,
        "publisher_id": ["bench"] * points, "seq": steps.astype(np.uint64),
        "version": steps.astype(np.uint64),
    }


def run_fields(runs: int) -> dict:
    rng = np.random.default_rng(7)
    rows: list[tuple[str, str, str, str]] = []
    for i in range(runs):
        run_id = f"run{i:05d}"
        state = "finished" if i % 4 else "running"
        rows += [
            (run_id, "state", "", json.dumps(state)),
            (run_id, "created_at", "bench", json.dumps(1.7e9 + i)),
            (run_id, "name", "", json.dumps(f"trial-{i}")),
            (run_id, "group", "", json.dumps(f"sweep-{i % 20}")),
            (run_id, "config", "lr", json.dumps(float(10 ** rng.uniform(-4, -1)))),
            (run_id, "config", "batch", json.dumps(int(2 ** rng.integers(4, 9)))),
            (run_id, "summary", "acc", json.dumps(float(rng.uniform(0, 1)))),
            (run_id, "summary", "loss", json.dumps(float(rng.uniform(0, 3)))),
        ]
    n = len(rows)
    return {
        "entity": [ENTITY] * n, "project": [PROJECT] * n,
        "run_id": [r[0] for r in rows], "field": [r[1] for r in rows],
        "name": [r[2] for r in rows], "value": [r[3] for r in rows],
        "deleted": np.zeros(n, dtype=np.uint8), "epoch": np.zeros(n, dtype=np.uint32),
        "timestamp": np.full(n, 1.7e9), "publisher_id": ["bench"] * n,
        "seq": np.arange(n, dtype=np.uint64), "version": np.arange(n, dtype=np.uint64),
    }


def timed(label: str, action: Callable[[], object], repeat: int) -> None:
    action()  # warm caches once, as a page already open would have them
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    print(f"{label}: best {min(times) * 1000:.0f} ms, "
          f"median {statistics.median(times) * 1000:.0f} ms")


def run_page(storage: Storage, keys: list[str]) -> None:
    ref = RunRef(ENTITY, PROJECT, "big")
    HistoryReader(storage).keys(ref)
    RunReader(storage).get(ref)
    read_series(storage, SeriesRequest(ENTITY, PROJECT, ["big"], keys))


def zoomed(storage: Storage, key: str, lo: float, hi: float) -> dict:
    return read_series(storage, SeriesRequest(ENTITY, PROJECT, ["big"], [key],
                                              buckets=800, lo=lo, hi=hi))


def table_page(storage: Storage) -> dict:
    search = RunSearch(storage)
    return search.page(ENTITY, PROJECT, parse_filter(FILTER), "-summary_metrics.acc",
                       50, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        storage = make_storage(f"chdb://{folder}/chdb")
        migrate(storage)
        keys = [f"train/metric{k}" for k in range(args.keys)]
        started = time.perf_counter()
        for key in keys:
            storage.insert("history", history_rows("big", key, args.points))
        storage.insert("run_fields", run_fields(args.runs))
        print(f"loaded {args.keys} x {args.points:,} points and {args.runs:,} runs "
              f"in {time.perf_counter() - started:.1f} s")

        timed(f"run page data, {args.keys} metrics x {args.points:,} points",
              lambda: run_page(storage, keys), args.repeat)
        for lo, hi in ((0.45, 0.55), (0.5, 0.5 + 499 / args.points)):
            window = (lo * args.points, hi * args.points)
            points = len(zoomed(storage, keys[0], *window)["series"][0]["x"])
            timed(f"zoomed chart, steps {window[0]:,.0f}-{window[1]:,.0f} "
                  f"({points} points drawn)",
                  lambda w=window: zoomed(storage, keys[0], *w), args.repeat)
        found = table_page(storage)
        timed(f"runs table page of {args.runs:,} runs, filter {FILTER!r} "
              f"({found['total']:,} match), sorted by summary acc",
              lambda: table_page(storage), args.repeat)
        storage.close()


if __name__ == "__main__":
    main()
