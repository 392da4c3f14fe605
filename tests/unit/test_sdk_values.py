"""Values keep their exact kind: NaN, ±Infinity, bools, big ints, numpy, tensors."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import math

import numpy as np
import pytest
from lodestar import history
from sdk_support import bodies, by_step, offline, workdir  # noqa: F401


class FakeTensor:
    """Shaped like a torch tensor: torch itself is never imported."""

    def __init__(self, value, ndim=0):
        self._value = value
        self.ndim = ndim

    def item(self):
        return self._value

    def numel(self):
        return 1 if self.ndim == 0 else len(self._value)

    def detach(self):
        return self

    def cpu(self):
        return self

    def tolist(self):
        return self._value


@pytest.mark.parametrize(
    ("value", "kind", "payload"),
    [
        (1.5, history.FLOAT, 1.5),
        (7, history.INT, 7),
        (2**63 - 1, history.INT, 2**63 - 1),
        (2**63, history.BIGINT, str(2**63)),
        (-(2**70), history.BIGINT, str(-(2**70))),
        (True, history.BOOL, 1),
        (False, history.BOOL, 0),
        ("text", history.TEXT, "text"),
        (None, history.JSON, "null"),
        ([1, 2.5, "x"], history.JSON, '[1,2.5,"x"]'),
        (np.float32(0.1), history.FLOAT, float(np.float32(0.1))),
        (np.int64(-3), history.INT, -3),
        (np.uint64(2**64 - 1), history.BIGINT, str(2**64 - 1)),
        (np.bool_(True), history.BOOL, 1),
        (np.array([[1, 2]]), history.JSON, "[[1,2]]"),
    ],
)
def test_classify_gives_exact_kind(value, kind, payload):
    assert history.classify(value) == (kind, payload)


def test_classify_rejects_unstorable_values():
    with pytest.raises(history.Unserializable, match="type object"):
        history.classify(object())


def test_snapshot_turns_zero_d_arrays_and_tensors_into_scalars():
    array = np.array(2.5, dtype=np.float32)
    copied = history.snapshot(array)
    array[()] = 9
    assert history.classify(copied) == (history.FLOAT, 2.5)
    assert history.snapshot(FakeTensor(3)) == 3
    assert history.snapshot(FakeTensor(True)) is True
    assert history.snapshot(FakeTensor([1, 2], ndim=1)) == [1, 2]


def test_every_kind_round_trips_through_the_wal(workdir):
    run = offline(workdir)
    logged = {
        "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "flag": True,
        "off": np.bool_(False), "big": 2**100, "neg": -(2**64), "i": 42,
        "np32": np.float32(0.1), "np64": np.float64(1e-300), "zero_d": np.array(7),
        "tensor": FakeTensor(0.25), "s": "héllo", "lst": [1, None],
    }
    run.log(logged)
    run.finish()
    stored = by_step(run)[0]
    assert math.isnan(stored.pop("nan"))
    assert stored == {
        "inf": math.inf, "ninf": -math.inf, "flag": True, "off": False,
        "big": 2**100, "neg": -(2**64), "i": 42, "np32": float(np.float32(0.1)),
        "np64": 1e-300, "zero_d": 7, "tensor": 0.25, "s": "héllo", "lst": [1, None],
    }
    assert type(stored["flag"]) is bool and type(stored["i"]) is int


def test_batch_header_flags_nonfinite_values(workdir):
    run = offline(workdir)
    run.log({"a": 1.0})
    run.finish()
    run2 = offline(workdir, reinit=True)
    run2.log({"a": 1.0})
    run2.log({"a": math.inf})
    run2.finish()
    [finite] = bodies(run, "history")
    [nonfinite] = bodies(run2, "history")
    assert finite.has_nonfinite is False
    assert nonfinite.has_nonfinite is True


def test_batch_is_columnar_with_kind_changes_split(workdir):
    run = offline(workdir)
    run.log({"a": 1.0, "b": "x"})
    run.log({"a": 2})
    run.log({"a": 3.0})
    run.finish()
    [batch] = bodies(run, "history")
    assert list(batch.steps) == [0, 1, 2]
    assert list(batch.keys) == ["a", "b"]
    assert batch.max_step == 2
    columns = {(c.key, c.kind): c for c in batch.columns}
    floats = columns[("a", history.FLOAT)]
    assert (list(floats.rows), list(floats.f64)) == ([0, 2], [1.0, 3.0])
    ints = columns[("a", history.INT)]
    assert (list(ints.rows), list(ints.i64)) == ([1], [2])
    assert (list(columns[("b", history.TEXT)].rows), columns[("b", 5)].text[0]) == (
        [0],
        "x",
    )


def test_one_batch_holds_at_most_a_thousand_rows(workdir):
    run = offline(workdir)
    for i in range(2500):
        run.log({"x": float(i)})
    run.finish()
    sizes = [len(b.steps) for b in bodies(run, "history")]
    assert sum(sizes) == 2500
    assert max(sizes) == 1000
