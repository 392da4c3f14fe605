"""Chart series in SQL: buckets with bands, raw points when zoomed, marked gaps."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from lodestar_server.query.dashboard_series import (
    SeriesError,
    SeriesRequest,
    read_series,
)
from lodestar_server.writer.migrations import migrate
from lodestar_server.writer.storage import Storage, make_storage

pytestmark = pytest.mark.timeout(120)
ENTITY, PROJECT, RUN = "me", "charts", "dense"
POINTS = 2000
BAD = {100: math.nan, 200: math.inf, 300: -math.inf, 301: math.nan}


def _rows(key: str, values: np.ndarray) -> dict:
    n = len(values)
    steps = np.arange(n, dtype=np.int64)
    return {
        "entity": [ENTITY] * n, "project": [PROJECT] * n, "run_id": [RUN] * n,
        "key": [key] * n, "step": steps, "epoch": np.zeros(n, dtype=np.uint32),
        "timestamp": 1.7e9 + steps * 0.5, "runtime": steps * 0.5,
        "kind": np.ones(n, dtype=np.uint8), "f64": values,
        "i64": np.zeros(n, dtype=np.int64), "text": [""] * n,
        "publisher_id": ["test"] * n, "seq": steps.astype(np.uint64),
        "version": steps.astype(np.uint64),
    }


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storage]:
    folder: Path = tmp_path_factory.mktemp("series")
    store = make_storage(f"chdb://{folder}/chdb")
    migrate(store)
    values = np.sin(np.arange(POINTS) / 40.0)
    for step, value in BAD.items():
        values[step] = value
    store.insert("history", _rows("wave", values))
    yield store
    store.close()


def _read(storage: Storage, **asked: object) -> dict:
    return read_series(storage, SeriesRequest(ENTITY, PROJECT, [RUN], ["wave"],
                                              **asked))  # type: ignore[arg-type]


def test_a_long_series_comes_back_in_buckets_with_bands(storage: Storage):
    found = _read(storage, buckets=100)

    line = found["series"][0]
    assert found["sampled"] is True
    assert found["range"] == [0.0, float(POINTS - 1)]
    assert len(line["x"]) == 100
    assert all(lo <= hi for lo, hi in zip(line["lo"], line["hi"], strict=True))
    assert min(line["lo"]) == pytest.approx(-1.0, abs=1e-3)
    assert max(line["hi"]) == pytest.approx(1.0, abs=1e-3)


def test_buckets_name_the_non_finite_values_they_hold(storage: Storage):
    found = _read(storage, buckets=100)  # 20 steps a bucket

    line = found["series"][0]
    marked = {int(x): mark for x, mark in zip(line["x"], line["marks"], strict=True)
              if mark}
    assert marked == {119: "NaN", 219: "+Inf", 319: "1 NaN, 1 -Inf"}
    assert sum(line["bad"]) == len(BAD)


def test_a_zoomed_range_comes_back_as_the_raw_points(storage: Storage):
    found = _read(storage, buckets=800, lo=150.0, hi=350.0)

    line = found["series"][0]
    assert found["sampled"] is False
    assert line["x"] == [float(step) for step in range(150, 351)]
    at = dict(zip(line["x"], zip(line["y"], line["marks"], strict=True), strict=True))
    assert at[200.0] == ("Infinity", "+Inf")
    assert at[300.0] == ("-Infinity", "-Inf")
    assert at[301.0] == ("NaN", "NaN")
    assert at[150.0][1] == ""


def test_runtime_is_an_x_axis_too(storage: Storage):
    found = _read(storage, x_axis="_runtime", buckets=800, lo=0.0, hi=10.0)

    assert found["series"][0]["x"] == [step * 0.5 for step in range(21)]


def test_an_unknown_x_axis_is_refused_with_the_choices(storage: Storage):
    with pytest.raises(SeriesError) as caught:
        _read(storage, x_axis="loss")

    assert str(caught.value) == (
        "x_axis 'loss': use one of _step, _runtime, _timestamp; for a metric on "
        "the x axis read the history route")
