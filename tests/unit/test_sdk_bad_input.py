"""Bad input gives one clear warning; the run and the other keys go on."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import time
from collections import deque

import pytest
from lodestar import LodestarWarning
from sdk_support import by_step, offline, workdir  # noqa: F401


class Opaque:
    pass


def test_unserializable_value_is_dropped_with_key_and_step(workdir):
    run = offline(workdir)
    dropped = r"key 'model' at step 0 was dropped.*Opaque"
    with pytest.warns(LodestarWarning, match=dropped):
        run.log({"model": Opaque(), "loss": 0.5})
        run.finish()
    assert by_step(run) == {0: {"loss": 0.5}}


def test_empty_key_is_dropped(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match="an empty key at step 0 was dropped"):
        run.log({"": 1.0, "ok": 2.0})
        run.finish()
    assert by_step(run) == {0: {"ok": 2.0}}


def test_key_over_256_characters_is_dropped(workdir):
    run = offline(workdir)
    long_key = "k" * 300
    with pytest.warns(LodestarWarning, match=r"\(300 characters\) at step 0"):
        run.log({long_key: 1.0, "k" * 256: 2.0})
        run.finish()
    assert by_step(run) == {0: {"k" * 256: 2.0}}


def test_ten_megabyte_string_is_dropped(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match=r"'blob' at step 1 .*10\.0 MB.*1 MB"):
        run.log({"a": 1})
        run.log({"blob": "x" * (10 << 20), "a": 2})
        run.log({"a": 3})
        run.finish()
    assert by_step(run) == {0: {"a": 1}, 1: {"a": 2}, 2: {"a": 3}}


def test_call_over_25_megabytes_drops_largest_values(workdir):
    run = offline(workdir)
    big = {f"s{i}": "y" * (900 << 10) for i in range(30)}
    with pytest.warns(LodestarWarning, match="over the 25 MB limit"):
        run.log({**big, "small": 1.0})
        run.finish()
    stored = by_step(run)[0]
    assert stored["small"] == 1.0
    assert sum(len(v) for k, v in stored.items() if k != "small") <= 25 << 20
    assert len(stored) == 1 + 28  # 30 × 900 KB is 26.4 MB: two go


def test_non_dict_data_warns_once_and_run_goes_on(workdir):
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match="could not record values"):
        run.log([1, 2])
    run.log({"a": 1})
    run.finish()
    assert by_step(run) == {0: {"a": 1}}


def test_full_queue_blocks_briefly_then_drops_with_one_warning(workdir):
    run = offline(workdir)
    run._full_queue_wait = 0.05
    run._queue_limit = 2
    run._queue = deque()  # a queue the writer never drains: a stuck disk
    with pytest.warns(LodestarWarning, match="values are dropped") as seen:
        started = time.monotonic()
        for i in range(5):
            run.log({"a": i})
        elapsed = time.monotonic() - started
    assert sum("dropped" in str(w.message) for w in seen) == 1
    assert [item[1] for item in run._queue] == [0, 1]
    assert 0.05 <= elapsed < 1.0
    run._queue = run._writer.queue
    run.log({"a": 9}, step=9)
    run.finish()
    assert by_step(run) == {9: {"a": 9}}
