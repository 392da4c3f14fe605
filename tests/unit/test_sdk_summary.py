"""The summary: last values, define_metric rules and globs, user edits."""

# ruff: noqa: F811 - the `workdir` fixture is imported from sdk_support

from __future__ import annotations

import json
import math

import lodestar
import pytest
from lodestar import UsageError
from sdk_support import bodies, offline, workdir  # noqa: F401


def final_summary(run) -> dict:
    updates = bodies(run, "summary")
    merged: dict = {}
    for update in updates:
        merged.update(json.loads(update.set_json))
        for key in update.remove:
            merged.pop(key, None)
    return merged


def test_summary_keeps_last_value_by_default(workdir):
    run = offline(workdir)
    for value in [3.0, 1.0, 2.0]:
        run.log({"loss": value, "nested": {"acc": value / 4}})
    assert run.summary["loss"] == 2.0
    assert run.summary["nested"] == {"acc": 0.5}
    assert run.summary["nested.acc"] == 0.5
    assert run.summary["_step"] == 2
    run.finish()
    stored = final_summary(run)
    assert (stored["loss"], stored["nested.acc"], stored["_step"]) == (2.0, 0.5, 2)
    on_disk = json.loads((workdir / run.run_dir / "files" / "lodestar-summary.json")
                         .read_text())
    assert on_disk == stored


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("min", {"loss.min": 1.0}),
        ("max", {"loss.max": 4.0}),
        ("mean", {"loss.mean": 2.5}),
        ("first", {"loss.first": 4.0}),
        ("last", {"loss": 2.0}),
        ("min,max", {"loss.min": 1.0, "loss.max": 4.0}),
        ("none", {}),
    ],
)
def test_define_metric_summary_rules(workdir, rule, expected):
    run = offline(workdir)
    run.define_metric("loss", summary=rule)
    for value in [4.0, 1.0, 3.0, 2.0]:
        run.log({"loss": value})
    run.finish()
    stored = {k: v for k, v in final_summary(run).items() if k.startswith("loss")}
    assert stored == expected


def test_define_metric_glob_and_step_metric_are_recorded(workdir):
    run = offline(workdir)
    lodestar.define_metric("val/*", step_metric="epoch", summary="max")
    run.log({"val/acc": 0.5, "val/f1": 0.2, "train/acc": 0.1})
    run.log({"val/acc": 0.4, "val/f1": 0.3, "train/acc": 0.2})
    run.finish()
    stored = final_summary(run)
    assert (stored["val/acc.max"], stored["val/f1.max"], stored["train/acc"]) == (
        0.5, 0.3, 0.2,
    )
    assert "val/acc" not in stored
    [define] = bodies(run, "define_metric")
    assert (define.name, define.step_metric) == ("val/*", "epoch")
    assert define.summary == "max"


def test_min_ignores_nan(workdir):
    run = offline(workdir)
    run.define_metric("loss", summary="min")
    for value in [math.nan, 2.0, 1.5]:
        run.log({"loss": value})
    assert run.summary["loss"] == {"min": 1.5}
    run.finish()


def test_unknown_summary_rule_is_a_usage_error(workdir):
    run = offline(workdir)
    with pytest.raises(UsageError, match="summary='median'"):
        run.define_metric("loss", summary="median")
    run.finish()


def test_summary_set_update_and_delete(workdir):
    run = offline(workdir)
    run.log({"acc": 0.1})
    run.summary["best"] = 0.9
    run.summary.update({"extra": {"a": 1}})
    del run.summary["acc"]
    assert "acc" not in run.summary
    assert run.summary.as_dict()["extra.a"] == 1
    run.finish()
    stored = final_summary(run)
    assert (stored["best"], stored["extra.a"], "acc" in stored) == (0.9, 1, False)
