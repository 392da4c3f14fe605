"""The step rules of log(), read back from the WAL of offline runs."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import sys
import threading
import time

import pytest
from lodestar import LodestarWarning
from lodestar.steps import StepRanges
from sdk_support import by_step, offline, rows, workdir  # noqa: F401


def test_steps_advance_by_one_per_committed_call(workdir):
    run = offline(workdir)
    for i in range(3):
        run.log({"loss": float(i)})
    run.finish()
    assert by_step(run) == {0: {"loss": 0.0}, 1: {"loss": 1.0}, 2: {"loss": 2.0}}


def test_commit_false_merges_into_the_current_row(workdir):
    run = offline(workdir)
    run.log({"a": 1}, commit=False)
    run.log({"b": 2}, commit=False)
    assert run.step == 0
    run.log({"c": 3})
    run.log({"a": 4})
    run.finish()
    assert by_step(run) == {0: {"a": 1, "b": 2, "c": 3}, 1: {"a": 4}}


def test_pending_row_is_stored_at_finish(workdir):
    run = offline(workdir)
    run.log({"a": 1}, commit=False)
    run.finish()
    assert by_step(run) == {0: {"a": 1}}


def test_explicit_step_is_stored_at_once(workdir):
    run = offline(workdir)
    run.log({"acc": 0.5}, step=7)
    run.summary.get("acc")  # waits until the writer has taken the row in
    assert [r[0] for r in rows_now(run)] == [7]
    run.finish()


def rows_now(run):
    run._flush(to_disk=True)
    return rows(run)


def test_lower_explicit_step_is_stored_and_counter_continues(workdir):
    run = offline(workdir)
    for _ in range(5):
        run.log({"x": 1})
    run.log({"late": 2}, step=2)
    run.log({"x": 6})
    run.finish()
    stored = by_step(run)
    assert stored[2] == {"x": 1, "late": 2}
    assert stored[5] == {"x": 6}
    assert sorted(stored) == [0, 1, 2, 3, 4, 5]


def test_counter_continues_after_highest_explicit_step(workdir):
    run = offline(workdir)
    run.log({"a": 1}, step=10)
    run.log({"a": 2}, step=3)
    run.log({"a": 3})
    run.finish()
    assert by_step(run) == {10: {"a": 1}, 3: {"a": 2}, 11: {"a": 3}}


def test_same_key_same_step_replaces_with_one_warning(workdir):
    run = offline(workdir)
    run.log({"a": 1.0, "b": 1.0}, step=4)
    with pytest.warns(LodestarWarning, match="'a' was logged again at step 4") as seen:
        run.log({"a": 2.0}, step=4)
        run.log({"a": 3.0}, step=4)
        run.finish()
    assert sum("logged again" in str(w.message) for w in seen) == 1
    assert by_step(run) == {4: {"a": 3.0, "b": 1.0}}
    last_rows = [r for r in rows(run) if r[0] == 4]
    assert [r[3].get("a") for r in last_rows] == [1.0, 2.0, 3.0]


def test_commit_false_with_explicit_step_holds_until_commit(workdir):
    run = offline(workdir)
    run.log({"a": 1}, step=3, commit=False)
    run.log({"b": 2})
    run.log({"c": 3})
    run.finish()
    assert by_step(run) == {3: {"a": 1, "b": 2}, 4: {"c": 3}}


def test_every_row_is_stamped_at_log_time(workdir):
    run = offline(workdir)
    before = time.time()
    run.log({"a": 1})
    after = time.time()
    run.finish()
    [(step, stamp, runtime, _)] = rows(run)
    assert step == 0
    assert before <= stamp <= after
    assert runtime == pytest.approx(stamp - run.start_time)


def test_nested_dicts_flatten_to_dotted_keys(workdir):
    run = offline(workdir)
    run.log({"train": {"loss": 0.5, "opt": {"lr": 0.1}}, "epoch": 1})
    run.finish()
    assert by_step(run) == {0: {"train.loss": 0.5, "train.opt.lr": 0.1, "epoch": 1}}


def test_values_are_copied_when_logged(workdir):
    run = offline(workdir)
    data = {"a": [1, 2], "n": {"b": 1}}
    run.log(data)
    data["a"].append(3)
    data["n"]["b"] = 2
    run.finish()
    assert by_step(run) == {0: {"a": [1, 2], "n.b": 1}}


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_step_warns_and_run_goes_on(workdir, bad):
    run = offline(workdir)
    with pytest.warns(LodestarWarning, match="step="):
        run.log({"a": 1}, step=bad)
    run.log({"a": 2})
    run.finish()
    assert by_step(run) == {0: {"a": 2}}


def test_step_ranges_detect_repeats_in_any_order():
    seen = StepRanges()
    for step in [0, 1, 2, 10, 5, 4, 6, 3, 11, 7, 8, 9]:
        assert seen.add(step) is False
    assert (seen.starts, seen.ends) == ([0], [11])
    assert all(seen.add(step) for step in range(12))
    assert 12 not in seen


def test_log_from_several_threads_gives_each_row_its_own_step(workdir):
    # switch threads as often as the interpreter allows, to meet the races
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _log_from_threads(workdir)
    finally:
        sys.setswitchinterval(previous)


def _log_from_threads(workdir):
    run = offline(workdir, settings={"system_metrics": False, "console": "off"})
    threads, per_thread = 4, 5_000
    start = threading.Barrier(threads)

    def log_rows(index: int) -> None:
        start.wait()
        for i in range(per_thread):
            run.log({f"t{index}": float(i)})

    workers = [threading.Thread(target=log_rows, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    run.finish()

    stored = rows(run)
    assert [step for step, *_ in stored] == list(range(threads * per_thread))
    for index in range(threads):
        mine = [values[f"t{index}"] for *_, values in stored if f"t{index}" in values]
        assert mine == [float(i) for i in range(per_thread)]
