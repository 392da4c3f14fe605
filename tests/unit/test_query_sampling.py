"""History sampling in SQL, on a chDB store in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from lodestar_server.query.history import HistoryReader, RunRef
from lodestar_server.writer.migrations import migrate
from lodestar_server.writer.storage import ChdbStorage

RUN = RunRef("ent", "proj", "run")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStorage]:
    path: Path = tmp_path_factory.mktemp("sampling") / "chdb"
    storage = ChdbStorage(str(path))
    migrate(storage)
    yield storage
    storage.close()


def _log(store: ChdbStorage, run_id: str, key: str, steps: np.ndarray,
         values: np.ndarray) -> None:
    count = len(steps)
    store.insert("history", {
        "entity": ["ent"] * count, "project": ["proj"] * count,
        "run_id": [run_id] * count, "key": [key] * count,
        "step": steps.astype(np.int64), "kind": np.ones(count, dtype=np.uint8),
        "f64": values.astype(np.float64), "timestamp": steps.astype(np.float64),
        "runtime": steps * 0.5, "version": np.ones(count, dtype=np.uint64),
    })


def test_spikes_and_both_ends_survive_sampling(store: ChdbStorage) -> None:
    steps = np.arange(5, 20_005)
    loss = np.linspace(1.0, 0.0, len(steps))
    loss[7000] = 99.0
    loss[12345] = -99.0
    _log(store, "spiky", "loss", steps, loss)
    run = RunRef("ent", "proj", "spiky")

    result = HistoryReader(store).sample(run, ["loss"], 200)
    chosen = [row["_step"] for row in result["rows"]]

    assert result["sampled"] is True and len(chosen) <= 200
    assert {5, 20_004, 7005, 12350} <= set(chosen)
    assert chosen == sorted(chosen)
    assert all(row["loss"] == loss[row["_step"] - 5] for row in result["rows"])


def test_sampling_is_deterministic(store: ChdbStorage) -> None:
    rng = np.random.default_rng(3)
    _log(store, "noisy", "a", np.arange(30_000), rng.normal(size=30_000))
    _log(store, "noisy", "b", np.arange(0, 30_000, 3), rng.normal(size=10_000))
    run = RunRef("ent", "proj", "noisy")
    reader = HistoryReader(store)

    first = reader.sample(run, ["a", "b"], 500)["rows"]
    second = reader.sample(run, ["a", "b"], 500)["rows"]

    assert first == second
    assert len(first) <= 500
    assert {0, 29_999, 29_997} <= {row["_step"] for row in first}


def test_few_rows_come_back_whole(store: ChdbStorage) -> None:
    _log(store, "small", "x", np.arange(10), np.arange(10) * 1.5)

    result = HistoryReader(store).sample(RunRef("ent", "proj", "small"), ["x"], 500)

    assert result["sampled"] is False
    assert [row["x"] for row in result["rows"]] == [i * 1.5 for i in range(10)]


def test_scan_pages_through_every_step_in_order(store: ChdbStorage) -> None:
    _log(store, "scan", "x", np.arange(0, 250, 2), np.arange(125) * 1.0)
    reader = HistoryReader(store)
    run = RunRef("ent", "proj", "scan")

    seen, start = [], -(2**63)
    while start is not None:
        page = reader.scan(run, ["x"], start, 2**63 - 1, 40)
        seen += [row["_step"] for row in page["rows"]]
        start = page["next_min_step"]

    assert seen == list(range(0, 250, 2))
