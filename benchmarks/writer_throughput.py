"""Float points per second from published batches into chDB.

Measures the writer's own path, without the bus: decode `PublishedBatch`
messages, turn them into rows, insert them through the storage interface and
record progress (`Applier.apply`). The messages look like the SDK's: 1,000
rows of 10 float keys per history event, one event per message.

    .venv/bin/python benchmarks/writer_throughput.py [--points 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from lodestar._proto import events_pb2
from lodestar_server.writer.applier import Applier, Incoming
from lodestar_server.writer.migrations import migrate
from lodestar_server.writer.storage import ChdbStorage

ROWS_PER_EVENT = 1000
KEYS = [f"metric_{i}" for i in range(10)]


def _messages(points: int) -> list[Incoming]:
    rng = np.random.default_rng(0)
    per_message = ROWS_PER_EVENT * len(KEYS)
    messages = []
    for index in range(points // per_message):
        steps = np.arange(index * ROWS_PER_EVENT, (index + 1) * ROWS_PER_EVENT)
        history = events_pb2.HistoryBatch(
            steps=steps.tolist(), timestamps=(steps * 0.01).tolist(),
            runtimes=(steps * 0.01).tolist(),
            columns=[events_pb2.Column(key=key, kind=events_pb2.FLOAT,
                                       f64=rng.normal(size=ROWS_PER_EVENT).tolist())
                     for key in KEYS],
        )
        batch = events_pb2.PublishedBatch(
            entity="bench", project="throughput", run_id="run", publisher_id="w" * 32,
            events=[events_pb2.Event(seq=index + 1, history=history)],
        )
        messages.append(Incoming(batch.SerializeToString(), index + 1))
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--fetch", type=int, default=256,
                        help="messages per apply, as the consumer fetches them")
    args = parser.parse_args()
    messages = _messages(args.points)
    with tempfile.TemporaryDirectory() as tmp:
        storage = ChdbStorage(f"{tmp}/chdb")
        migrate(storage)
        applier = Applier(storage)
        started = time.perf_counter()
        rows = 0
        for first in range(0, len(messages), args.fetch):
            rows += applier.apply(messages[first:first + args.fetch]).rows
        elapsed = time.perf_counter() - started
        stored = storage.query("SELECT count() AS n FROM history")[0]["n"]
        storage.close()
    print(f"points written: {rows:,} (stored rows: {stored:,})")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"writer throughput: {rows / elapsed:,.0f} points/s")


if __name__ == "__main__":
    main()
