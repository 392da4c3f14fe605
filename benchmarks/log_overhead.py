"""How long ``log()`` of 10 float scalars takes in the calling thread.

Offline mode, so no server is needed. Prints the median and p99 microseconds
per call over single timed calls (in rounds of 10,000, letting the writer
thread catch up between rounds, so that the figures are the caller's own cost
and not waits on a full queue), and the calls per second sustained over one
long loop including the time the writer thread needs to put every row in the
WAL (``finish()`` is inside the timed region).

    .venv/bin/python benchmarks/log_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings

import lodestar

KEYS = [f"metric_{i}" for i in range(10)]


ROUND = 10_000


def timed_calls(run: lodestar.Run, calls: int) -> list[float]:
    """Microseconds of each of `calls` single log() calls."""
    clock = time.perf_counter_ns
    samples = []
    for first in range(0, calls, ROUND):
        rows = [
            {key: step * 0.001 + i for i, key in enumerate(KEYS)}
            for step in range(first, min(calls, first + ROUND))
        ]
        for row in rows:
            start = clock()
            run.log(row)
            samples.append((clock() - start) / 1000)
        run.summary.get("_step")  # waits until the writer has taken every row
    return samples


def sustained(directory: str, calls: int) -> float:
    """log() calls per second, until the writer has stored every row."""
    run = lodestar.init(project="bench", mode="offline", dir=directory, reinit=True)
    rows = [
        {key: step * 0.001 + i for i, key in enumerate(KEYS)} for step in range(calls)
    ]
    start = time.perf_counter()
    for row in rows:
        run.log(row)
    run.finish()
    return calls / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    warnings.simplefilter("error", lodestar.LodestarWarning)
    with tempfile.TemporaryDirectory() as directory:
        run = lodestar.init(project="bench", mode="offline", dir=directory)
        timed_calls(run, 10_000)  # warm up
        samples = sorted(timed_calls(run, args.calls))
        run.finish()
        rate = sustained(directory, args.calls)
    median = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99)]
    print(f"log() of {len(KEYS)} float scalars, offline, {args.calls} calls")
    print(f"median  {median:8.2f} µs per call")
    print(f"p99     {p99:8.2f} µs per call")
    print(f"sustained {rate:10,.0f} calls/s (until every row is in the WAL)")


if __name__ == "__main__":
    main()
