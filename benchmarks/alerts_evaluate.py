"""How fast the alerts service judges history batches, by what they hold.

Builds BATCHES columnar history events of ROWS rows and KEYS float metrics
(as the SDK writes them), then times `Evaluator.evaluate` on them in three
cases: no rule watches any key (the common case: dismissed by the header);
a threshold rule watches one key (its column is read and its streak kept in
Redis); every batch holds a NaN (the non-finite scan). Valkey runs locally
in a temporary directory; nothing is paged.

    python benchmarks/alerts_evaluate.py [--batches 2000] [--rows 1000] [--keys 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import redis.asyncio
from lodestar._proto import events_pb2
from lodestar_server.alerts.evaluate import Evaluator
from lodestar_server.alerts.model import Rule
from lodestar_server.alerts.ruling import RuleState
from lodestar_server.alerts.runs import RunBook
from lodestar_server.alerts.settings import AlertsSettings
from lodestar_server.alerts.store import ConfigStore
from lodestar_server.launcher.servers import (
    ServerPorts,
    new_config,
    valkey_child,
    valkey_probe,
)

ENTITY, PROJECT = "bench", "alerts"


def batches(count: int, rows: int, keys: int, nan: bool) -> list:
    found = []
    for index in range(count):
        event = events_pb2.Event(seq=index + 1, timestamp=time.time())
        history = event.history
        steps = range(index * rows, (index + 1) * rows)
        history.steps.extend(steps)
        history.timestamps.extend([time.time()] * rows)
        history.runtimes.extend([1.0] * rows)
        for key in range(keys):
            values = [1.0] * rows
            if nan and key == keys - 1:
                values[-1] = float("nan")
            history.columns.add(key=f"k{key}", kind=events_pb2.FLOAT, f64=values)
            history.keys.append(f"k{key}")
        history.has_nonfinite = nan
        history.max_step = steps[-1]
        found.append(events_pb2.PublishedBatch(
            entity=ENTITY, project=PROJECT, run_id=f"r{index % 50}",
            publisher_id="b" * 32, events=[event]))
    return found


async def timed(evaluator: Evaluator, items: list) -> float:
    started = time.perf_counter()
    now = time.time()
    for batch in items:
        await evaluator.evaluate(batch, now)
    return time.perf_counter() - started


async def run(args: argparse.Namespace, redis_url: str) -> dict:
    client = redis.asyncio.Redis.from_url(redis_url)
    store = ConfigStore()
    settings = AlertsSettings()
    evaluator = Evaluator(store, RunBook(client, "bench:"), RuleState(client, "bench:"),
                          settings)
    points = args.batches * args.rows * args.keys
    results = {}
    plain = batches(args.batches, args.rows, args.keys, nan=False)
    await timed(evaluator, plain[:50])  # learn the 50 runs, connect to Redis
    results["nothing watched"] = await timed(evaluator, plain)
    rule = Rule(id="rb", kind="threshold", entity=ENTITY, project=PROJECT,
                metric="k0", value=5.0, steps=3)
    store._apply(f"rule.{rule.id}", rule.to_json())
    results["one key watched"] = await timed(evaluator, plain)
    store._apply(f"rule.{rule.id}", None)
    with_nan = batches(args.batches, args.rows, args.keys, nan=True)
    results["a NaN in every batch"] = await timed(evaluator, with_nan)
    await client.aclose()
    return {case: {"batches_per_s": round(args.batches / s),
                   "points_per_s": round(points / s)}
            for case, s in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ports = ServerPorts.pick()
        config = new_config(Path(tmp), ports)
        child = valkey_child(config, ports, Path(tmp) / "logs")
        child.start()
        try:
            probe = valkey_probe(config)
            deadline = time.monotonic() + 30
            while not probe() and time.monotonic() < deadline:
                time.sleep(0.05)
            figures = asyncio.run(run(args, config.redis_url))
        finally:
            child.stop()
    print(json.dumps({"batches": args.batches, "rows": args.rows, "keys": args.keys,
                      **figures}, indent=2))


if __name__ == "__main__":
    main()
