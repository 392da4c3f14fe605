"""`Run.history` sampling and `Run.scan_history` streaming through `Api`."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from lodestar._proto import events_pb2
from query_support import QueryPlatform, run_start, start_query_platform

pytestmark = pytest.mark.timeout(240)
PROJECT = "history"
SCAN_STEPS = 200_000


@pytest.fixture(scope="module")
def platform(servers: Any, tmp_path_factory: Any) -> Iterator[QueryPlatform]:
    yield from start_query_platform(servers, tmp_path_factory.mktemp("history"))


def _history(seq: int, steps: range, **columns: list[float]) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            history=events_pb2.HistoryBatch(
        steps=list(steps), timestamps=[1000.0 + s for s in steps],
        runtimes=[float(s) for s in steps],
        columns=[events_pb2.Column(key=k, kind=events_pb2.FLOAT, f64=v)
                 for k, v in columns.items()],
    ))


def _system(seq: int, count: int) -> events_pb2.Event:
    return events_pb2.Event(seq=seq, timestamp=time.time(),
                            system=events_pb2.SystemMetrics(
        timestamps=[2000.0 + i for i in range(count)],
        columns=[events_pb2.Column(key="cpu", kind=events_pb2.FLOAT,
                                   f64=[float(i) for i in range(count)])],
    ))


def test_sampling_keeps_an_injected_spike_and_the_last_step(
    platform: QueryPlatform,
) -> None:
    steps = range(20_000)
    loss = [1.0 / (1 + s) for s in steps]
    loss[12_345] = 1e6
    acc = [0.5] * len(steps)
    acc[777] = -3.0
    platform.feed(PROJECT, "spiky", run_start(1.0, "spiky", {}),
                  _history(2, steps, loss=loss, acc=acc), _system(3, 50))
    run = platform.api().run(f"{platform.user}/{PROJECT}/spiky")

    rows = run.history(samples=60, pandas=False)
    again = run.history(samples=60, pandas=False)
    system = run.history(samples=10, stream="events", pandas=False)

    chosen = [row["_step"] for row in rows]
    assert rows == again
    assert len(rows) <= 60
    assert {0, 777, 12_345, 19_999} <= set(chosen)
    assert all(row["loss"] == loss[row["_step"]] for row in rows)
    assert max(row["loss"] for row in rows) == 1e6
    assert min(row["acc"] for row in rows) == -3.0
    assert len(system) == 10 and system[-1]["cpu"] == 49.0


SCAN_CLIENT = """
import json, resource, sys, tracemalloc
import lodestar
api = lodestar.Api(overrides={"base_url": sys.argv[1]}, api_key=sys.argv[2])
run = api.run(sys.argv[3])
tracemalloc.start()
count, last, ordered, first_peak = 0, -1, True, 0
for row in run.scan_history(keys=["v"], page_size=5000):
    ordered = ordered and row["_step"] == last + 1 and row["v"] == row["_step"] / 2
    last = row["_step"]
    count += 1
    if count == 5000:
        first_peak = tracemalloc.get_traced_memory()[1]
        first_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"count": count, "ordered": ordered, "first_peak": first_peak,
                  "peak": peak, "rss_growth_kb": rss - first_rss}))
"""


def test_scan_history_streams_200k_steps_in_constant_memory(
    platform: QueryPlatform,
) -> None:
    chunk = 20_000
    events = [run_start(1.0, "long", {})]
    for index, first in enumerate(range(0, SCAN_STEPS, chunk)):
        steps = range(first, first + chunk)
        events.append(_history(index + 2, steps, v=[s / 2 for s in steps]))
    platform.feed(PROJECT, "long", *events)

    done = subprocess.run(
        [sys.executable, "-c", SCAN_CLIENT, platform.base_url, platform.key,
         f"{platform.user}/{PROJECT}/long"],
        capture_output=True, text=True, timeout=200, check=True,
    )
    found = json.loads(done.stdout)

    assert found["count"] == SCAN_STEPS
    assert found["ordered"] is True
    # memory after 40 pages is what it was after the first one, give or take
    assert found["peak"] - found["first_peak"] < 2 * 1024 * 1024
    assert found["rss_growth_kb"] < 16 * 1024
    print(f"scan of {SCAN_STEPS} steps: traced peak {found['peak'] / 1e6:.1f} MB, "
          f"RSS growth after the first page {found['rss_growth_kb'] / 1024:.1f} MB")


def test_nonfinite_values_survive_sampling(platform: QueryPlatform) -> None:
    values = [float(s) for s in range(3000)]
    values[1500] = math.nan
    platform.feed(PROJECT, "nan", run_start(1.0, "nan", {}),
                  _history(2, range(3000), x=values))

    rows = platform.api().run(f"{platform.user}/{PROJECT}/nan").history(
        samples=30, pandas=False)

    assert any(row["_step"] == 1500 and math.isnan(row["x"]) for row in rows)
